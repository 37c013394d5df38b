using KivaSync.AcEmulator;
using KivaSync.Contracts.V1;

namespace KivaSync.SyncService.Tests;

/// <summary>Waiting for syncs and reading lists and tags off the emulator, for the AC-side tests.</summary>
internal static class AcSideHelpers
{
    public static readonly string[] OrderTags = ["Open Order", "Closed Order", "Cancelled Order", "No Order"];

    /// <summary>Waits until the customer (or, with an '@', the lead) is synced, after <paramref name="after"/> when given.</summary>
    public static async Task<CustomerSyncStatus> WaitForSyncedAsync(
        ServiceHarness service, string tenant, string customerIdOrEmail, CustomerSyncStatus? after = null, TimeSpan? timeout = null)
    {
        var request = customerIdOrEmail.Contains('@', StringComparison.Ordinal)
            ? new GetSyncStatusRequest { Tenant = tenant, Email = customerIdOrEmail }
            : new GetSyncStatusRequest { Tenant = tenant, CustomerId = customerIdOrEmail };
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            var status = await service.Api.GetSyncStatusAsync(request);
            if (status.State == SyncState.Synced && (after?.LastSynced is null || status.LastSynced.ToDateTimeOffset() > after.LastSynced.ToDateTimeOffset()))
            {
                return status;
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"{customerIdOrEmail} not synced in time: state {status.State}, error \"{status.Error}\"");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>Waits until <paramref name="condition"/> holds, failing with <paramref name="what"/> after the timeout.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail("timed out waiting for " + what);
            }

            await Task.Delay(50);
        }
    }

    public static EmulatedContact Contact(EmulatedAccount account, string email) =>
        account.Contacts().Single(c => string.Equals(c.Email, email, StringComparison.OrdinalIgnoreCase));

    /// <summary>The contact's status on the named list: 1, 2, or null when never on it.</summary>
    public static int? ListStatus(EmulatedAccount account, string email, string listName)
    {
        var list = account.Lists().SingleOrDefault(l => l.Name == listName);
        if (list is null)
        {
            return null;
        }

        var contact = Contact(account, email);
        return account.ContactLists().SingleOrDefault(m => m.ContactId == contact.Id && m.ListId == list.Id)?.Status;
    }

    /// <summary>The lists the contact is subscribed to, by name, sorted.</summary>
    public static string[] SubscribedLists(EmulatedAccount account, string email)
    {
        var contact = Contact(account, email);
        var names = account.Lists().ToDictionary(l => l.Id, l => l.Name);
        return [.. account.ContactLists().Where(m => m.ContactId == contact.Id && m.Status == 1).Select(m => names[m.ListId]).Order(StringComparer.Ordinal)];
    }

    /// <summary>The contact's order tags (any of the four), by name.</summary>
    public static string[] OrderTagsOf(EmulatedAccount account, string email)
    {
        var contact = Contact(account, email);
        var names = account.Tags().ToDictionary(t => t.Id, t => t.Name);
        return [.. account.ContactTags().Where(a => a.ContactId == contact.Id).Select(a => names[a.TagId]).Where(n => OrderTags.Contains(n))];
    }
}

using KivaSync.SyncService.Provisioning;
using KivaSync.SyncService.Sync;

namespace KivaSync.SyncService.Events;

/// <summary>Events and Deep Data orders: the stores, the follow-ups and the provisioning steps.</summary>
public static class EventsServiceCollectionExtensions
{
    /// <summary>Registers events and orders (one line in AddKivaSync).</summary>
    public static IServiceCollection AddKivaSyncEventsAndOrders(this IServiceCollection services)
    {
        services.AddSingleton<FollowUpStore>();
        services.AddSingleton<EventTrackingSetup>();
        services.AddSingleton<DeepDataSetup>();
        services.AddSingleton<IContactFollowUp, EventsFollowUp>();
        services.AddSingleton<IContactFollowUp, OrdersFollowUp>();
        services.AddHostedService<OrderSender>();
        services.AddSingleton<IProvisioningStep, EventTrackingStep>();
        services.AddSingleton<IProvisioningStep, DeepDataConnectionStep>();
        return services;
    }
}

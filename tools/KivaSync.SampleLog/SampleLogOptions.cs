namespace KivaSync.SampleLog;

/// <summary>What sample log to generate. The same options always give the same bytes.</summary>
public sealed record SampleLogOptions
{
    /// <summary>Seed of the pseudo-random choices.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Tenant id the log belongs to.</summary>
    public string Tenant { get; init; } = "greenleaf";

    /// <summary>Customers that sign up during the log (converted leads included).</summary>
    public int Customers { get; init; } = 200;

    /// <summary>Leads that submit the contact form (some later become customers).</summary>
    public int Leads { get; init; } = 60;

    /// <summary>Length of the log in weeks (7 days each, from <see cref="Start"/>'s UTC date).</summary>
    public int Weeks { get; init; } = 30;

    /// <summary>First day of the log; only its UTC date is used.</summary>
    public DateTimeOffset Start { get; init; } = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Bad lines per valid line (0 for none). Reasons are used in turn, so six bad lines cover them all.</summary>
    public double BadLineRate { get; init; } = 0.01;

    /// <summary>Share of lines that are level/msg noise.</summary>
    public double NoiseRate { get; init; } = 0.05;

    /// <summary>Chance that a line is written twice in a row (exact same bytes).</summary>
    public double DuplicateRate { get; init; } = 0.005;

    /// <summary>Share of entries that carry an "id".</summary>
    public double IdRate { get; init; } = 0.7;

    /// <summary>Adds one line over 262,144 bytes (rejected as too_long) in the middle of the log.</summary>
    public bool IncludeTooLongLine { get; init; }

    /// <summary>Writes the "tenant" key on every line (false: lines rely on the file's configured tenant).</summary>
    public bool WriteTenantKey { get; init; } = true;

    /// <summary>Throws <see cref="ArgumentException"/> with a message a person can act on when an option is out of range.</summary>
    public void Validate()
    {
        if (string.IsNullOrEmpty(Tenant) || Tenant.Length > 63 || !IsTenantChar(Tenant[0], first: true) || !Tenant.All(c => IsTenantChar(c, first: false)))
        {
            throw new ArgumentException($"tenant \"{Tenant}\" must match [a-z0-9][a-z0-9-]{{0,62}}", nameof(Tenant));
        }

        Require(Customers >= 0, nameof(Customers), "customers must be 0 or more");
        Require(Leads >= 0, nameof(Leads), "leads must be 0 or more");
        Require(Weeks is >= 1 and <= 1040, nameof(Weeks), "weeks must be between 1 and 1040");
        Require(Start.Year is >= 1970 and <= 9000, nameof(Start), "start must be a date between 1970 and 9000");
        Require(BadLineRate is >= 0 and <= 0.5, nameof(BadLineRate), "bad-rate must be between 0 and 0.5");
        Require(NoiseRate is >= 0 and < 0.9, nameof(NoiseRate), "noise-rate must be between 0 and 0.9 (exclusive)");
        Require(DuplicateRate is >= 0 and <= 0.5, nameof(DuplicateRate), "duplicate rate must be between 0 and 0.5");
        Require(IdRate is >= 0 and <= 1, nameof(IdRate), "id rate must be between 0 and 1");

        static bool IsTenantChar(char c, bool first) => char.IsAsciiDigit(c) || char.IsAsciiLetterLower(c) || (!first && c == '-');

        static void Require(bool ok, string name, string message)
        {
            if (!ok)
            {
                throw new ArgumentException(message, name);
            }
        }
    }
}

/// <summary>What a generation produced; filled while the lines are enumerated.</summary>
public sealed class SampleLogSummary
{
    /// <summary>Lines written (duplicates and bad lines included).</summary>
    public long Lines { get; internal set; }

    /// <summary>Customers that appeared (signed up, activated or received a gift).</summary>
    public int Customers { get; internal set; }

    /// <summary>Leads that appeared (first contact form).</summary>
    public int Leads { get; internal set; }

    /// <summary>Leads that later became customers with the same email.</summary>
    public int LeadsConverted { get; internal set; }

    /// <summary>Valid lines carrying a catalogue event (duplicates not counted).</summary>
    public long Events { get; internal set; }

    /// <summary>Distinct bad lines (their duplicates not counted).</summary>
    public long BadLines { get; internal set; }

    /// <summary>Noise lines (level/msg only).</summary>
    public long NoiseLines { get; internal set; }

    /// <summary>Extra copies written by <see cref="SampleLogOptions.DuplicateRate"/>.</summary>
    public long DuplicateLines { get; internal set; }

    /// <summary>Distinct bad lines per contract reason name (too_long, invalid_json, ...).</summary>
    public Dictionary<string, long> BadLinesByReason { get; } = new(StringComparer.Ordinal);

    /// <summary>Distinct valid lines per event name as logged (catalogue and "Weekly cycle completed").</summary>
    public Dictionary<string, long> EventsByName { get; } = new(StringComparer.Ordinal);

    /// <summary>The one-line summary the command prints.</summary>
    public override string ToString() =>
        $"lines={Lines} customers={Customers} leads={Leads} leads_converted={LeadsConverted} events={Events} bad_lines={BadLines} noise={NoiseLines} duplicates={DuplicateLines}";
}

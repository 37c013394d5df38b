using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace KivaSync.SyncService.Tests;

/// <summary>Keeps every log message (formatted, with exception text and scope-free state) so tests can search them.</summary>
internal sealed class CapturingLoggerProvider : ILoggerProvider
{
    private readonly ConcurrentQueue<(LogLevel Level, string Category, string Text)> entries = new();

    public IReadOnlyList<(LogLevel Level, string Category, string Text)> Entries => [.. entries];

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturingLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.entries.Enqueue((logLevel, category, formatter(state, exception) + " " + state + " " + exception));
    }
}

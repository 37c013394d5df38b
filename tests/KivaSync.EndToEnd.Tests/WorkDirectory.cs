namespace KivaSync.EndToEnd.Tests;

/// <summary>A fresh temporary directory per test class (logs, checkpoints), removed afterwards.</summary>
public abstract class WorkDirectoryTest : IAsyncLifetime
{
    protected WorkDirectoryTest(string name) =>
        WorkDir = Path.Combine(Path.GetTempPath(), $"kivasync-{name}-" + Guid.NewGuid().ToString("N")[..10]);

    /// <summary>The directory.</summary>
    protected string WorkDir { get; }

    /// <inheritdoc />
    public Task InitializeAsync()
    {
        Directory.CreateDirectory(WorkDir);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task DisposeAsync()
    {
        Directory.Delete(WorkDir, recursive: true);
        return Task.CompletedTask;
    }
}

using System.Text;
using System.Text.Unicode;

namespace KivaSync.SystemLog;

/// <summary>The contract reads invalid UTF-8 as U+FFFD; this makes such bytes valid UTF-8 once, up front.</summary>
public static class Utf8Repair
{
    private static readonly UTF8Encoding Lenient = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);

    /// <summary>True when the bytes are valid UTF-8 and need no repair.</summary>
    public static bool IsValid(ReadOnlySpan<byte> bytes) => Utf8.IsValid(bytes);

    /// <summary>Returns the bytes with every invalid sequence replaced by U+FFFD (EF BF BD).</summary>
    public static byte[] Repair(ReadOnlySpan<byte> bytes) => Lenient.GetBytes(Lenient.GetString(bytes));
}

using System.Text.Json;
using KivaSync.SyncService.Ingest;

namespace KivaSync.SyncService.Tests;

/// <summary>The byte bound on text a batch makes Redis keep per line holds for any text, escaped as stored.</summary>
public sealed class StoredTextTests
{
    public static TheoryData<string> Texts() => new()
    {
        new string('p', 5000),
        string.Concat(Enumerable.Repeat("😀x", 400)),
        string.Concat(Enumerable.Repeat("\"\\\u0001<>&'+é", 300)),
        "short, kept whole",
    };

    [Theory]
    [MemberData(nameof(Texts))]
    public void RejectionRecord_AnyTextAtAnyBound_RecordWithinItsBoundAndTextsCutWithTheMarker(string text)
    {
        for (var max = 16; max <= 300; max += 7)
        {
            var record = StoredText.RejectionRecord("malformed_date", text, text, ulong.MaxValue, long.MaxValue, max);

            Assert.InRange(record.Length, 1, StoredText.MaxRecordBytes(max));
            using var json = JsonDocument.Parse(record);
            var detail = json.RootElement.GetProperty("detail").GetString()!;
            Assert.Equal(StoredText.Cut(text, max), detail);
            Assert.Equal(detail, json.RootElement.GetProperty("source").GetString());
            Assert.Equal(ulong.MaxValue, json.RootElement.GetProperty("offset").GetUInt64());
            if (detail != text)
            {
                Assert.EndsWith(StoredText.Marker, detail, StringComparison.Ordinal);
                Assert.StartsWith(detail[..^StoredText.Marker.Length], text, StringComparison.Ordinal);
                Assert.False(detail.Length > StoredText.Marker.Length && char.IsHighSurrogate(detail[^(StoredText.Marker.Length + 1)]), "a surrogate pair was split");
            }
        }
    }
}

using System.Text;
using KivaSync.Contracts.V1;
using KivaSync.SystemLog;

namespace KivaSync.Cli;

/// <summary>A CSV row that cannot be imported, and why.</summary>
/// <param name="Line">1-based line in the file where the row starts.</param>
/// <param name="Email">The row's email as written (may be empty).</param>
/// <param name="Reason">What is wrong, for a person to fix.</param>
public sealed record CsvProblem(int Line, string Email, string Reason);

/// <summary>A contact read from a CSV row, with the line it came from.</summary>
public sealed record CsvContact(int Line, ImportContact Contact);

/// <summary>What a contacts CSV holds: the importable rows and the bad ones.</summary>
public sealed record ContactCsvResult(IReadOnlyList<CsvContact> Contacts, IReadOnlyList<CsvProblem> Problems);

/// <summary>
/// Reads a contacts CSV (RFC 4180: comma-separated, a header row, fields optionally in double quotes with ""
/// for a quote and line breaks allowed inside quotes). Columns by header name, case-insensitive:
/// email (required), first_name, last_name, phone; other columns are ignored.
/// </summary>
public static class ContactCsv
{
    private static readonly string[] Known = ["email", "first_name", "last_name", "phone"];

    /// <summary>Parses the whole text; a file without a usable header is a <see cref="UsageException"/>.</summary>
    public static ContactCsvResult Parse(string text)
    {
        if (text.StartsWith('\uFEFF'))
        {
            text = text[1..];
        }

        var records = ReadRecords(text).ToList();
        var header = records.FirstOrDefault(r => !r.IsBlank);
        if (header.Fields is null)
        {
            throw new UsageException("the CSV is empty: it needs a header row naming an email column");
        }

        if (header.Error is { } headerError)
        {
            throw new UsageException($"line {header.Line}: the header row is broken: {headerError}");
        }

        var columns = header.Fields.Select(f => f.Trim().ToLowerInvariant()).ToList();
        var index = Known.ToDictionary(k => k, k => columns.IndexOf(k), StringComparer.Ordinal);
        if (index["email"] < 0)
        {
            throw new UsageException($"line {header.Line}: the header has no email column (columns: {string.Join(", ", header.Fields)})");
        }

        var contacts = new List<CsvContact>();
        var problems = new List<CsvProblem>();
        var emails = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        foreach (var record in records.SkipWhile(r => r.Line <= header.Line))
        {
            if (record.IsBlank)
            {
                continue;
            }

            string Field(string name) => index[name] is var i && i >= 0 && i < record.Fields.Count ? record.Fields[i].Trim() : "";
            var email = Field("email");
            if (record.Error is { } error)
            {
                problems.Add(new CsvProblem(record.Line, email, error));
            }
            else if (record.Fields.Count != columns.Count)
            {
                problems.Add(new CsvProblem(record.Line, email, $"has {record.Fields.Count} fields; the header has {columns.Count}"));
            }
            else if (email.Length == 0)
            {
                problems.Add(new CsvProblem(record.Line, email, "no email"));
            }
            else if (!SystemLogParser.IsValidEmail(email))
            {
                problems.Add(new CsvProblem(record.Line, email, "not a valid email address"));
            }
            else if (emails.TryGetValue(email, out var first))
            {
                problems.Add(new CsvProblem(record.Line, email, $"the same email as line {first}"));
            }
            else
            {
                emails[email] = record.Line;
                contacts.Add(new CsvContact(record.Line, new ImportContact
                {
                    Email = email,
                    FirstName = Field("first_name"),
                    LastName = Field("last_name"),
                    Phone = Field("phone"),
                }));
            }
        }

        return new ContactCsvResult(contacts, problems);
    }

    private readonly record struct Record(int Line, List<string> Fields, string? Error)
    {
        public bool IsBlank => Error is null && Fields.Count == 1 && Fields[0].Trim().Length == 0;
    }

    private static IEnumerable<Record> ReadRecords(string text)
    {
        var line = 1;
        var pos = 0;
        while (pos < text.Length)
        {
            var start = line;
            var fields = new List<string>();
            var field = new StringBuilder();
            string? error = null;
            var inQuotes = false;
            var wasQuoted = false;
            while (true)
            {
                if (pos >= text.Length)
                {
                    if (inQuotes)
                    {
                        error = "a quoted field is never closed";
                    }

                    fields.Add(field.ToString());
                    break;
                }

                var c = text[pos++];
                if (inQuotes)
                {
                    if (c == '"')
                    {
                        if (pos < text.Length && text[pos] == '"')
                        {
                            field.Append('"');
                            pos++;
                        }
                        else
                        {
                            inQuotes = false;
                        }
                    }
                    else
                    {
                        line += c == '\n' ? 1 : 0;
                        field.Append(c);
                    }

                    continue;
                }

                if (c == ',')
                {
                    fields.Add(field.ToString());
                    field.Clear();
                    wasQuoted = false;
                }
                else if (c == '\n' || c == '\r')
                {
                    if (c == '\r' && pos < text.Length && text[pos] == '\n')
                    {
                        pos++;
                    }

                    line++;
                    fields.Add(field.ToString());
                    break;
                }
                else if (c == '"' && field.ToString().Trim().Length == 0 && !wasQuoted)
                {
                    // A quote opens a quoted field only at its start (spaces before it are dropped).
                    field.Clear();
                    inQuotes = true;
                    wasQuoted = true;
                }
                else if (c == '"' || wasQuoted && !char.IsWhiteSpace(c))
                {
                    error ??= "a quote in the middle of a field (quote the whole field and double the quote: \"\")";
                    field.Append(c);
                }
                else
                {
                    field.Append(c);
                }
            }

            yield return new Record(start, fields, error);
        }
    }
}

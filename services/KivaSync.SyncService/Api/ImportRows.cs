using System.Text.RegularExpressions;
using KivaSync.SyncService.ActiveCampaign;

namespace KivaSync.SyncService.Api;

/// <summary>
/// Rules for an imported contact row beyond the email. Cells that a spreadsheet would run as a formula (CSV/formula
/// injection when AC's contacts are exported) are refused, not rewritten: a silent leading quote would change a
/// person's name in AC for good, while a refused row names its line and the operator decides.
/// </summary>
internal static partial class ImportRows
{
    /// <summary>The first cell (email, first_name, last_name, phone) that starts like a formula, or null.</summary>
    public static string? FormulaCell(AcBulkContact row)
    {
        if (IsFormula(row.Email))
        {
            return "email";
        }

        if (IsFormula(row.FirstName))
        {
            return "first_name";
        }

        if (IsFormula(row.LastName))
        {
            return "last_name";
        }

        // "+64 21 555 0100" is a phone number, not a formula: only digits and separators after the sign.
        return row.Phone is { } phone && IsFormula(phone) && !PlainPhone().IsMatch(phone) ? "phone" : null;
    }

    // Tab and carriage return start formulas in some spreadsheet programs too.
    private static bool IsFormula(string? cell) => cell is { Length: > 0 } && cell[0] is '=' or '+' or '-' or '@' or '\t' or '\r';

    [GeneratedRegex(@"^\+?[0-9][0-9 ().\-/]*$")]
    private static partial Regex PlainPhone();
}

using System.Globalization;

namespace AuditInfra.Core.Rollout;

/// <summary>
/// Orders rollout versions (<c>&lt;program version&gt;+&lt;inputs digest&gt;</c>) by the program version each
/// host declares (<c>AccountBaselineProgram.ProgramVersion</c>), with SemVer precedence. The digest
/// of the shared inputs has no order: two versions of one program that differ only in configuration
/// are not older or newer than each other (hosts share one configuration; a configuration change
/// that must win over running hosts ships with a new program version).
/// </summary>
public static class RolloutVersions
{
    /// <summary>Whether <paramref name="candidate"/>'s program is older than <paramref name="reference"/>'s; false when either cannot be read.</summary>
    public static bool IsOlder(string candidate, string reference) =>
        Compare(ProgramOf(candidate), ProgramOf(reference)) is < 0;

    /// <summary>The program part of a rollout version (before '+').</summary>
    public static string ProgramOf(string version)
    {
        var plus = version.IndexOf('+', StringComparison.Ordinal);
        return plus < 0 ? version : version[..plus];
    }

    /// <summary>SemVer precedence of two program versions ("1.2.0", "1.10.0-rc.1"); null when either is not one.</summary>
    public static int? Compare(string left, string right)
    {
        if (Parse(left) is not { } a || Parse(right) is not { } b)
        {
            return null;
        }

        for (var i = 0; i < Math.Max(a.Core.Length, b.Core.Length); i++)
        {
            var order = (i < a.Core.Length ? a.Core[i] : 0).CompareTo(i < b.Core.Length ? b.Core[i] : 0);
            if (order != 0)
            {
                return order;
            }
        }

        // A pre-release precedes its release; pre-releases compare identifier by identifier.
        if (a.Pre.Length == 0 || b.Pre.Length == 0)
        {
            return Math.Sign(b.Pre.Length.CompareTo(a.Pre.Length));
        }

        for (var i = 0; i < Math.Min(a.Pre.Length, b.Pre.Length); i++)
        {
            var x = a.Pre[i];
            var y = b.Pre[i];
            var xNumeric = long.TryParse(x, NumberStyles.None, CultureInfo.InvariantCulture, out var xn);
            var yNumeric = long.TryParse(y, NumberStyles.None, CultureInfo.InvariantCulture, out var yn);
            var order = (xNumeric, yNumeric) switch
            {
                (true, true) => xn.CompareTo(yn),
                (true, false) => -1,
                (false, true) => 1,
                _ => string.CompareOrdinal(x, y),
            };
            if (order != 0)
            {
                return Math.Sign(order);
            }
        }

        return a.Pre.Length.CompareTo(b.Pre.Length);
    }

    private static (long[] Core, string[] Pre)? Parse(string text)
    {
        var dash = text.IndexOf('-', StringComparison.Ordinal);
        var core = dash < 0 ? text : text[..dash];
        var pre = dash < 0 ? [] : text[(dash + 1)..].Split('.');
        var parts = core.Split('.');
        if (parts.Length is < 1 or > 4 || pre.Any(p => p.Length == 0))
        {
            return null;
        }

        var numbers = new long[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            if (!long.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out numbers[i]))
            {
                return null;
            }
        }

        return (numbers, pre);
    }
}

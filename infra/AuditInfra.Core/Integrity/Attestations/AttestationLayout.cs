using System.Globalization;
using System.Text.RegularExpressions;

namespace AuditInfra.Core.Integrity.Attestations;

/// <summary>
/// Where attestations live, beside the logs they attest under the same prefix:
/// <c>[prefix/]attestations/[o-org/]account/YYYY/MM/DD.json</c>, the organization segment as in <c>AWSLogs/</c>.
/// One object per account and UTC day, written once (Object Lock keeps it).
/// </summary>
public static partial class AttestationLayout
{
    public const string Folder = "attestations/";

    [GeneratedRegex(@"^(?<prefix>(?:.*/)?)attestations/(?:(?<org>o-[a-z0-9]{10,32})/)?(?<account>\d{12})/(?<y>\d{4})/(?<m>\d{2})/(?<d>\d{2})\.json\z")]
    private static partial Regex KeyRegex();

    public static string Key(string prefix, string? organization, string account, DateOnly day) =>
        $"{prefix}{Folder}{(organization is null ? string.Empty : organization + "/")}{account}/{day.ToString("yyyy'/'MM'/'dd", CultureInfo.InvariantCulture)}.json";

    public static string Key(string prefix, Attestation attestation) => Key(prefix, attestation.Organization, attestation.Account, attestation.Day);

    /// <summary>The organization, account and day a key names; null when it is not an attestation key.</summary>
    public static (string Prefix, string? Organization, string Account, DateOnly Day)? Parse(string key)
    {
        var match = KeyRegex().Match(key);
        if (!match.Success || !DateOnly.TryParseExact($"{match.Groups["y"].Value}-{match.Groups["m"].Value}-{match.Groups["d"].Value}", "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
        {
            return null;
        }

        return (match.Groups["prefix"].Value, match.Groups["org"].Success ? match.Groups["org"].Value : null, match.Groups["account"].Value, day);
    }
}

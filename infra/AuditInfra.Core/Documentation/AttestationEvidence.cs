using System.Collections.Immutable;
using System.Globalization;
using AuditInfra.Core.Integrity.Attestations;

namespace AuditInfra.Core.Documentation;

/// <summary>The documentation's attestation section: per account, the last attested day and every gap between the first and the last.</summary>
public static class AttestationEvidence
{
    private const int GapsShown = 20;

    public static DocSection Section(ImmutableArray<AccountAttestations> attestations, string? account)
    {
        var rows = attestations.Where(a => account is null || a.Account == account).ToList();
        var how = new Paragraph("One signed attestation per account and UTC day that `auditinfra verify --attest` proved complete and clean in every region, under attestations/ beside the logs. Days are listed from the attestation keys; `auditinfra attest verify --source <bucket> --public-key <key>` checks every signature offline.");
        if (rows.Count == 0)
        {
            return new DocSection("Attestations", [how, new Paragraph(account is null ? "No attestation was found." : $"No attestation was found for account {account}.")]);
        }

        return new DocSection("Attestations", [
            how,
            new Table(["account", "last attested day", "first attested day", "days attested", "gaps (days without an attestation)"], [.. rows.Select(a => ImmutableArray.Create<Cell>(
                a.Account,
                Day(a.Last),
                Day(a.First),
                a.Days.ToString(CultureInfo.InvariantCulture),
                Gaps(a.Gaps)))]),
        ]);
    }

    private static string Gaps(ImmutableArray<(DateOnly From, DateOnly To)> gaps)
    {
        if (gaps.IsEmpty)
        {
            return "none";
        }

        var shown = gaps.Take(GapsShown).Select(g => g.From == g.To ? Day(g.From) : $"{Day(g.From)} to {Day(g.To)}");
        var missing = gaps.Sum(g => g.To.DayNumber - g.From.DayNumber + 1);
        return $"{missing.ToString(CultureInfo.InvariantCulture)} day(s): {string.Join(", ", shown)}{(gaps.Length > GapsShown ? $", and {gaps.Length - GapsShown} more" : string.Empty)}";
    }

    private static string Day(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}

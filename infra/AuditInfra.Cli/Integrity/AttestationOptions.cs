using System.Collections.Immutable;
using System.CommandLine;
using System.Globalization;
using AuditInfra.Core.Integrity;
using AuditInfra.Core.Integrity.Attestations;

namespace AuditInfra.Cli.Integrity;

/// <summary>
/// <c>verify --attest</c>: after the run, one signed attestation per account and UTC day that verified complete and
/// clean in every region, under <c>attestations/</c> in the source. Kept apart from VerifyCommand, which only calls it.
/// </summary>
internal sealed class AttestationOptions
{
    public Option<bool> Attest { get; } = new("--attest") { Description = "After the run, write a signed attestation for each account and UTC day that verified complete and clean in every region, under attestations/ in the source (written once: existing ones are never replaced)" };

    public Option<FileInfo?> SigningKey { get; } = new("--signing-key") { Description = "With --attest: a PEM RSA private key (2048 bits or more) that signs the attestations" };

    public Option<string?> KmsKeyId { get; } = new("--kms-key-id") { Description = "With --attest: a KMS asymmetric signing key (ARN, id or alias) that signs the attestations with RSASSA_PSS_SHA_256" };

    public void AddTo(Command command)
    {
        command.Options.Add(Attest);
        command.Options.Add(SigningKey);
        command.Options.Add(KmsKeyId);
    }

    public bool Requested(ParseResult parse) => parse.GetValue(Attest);

    /// <summary>What is wrong with the attestation options, checked before a run that may take hours; null when nothing is.</summary>
    public string? Problem(ParseResult parse, VerifyOptions options)
    {
        var keyFile = parse.GetValue(SigningKey);
        var kms = parse.GetValue(KmsKeyId);
        if (!Requested(parse))
        {
            return keyFile is not null || kms is not null ? "--signing-key and --kms-key-id sign attestations: add --attest" : null;
        }

        if ((keyFile is null) == (kms is null))
        {
            return "--attest needs one signing key: --signing-key FILE (a PEM RSA private key) or --kms-key-id ARN (a KMS asymmetric signing key)";
        }

        // Shards need no refusal: they split the organization by account (ChainShard), so a shard sees whole account-days.
        return options.Regions.Count > 0
            ? "--attest cannot be combined with --region: an attestation states every region of an account-day"
            : null;
    }

    /// <summary>The signer the options name; throws <see cref="AttestationKeyException"/> when it cannot be used.</summary>
    public IAttestationSigner OpenSigner(ParseResult parse) =>
        parse.GetValue(SigningKey) is { } file ? KeyFileSigner.Load(file.FullName) : KmsAttestationSigner.Create(parse.GetValue(KmsKeyId)!);

    /// <summary>Where attestations of <paramref name="store"/> are written: the local copy's folder, or the bucket.</summary>
    public static IObjectWriter WriterFor(IObjectStore store) => store switch
    {
        LocalDirectoryStore local => new LocalObjectWriter(local.Root),
        S3ObjectStore s3 => new S3AttestationWriter(s3),
        _ => throw new IntegrityInputException($"attestations cannot be written to {store.Description}"),
    };

    /// <summary>
    /// The chain-days a run may attest: days wholly inside --start/--end (a day cut by the range was not read whole, and
    /// attesting its part would later conflict with the whole).
    /// </summary>
    public static IReadOnlyList<ChainDay> WithinRange(IEnumerable<ChainDay> days, VerifyOptions options) =>
        [.. days.Where(d =>
        {
            var start = new DateTimeOffset(d.Day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
            // The day's last digest is delivered after midnight; an end before then leaves the day unfinished.
            return (options.Start is null || options.Start <= start) && (options.End is null || options.End >= start.AddDays(1).AddHours(2));
        })];

    /// <summary>
    /// Signs and writes the attestations; conflicts are returned as findings of the run (exit code 1), and a line per
    /// outcome kind goes to standard error (standard output may be the JSON report).
    /// </summary>
    public static async Task<IReadOnlyList<IntegrityFinding>> WriteAsync(CliIo io, IObjectStore store, IAttestationSigner signer, IReadOnlyList<ChainDay> days, CancellationToken cancellationToken)
    {
        var outcomes = await new AttestationWriter(store, WriterFor(store), signer, AttestationWriter.ToolVersion).WriteAsync(days, cancellationToken);
        await io.Err.WriteLineAsync(Summary(outcomes, signer));
        foreach (var open in outcomes.Where(o => o.Result == AttestationResult.NotAttested).Take(5))
        {
            await io.Err.WriteLineAsync($"  not attested: {open.Account} {open.Day:yyyy-MM-dd}: {open.Detail}");
        }

        return [.. outcomes.Where(o => o.Result == AttestationResult.Conflict).Select(o => new IntegrityFinding(
            FindingKind.AttestationConflict,
            o.Key,
            $"the attestation of {o.Account} on {o.Day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)} this run proved",
            "another object at its key",
            o.Detail))];
    }

    private static string Summary(ImmutableArray<AttestationOutcome> outcomes, IAttestationSigner signer)
    {
        int Count(AttestationResult result) => outcomes.Count(o => o.Result == result);
        return $"attestations ({signer.Description}): {Count(AttestationResult.Written)} written, {Count(AttestationResult.AlreadyAttested)} already attested, "
            + $"{Count(AttestationResult.NotAttested)} account-day(s) not complete and clean, {Count(AttestationResult.Conflict)} conflict(s)";
    }
}

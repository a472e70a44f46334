using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using AuditInfra.Core.Integrity;
using AuditInfra.Core.Integrity.Attestations;

namespace AuditInfra.Core.Tests.Integrity;

/// <summary>Attestations with real RSA-PSS keys and a real folder: signing, write-once storage, offline checks of hostile objects.</summary>
public sealed class AttestationTests : IDisposable
{
    private const string Org = "o-abc123def4";
    private const string Account = "111111111111";
    private static readonly DateOnly Day = new(2026, 11, 20);

    private readonly string root = Path.Combine(Path.GetTempPath(), "auditinfra-attest-" + Guid.NewGuid().ToString("N"));
    private readonly KeyFileSigner signer;
    private readonly RSA publicKey;

    public AttestationTests()
    {
        Directory.CreateDirectory(root);
        using var rsa = RSA.Create(2048);
        signer = KeyFileSigner.FromPem(rsa.ExportPkcs8PrivateKeyPem(), "test key");
        publicKey = AttestationPublicKey.Parse(rsa.ExportSubjectPublicKeyInfoPem(), "test public key");
    }

    public void Dispose()
    {
        signer.Dispose();
        publicKey.Dispose();
        Directory.Delete(root, recursive: true);
    }

    internal static DigestReference Digest(string region, int hour, string? org = Org, string account = Account, DateOnly? day = null) =>
        new(CloudTrailKeys.DigestKey("", org, account, region, "org-trail", "us-east-1", new DateTimeOffset((day ?? Day).ToDateTime(new TimeOnly(hour, 10)), TimeSpan.Zero)), new string((char)('a' + hour % 6), 512));

    internal static ChainDay Chain(string region, bool clean = true, DateOnly? day = null, int logs = 30, string account = Account) =>
        new(Org, account, region, day ?? Day, Digest(region, 0, day: day, account: account), Digest(region, 23, day: day, account: account), 24, logs, clean);

    private AttestationWriter Writer(string version = "1.0.0") => new(new LocalDirectoryStore(root), new LocalObjectWriter(root), signer, version);

    private Task<AttestationCheckReport> CheckAsync() => AttestationChecker.CheckAsync(new LocalDirectoryStore(root), publicKey, CancellationToken.None);

    private string PathOf(DateOnly day, string account = Account) => Path.Combine(root, AttestationLayout.Key("", Org, account, day).Replace('/', Path.DirectorySeparatorChar));

    [Fact]
    public async Task An_account_day_clean_in_every_region_is_signed_once_and_verifies_offline_with_the_public_key()
    {
        var outcomes = await Writer().WriteAsync([Chain("us-east-1"), Chain("eu-west-1", logs: 12)], CancellationToken.None);

        var outcome = Assert.Single(outcomes);
        Assert.Equal(AttestationResult.Written, outcome.Result);
        Assert.Equal($"attestations/{Org}/{Account}/2026/11/20.json", outcome.Key);
        var report = await CheckAsync();
        var check = Assert.Single(report.Checks);
        Assert.True(check.Valid, check.Problem);
        Assert.Equal(["eu-west-1", "us-east-1"], check.Attestation!.Regions.Select(r => r.Region));
        Assert.Equal(48, check.Attestation.Digests);
        Assert.Equal(42, check.Attestation.Logs);
        Assert.Equal(signer.KeyId, check.KeyId);

        // The payload is what was signed, byte for byte, and its JSON says what the README documents.
        var envelope = JsonNode.Parse(File.ReadAllText(PathOf(Day)))!;
        var payload = JsonNode.Parse(Convert.FromBase64String(envelope["payload"]!.GetValue<string>()))!;
        Assert.Equal(Attestation.PayloadType, envelope["payloadType"]!.GetValue<string>());
        Assert.Equal(Org, payload["organization"]!.GetValue<string>());
        Assert.Equal("2026-11-20", payload["day"]!.GetValue<string>());
        Assert.Equal(Digest("eu-west-1", 0).Key, payload["chains"]![0]!["firstDigest"]!["key"]!.GetValue<string>());
        Assert.Equal(Digest("eu-west-1", 23).Signature, payload["chains"]![0]!["lastDigest"]!["signature"]!.GetValue<string>());
        Assert.Equal("1.0.0", payload["verifierVersion"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_region_not_complete_and_clean_leaves_its_account_day_unattested()
    {
        var outcomes = await Writer().WriteAsync([Chain("us-east-1"), Chain("eu-west-1", clean: false), Chain("us-east-1", day: Day.AddDays(1))], CancellationToken.None);

        Assert.Equal(AttestationResult.NotAttested, outcomes.Single(o => o.Day == Day).Result);
        Assert.Contains("eu-west-1", outcomes.Single(o => o.Day == Day).Detail, StringComparison.Ordinal);
        Assert.Equal(AttestationResult.Written, outcomes.Single(o => o.Day == Day.AddDays(1)).Result);
        Assert.False(File.Exists(PathOf(Day)));
        Assert.True(File.Exists(PathOf(Day.AddDays(1))));
    }

    [Fact]
    public async Task A_rerun_skips_what_is_attested_and_an_attestation_of_other_facts_is_a_conflict_never_overwritten()
    {
        await Writer().WriteAsync([Chain("us-east-1")], CancellationToken.None);
        var first = File.ReadAllBytes(PathOf(Day));

        // RSA-PSS signatures are randomized: a re-run would write other bytes, so it is judged on the facts.
        var again = await Writer("2.0.0").WriteAsync([Chain("us-east-1")], CancellationToken.None);
        Assert.Equal(AttestationResult.AlreadyAttested, Assert.Single(again).Result);

        var other = await Writer().WriteAsync([Chain("us-east-1", logs: 29)], CancellationToken.None);
        var conflict = Assert.Single(other);
        Assert.Equal(AttestationResult.Conflict, conflict.Result);
        Assert.Contains("30 logs there", conflict.Detail, StringComparison.Ordinal);
        Assert.Equal(first, File.ReadAllBytes(PathOf(Day)));

        File.WriteAllText(PathOf(Day), "not an attestation");
        var junk = await Writer().WriteAsync([Chain("us-east-1")], CancellationToken.None);
        Assert.Equal(AttestationResult.Conflict, Assert.Single(junk).Result);
        Assert.Equal("not an attestation", File.ReadAllText(PathOf(Day)));
    }

    [Fact]
    public async Task Verification_reads_the_payload_bytes_as_signed_whatever_the_envelope_json_looks_like()
    {
        await Writer().WriteAsync([Chain("us-east-1")], CancellationToken.None);
        var envelope = JsonNode.Parse(File.ReadAllText(PathOf(Day)))!.AsObject();
        // Another JSON writer: fields reordered, no indentation. The signed bytes are inside the base64, untouched.
        var rewritten = new JsonObject { ["signatures"] = envelope["signatures"]!.DeepClone(), ["payload"] = envelope["payload"]!.DeepClone(), ["payloadType"] = envelope["payloadType"]!.DeepClone() };
        File.WriteAllText(PathOf(Day), rewritten.ToJsonString());

        Assert.True(Assert.Single((await CheckAsync()).Checks).Valid);
    }

    [Fact]
    public async Task Altered_forged_misplaced_and_hostile_objects_are_each_reported_and_nothing_is_followed()
    {
        await Writer().WriteAsync([Chain("us-east-1"), Chain("us-east-1", day: Day.AddDays(1)), Chain("us-east-1", day: Day.AddDays(2)), Chain("us-east-1", day: Day.AddDays(3))], CancellationToken.None);

        // Altered: the payload says 31 logs where 30 were signed.
        var altered = JsonNode.Parse(File.ReadAllText(PathOf(Day)))!;
        var payload = Encoding.UTF8.GetString(Convert.FromBase64String(altered["payload"]!.GetValue<string>())).Replace("\"logs\": 30", "\"logs\": 31", StringComparison.Ordinal);
        altered["payload"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(payload));
        File.WriteAllText(PathOf(Day), altered.ToJsonString());

        // Forged: a well-formed attestation signed by another key.
        using (var other = RSA.Create(2048))
        using (var forger = KeyFileSigner.FromPem(other.ExportPkcs8PrivateKeyPem(), "forger"))
        {
            File.Delete(PathOf(Day.AddDays(1)));
            await new AttestationWriter(new LocalDirectoryStore(root), new LocalObjectWriter(root), forger, "1.0.0").WriteAsync([Chain("us-east-1", day: Day.AddDays(1))], CancellationToken.None);
        }

        // Misplaced: day 3's valid attestation copied to day 5's key; day 2 stays valid.
        var misplaced = PathOf(Day.AddDays(5));
        Directory.CreateDirectory(Path.GetDirectoryName(misplaced)!);
        File.Copy(PathOf(Day.AddDays(3)), misplaced);
        var folder = Path.GetDirectoryName(PathOf(Day))!;
        File.WriteAllBytes(Path.Combine(folder, "27.json"), new byte[AttestationEnvelope.MaxBytes + 10]);
        File.WriteAllText(Path.Combine(folder, "28.json"), "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[");
        File.WriteAllText(Path.Combine(folder, "notes.txt"), "hello");
        File.CreateSymbolicLink(Path.Combine(folder, "29.json"), PathOf(Day.AddDays(2)));

        var checks = (await CheckAsync()).Checks.ToDictionary(c => c.Key[(c.Key.LastIndexOf('/') + 1)..], c => c);

        Assert.Contains("does not verify", checks["20.json"].Problem, StringComparison.Ordinal);
        Assert.Contains("does not verify", checks["21.json"].Problem, StringComparison.Ordinal);
        Assert.True(checks["22.json"].Valid, checks["22.json"].Problem);
        Assert.True(checks["23.json"].Valid, checks["23.json"].Problem);
        Assert.Contains("its place is", checks["25.json"].Problem, StringComparison.Ordinal);
        Assert.Contains("not read", checks["27.json"].Problem, StringComparison.Ordinal);
        Assert.Contains("not a JSON envelope", checks["28.json"].Problem, StringComparison.Ordinal);
        Assert.Contains("not an attestation key", checks["notes.txt"].Problem, StringComparison.Ordinal);
        Assert.Contains("symbolic link", checks["29.json"].Problem, StringComparison.Ordinal);
        Assert.Equal(2, checks.Values.Count(c => c.Valid));
    }

    [Fact]
    public void A_payload_naming_digests_of_another_account_or_day_is_malformed_even_when_signed()
    {
        var attestation = new Attestation(Org, Account, Day, [new RegionProof("us-east-1", Digest("us-east-1", 0, account: "222222222222"), Digest("us-east-1", 23), 24, 30)], "1");
        var e = Assert.Throws<AttestationFormatException>(() => Attestation.ParsePayload(attestation.ToPayload()));
        Assert.Contains("another organization, account, region or day", e.Message, StringComparison.Ordinal);

        var nextDay = attestation with { Regions = [new RegionProof("us-east-1", Digest("us-east-1", 0), Digest("us-east-1", 1, day: Day.AddDays(2)), 24, 30)] };
        Assert.Throws<AttestationFormatException>(() => Attestation.ParsePayload(nextDay.ToPayload()));

        // The last digest of a day, for its last hour, is dated the next day: that is the day's, not another's.
        var lastHour = attestation with { Regions = [new RegionProof("us-east-1", Digest("us-east-1", 0), Digest("us-east-1", 0, day: Day.AddDays(1)), 24, 30)] };
        Assert.True(Attestation.ParsePayload(lastHour.ToPayload()).SameFacts(lastHour));

        var good = attestation with { Regions = [new RegionProof("us-east-1", Digest("us-east-1", 0), Digest("us-east-1", 23), 24, 30)] };
        Assert.True(Attestation.ParsePayload(good.ToPayload()).SameFacts(good));
    }

    [Fact]
    public async Task Signatures_are_rsa_pss_sha256_over_the_dsse_encoding_so_a_pkcs1_signature_of_the_same_bytes_fails()
    {
        var attestation = new Attestation(Org, Account, Day, [new RegionProof("us-east-1", Digest("us-east-1", 0), Digest("us-east-1", 23), 24, 30)], "1");
        var envelope = await AttestationEnvelope.SignAsync(attestation, signer, CancellationToken.None);
        var signed = Attestation.PreAuthenticationEncoding(Attestation.PayloadType, envelope.Payload);

        Assert.StartsWith($"DSSEv1 {Attestation.PayloadType.Length} {Attestation.PayloadType} {envelope.Payload.Length} ", Encoding.UTF8.GetString(signed), StringComparison.Ordinal);
        Assert.True(publicKey.VerifyData(signed, envelope.Signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pss));
        Assert.True(envelope.IsSignedBy(publicKey));
        Assert.False(publicKey.VerifyData(signed, envelope.Signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
    }

    [Fact]
    public void Signing_keys_that_cannot_sign_are_refused_in_one_sentence()
    {
        using var small = RSA.Create(1024);
        Assert.Contains("expected at least 2048 bits", Assert.Throws<AttestationKeyException>(() => KeyFileSigner.FromPem(small.ExportPkcs8PrivateKeyPem(), "k")).Message, StringComparison.Ordinal);
        using var rsa = RSA.Create(2048);
        Assert.Contains("public key", Assert.Throws<AttestationKeyException>(() => KeyFileSigner.FromPem(rsa.ExportSubjectPublicKeyInfoPem(), "k")).Message, StringComparison.Ordinal);
        Assert.Contains("PEM", Assert.Throws<AttestationKeyException>(() => KeyFileSigner.FromPem("garbage", "k")).Message, StringComparison.Ordinal);

        // `aws kms get-public-key --output json` is accepted as it is printed.
        var kmsJson = new JsonObject { ["KeyId"] = "arn:aws:kms:us-east-1:222222222222:key/x", ["PublicKey"] = Convert.ToBase64String(rsa.ExportSubjectPublicKeyInfo()) }.ToJsonString();
        using var fromKms = AttestationPublicKey.Parse(kmsJson, "kms");
        Assert.Equal(AttestationPublicKey.Fingerprint(rsa), AttestationPublicKey.Fingerprint(fromKms));
    }

    [Fact]
    public async Task A_local_write_never_goes_through_a_link_or_outside_the_folder()
    {
        var outside = Path.Combine(Path.GetTempPath(), "auditinfra-outside-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(outside);
        try
        {
            Directory.CreateDirectory(Path.Combine(root, "attestations"));
            Directory.CreateSymbolicLink(Path.Combine(root, "attestations", Org), outside);

            await Assert.ThrowsAsync<UnsafePathException>(() => Writer().WriteAsync([Chain("us-east-1")], CancellationToken.None));
            Assert.Empty(Directory.EnumerateFileSystemEntries(outside));
            await Assert.ThrowsAsync<UnsafePathException>(() => new LocalObjectWriter(root).CreateIfAbsentAsync("../escape.json", [1], CancellationToken.None));
        }
        finally
        {
            Directory.Delete(outside, recursive: true);
        }
    }

    [Fact]
    public void Verifier_day_proofs_become_chain_days_and_a_day_without_an_edge_signature_is_never_attested()
    {
        DayProof Proof(string region, bool complete = true, bool clean = true, string? lastSignature = "ab") =>
            new(Org, Account, region, "org-trail", Day, Digest(region, 0).Key, "cd", Digest(region, 23).Key, lastSignature, 24, 30, complete, clean);

        var days = ChainDays.From([Proof("us-east-1"), Proof("eu-west-1", complete: false), Proof("eu-central-1", lastSignature: null), Proof("ap-south-1", clean: false)]);

        Assert.Equal([true, false, false, false], days.Select(d => d.CompleteAndClean));
        Assert.Equal(new DigestReference(Digest("us-east-1", 23).Key, "ab"), days[0].LastDigest);
        var plan = Assert.Single(AttestationWriter.Plan(days, "1"));
        Assert.Null(plan.Attestation);
        Assert.Equal("not complete and clean in ap-south-1, eu-central-1, eu-west-1", plan.NotAttestedBecause);
    }

    [Fact]
    public void The_index_gives_each_account_its_last_attested_day_and_the_days_missing_between_first_and_last()
    {
        string Key(string account, int day) => AttestationLayout.Key("p/", Org, account, Day.AddDays(day));
        var index = AttestationIndex.FromKeys([Key(Account, 0), Key(Account, 1), Key(Account, 4), Key(Account, 6), Key("222222222222", 3), "p/attestations/notes.txt"]);

        Assert.Equal(2, index.Length);
        var first = index[0];
        Assert.Equal(Account, first.Account);
        Assert.Equal(Day.AddDays(6), first.Last);
        Assert.Equal(4, first.Days);
        Assert.Equal(new[] { (Day.AddDays(2), Day.AddDays(3)), (Day.AddDays(5), Day.AddDays(5)) }, first.Gaps.ToArray());
        Assert.Empty(index[1].Gaps);
    }
}

using System.Globalization;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace AuditInfra.Core.Integrity;

/// <summary>The ways <see cref="SampleCorpus"/> can tamper with the corpus it writes, each with the findings it must cause.</summary>
public enum TamperKind
{
    ModifiedLog,
    DeletedLog,
    InsertedLog,
    ModifiedDigest,
    DeletedDigest,
    TwoDeletedDigests,
    ForgedSignature,
    UnknownKey,
    TruncatedGzip,
    BrokenChain,
    WrongPreviousHash,
    MissingSignature,
}

/// <summary>What to generate. Defaults match the sample stack configuration (Pulumi.audit.yaml).</summary>
public sealed record SampleOptions
{
    /// <summary>Null writes the layout of a trail that is not an organization trail (no organization folder).</summary>
    public string? OrgId { get; init; } = "o-a1b2c3d4e5";

    public string Bucket { get; init; } = "acme-audit-cloudtrail-222222222222-us-east-1";

    public string Prefix { get; init; } = "cloudtrail";

    public IReadOnlyList<string> Accounts { get; init; } = ["111111111111", "222222222222", "333333333333"];

    public IReadOnlyList<string> Regions { get; init; } = ["us-east-1", "eu-west-1"];

    public string TrailName { get; init; } = "acme-org-trail";

    public string HomeRegion { get; init; } = "us-east-1";

    public DateTimeOffset Start { get; init; } = new(2026, 11, 20, 0, 0, 0, TimeSpan.Zero);

    public int Hours { get; init; } = 12;

    public int LogsPerHour { get; init; } = 2;

    public int EventsPerLog { get; init; } = 20;

    /// <summary>CloudTrail rotates its signing key: the second half of the hours is signed with a second key.</summary>
    public bool RotateKey { get; init; } = true;

    /// <summary>One late log per chain-0 hour 1, listed by a backfill digest.</summary>
    public bool Backfill { get; init; } = true;

    /// <summary>The last chain stops logging for two hours and restarts with a new chain (null previous*).</summary>
    public bool RestartChain { get; init; } = true;

    /// <summary>Hours with no log at all (their digest lists none), as CloudTrail delivers them.</summary>
    public bool EmptyHours { get; init; } = true;

    public IReadOnlyList<TamperKind> Tampers { get; init; } = [];

    public int Seed { get; init; } = 20261120;

    /// <summary>Parallel chain writers; 0 = one per core.</summary>
    public int Parallelism { get; init; }
}

/// <summary>A finding the verifier must report for a tamper.</summary>
public sealed record ExpectedFinding(FindingKind Kind, string Key, TamperKind Cause);

/// <summary>What was written.</summary>
public sealed record SampleResult(string Directory, int Digests, int Logs, long UncompressedBytes, long CompressedBytes, IReadOnlyList<ExpectedFinding> Expected, string PublicKeysFile, string ExpectedFindingsFile);

/// <summary>
/// Writes a realistic signed corpus in the bucket layout (logs, hourly digests chained and signed with its
/// own RSA keys, <c>.signature</c> files, a list-public-keys JSON) and, for each tamper asked for, the
/// findings a verifier must report. The directory appears complete or not at all.
/// </summary>
public static class SampleCorpus
{
    public const string PublicKeysFileName = "public-keys.json";
    public const string ExpectedFindingsFileName = "expected-findings.json";

    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>Where each tamper lands: its chain and hour, checked against the corpus size.</summary>
    public static IReadOnlyList<(TamperKind Kind, int Chain, int Hour)> Placements(SampleOptions options)
    {
        var chains = options.Accounts.Count * options.Regions.Count;
        // The restarted chain is left untouched so that each tamper's findings are exactly its own.
        var usable = options.RestartChain && chains > 1 ? chains - 1 : chains;
        var result = new List<(TamperKind, int, int)>();
        for (var t = 0; t < options.Tampers.Count; t++)
        {
            var hour = 2 + (5 * (t / usable));
            var lastUsableHour = options.RestartChain && chains == 1 ? options.Hours - 7 : options.Hours - 3;
            if (hour > lastUsableHour)
            {
                throw new ArgumentException($"{options.Tampers.Count} tampers need more room: with {chains} account/region chains, use at least {hour + (options.Hours - lastUsableHour)} hours (--hours) or more accounts/regions");
            }

            result.Add((options.Tampers[t], t % usable, hour));
        }

        return result;
    }

    public static SampleResult Write(string directory, SampleOptions options, IProgress<(int Done, int Total)>? progress = null, CancellationToken cancellationToken = default)
    {
        Validate(options);
        var target = Path.GetFullPath(directory);
        if (File.Exists(target) || (Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any()))
        {
            throw new IntegrityInputException($"'{directory}' already exists and is not empty: choose a new or empty directory (the sample never writes into existing data)");
        }

        var parent = Path.GetDirectoryName(target)!;
        Directory.CreateDirectory(parent);
        var staging = Path.Combine(parent, $".{Path.GetFileName(target)}.partial-{Guid.NewGuid():N}");
        Directory.CreateDirectory(staging);
        try
        {
            var result = Generate(staging, options, progress, cancellationToken);
            if (Directory.Exists(target))
            {
                Directory.Delete(target);
            }

            Directory.Move(staging, target);
            return result with
            {
                Directory = target,
                PublicKeysFile = Path.Combine(target, PublicKeysFileName),
                ExpectedFindingsFile = Path.Combine(target, ExpectedFindingsFileName),
            };
        }
        catch
        {
            Directory.Delete(staging, recursive: true);
            throw;
        }
    }

    private static void Validate(SampleOptions options)
    {
        if (options.Prefix.Length > 0 && ContainedPath.Problem(options.Prefix) is { } prefixProblem)
        {
            throw new ArgumentException($"the key prefix \"{options.Prefix}\" cannot be a folder inside the corpus: {prefixProblem}");
        }

        if (options.Hours < 3)
        {
            throw new ArgumentException("--hours must be at least 3");
        }

        if (options.RestartChain && options.Hours < 6)
        {
            throw new ArgumentException("a restarted chain needs at least 6 hours (--hours), or turn it off");
        }

        if (options.Accounts.Count == 0 || options.Regions.Count == 0)
        {
            throw new ArgumentException("at least one account and one region are needed");
        }

        foreach (var account in options.Accounts)
        {
            if (account.Length != 12 || !account.All(char.IsAsciiDigit))
            {
                throw new ArgumentException($"account '{account}' is not a 12-digit AWS account id");
            }
        }

        if (options.LogsPerHour < 1 || options.EventsPerLog < 1)
        {
            throw new ArgumentException("--logs-per-hour and --events-per-log must be at least 1");
        }

        _ = Placements(options);
    }

    private sealed record Signer(RSA Rsa, CloudTrailPublicKey Public);

    private static Signer NewSigner(DateTimeOffset from, DateTimeOffset to)
    {
        var rsa = RSA.Create(2048);
        var der = rsa.ExportRSAPublicKey();
        return new Signer(rsa, new CloudTrailPublicKey(PublicKeySet.FingerprintOf(der), der, from, to));
    }

    private static SampleResult Generate(string root, SampleOptions options, IProgress<(int Done, int Total)>? progress, CancellationToken cancellationToken)
    {
        var rotation = options.Start + (options.Hours / 2 * Hour);
        var first = NewSigner(options.Start.AddDays(-30), options.RotateKey ? rotation : options.Start.AddDays(365));
        var second = options.RotateKey ? NewSigner(rotation - Hour, options.Start.AddDays(365)) : null;
        var rogue = NewSigner(options.Start.AddDays(-30), options.Start.AddDays(365));
        var placements = Placements(options);
        var chains = options.Accounts.SelectMany(a => options.Regions.Select(r => (Account: a, Region: r))).ToList();
        var expected = new List<ExpectedFinding>();
        var totals = new long[4];
        var done = 0;
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.Parallelism > 0 ? options.Parallelism : Environment.ProcessorCount, CancellationToken = cancellationToken };
        var lockObject = new Lock();
        Parallel.For(0, chains.Count, parallel, c =>
        {
            var chainTampers = placements.Where(p => p.Chain == c).ToDictionary(p => p.Hour, p => p.Kind);
            var writer = new ChainWriter(root, options, chains[c].Account, chains[c].Region, c, chains.Count, chainTampers, first, second, rogue, rotation);
            writer.Write();
            lock (lockObject)
            {
                expected.AddRange(writer.Expected);
                totals[0] += writer.Digests;
                totals[1] += writer.Logs;
                totals[2] += writer.Uncompressed;
                totals[3] += writer.Compressed;
            }

            progress?.Report((Interlocked.Increment(ref done), chains.Count));
        });

        var keys = second is null ? new[] { first.Public } : [first.Public, second.Public];
        File.WriteAllText(Path.Combine(root, PublicKeysFileName), PublicKeySet.ToJson(keys));
        var ordered = expected.OrderBy(e => e.Key, StringComparer.Ordinal).ThenBy(e => e.Kind).ToList();
        File.WriteAllText(Path.Combine(root, ExpectedFindingsFileName), JsonSerializer.Serialize(new { tampers = placements.Select(p => p.Kind), findings = ordered }, JsonOptions));
        foreach (var signer in new[] { first, second, rogue })
        {
            signer?.Rsa.Dispose();
        }

        return new SampleResult(root, (int)totals[0], (int)totals[1], totals[2], totals[3], ordered, PublicKeysFileName, ExpectedFindingsFileName);
    }

    /// <summary>Reads the findings a sample directory expects (written by <see cref="Write"/>).</summary>
    public static IReadOnlyList<ExpectedFinding> ReadExpected(string path)
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(path));
        return document.RootElement.GetProperty("findings").Deserialize<List<ExpectedFinding>>(JsonOptions) ?? [];
    }

    /// <summary>Writes one account/region chain hour by hour.</summary>
    private sealed class ChainWriter(
        string root,
        SampleOptions options,
        string account,
        string region,
        int chainIndex,
        int chainCount,
        Dictionary<int, TamperKind> tampers,
        Signer first,
        Signer? second,
        Signer rogue,
        DateTimeOffset rotation)
    {
        private readonly Random random = new(options.Seed + (chainIndex * 7919));
        private readonly List<(string Key, byte[] Plain, string Sha256, string Signature)> digests = [];

        public List<ExpectedFinding> Expected { get; } = [];

        public int Digests { get; private set; }

        public int Logs { get; private set; }

        public long Uncompressed { get; private set; }

        public long Compressed { get; private set; }

        private bool Restarts => options.RestartChain && chainIndex == chainCount - 1;

        public void Write()
        {
            for (var hour = 0; hour < options.Hours; hour++)
            {
                var from = options.Start + (hour * Hour);
                var to = from + Hour;
                // The restarting chain stops logging for two hours, then starts a new chain.
                if (Restarts && (hour == options.Hours - 4 || hour == options.Hours - 3))
                {
                    continue;
                }

                var chainStart = hour == 0 || (Restarts && hour == options.Hours - 2);
                tampers.TryGetValue(hour, out var tamper);
                var hasTamper = tampers.ContainsKey(hour);
                var empty = options.EmptyHours && !hasTamper && (hour + chainIndex) % 7 == 3 && !(options.Backfill && chainIndex == 0 && hour == 1);
                var logs = new List<DigestLogFile>();
                var deleteDigestHere = hasTamper && (tamper == TamperKind.DeletedDigest || tamper == TamperKind.TwoDeletedDigests);
                var secondDeleted = tampers.TryGetValue(hour - 1, out var before) && before == TamperKind.TwoDeletedDigests;
                var logCount = empty ? 0 : options.LogsPerHour;
                var logKeys = new List<string>();
                for (var i = 0; i < logCount; i++)
                {
                    var delivered = from.AddMinutes(5 + (i * 50 / Math.Max(1, logCount)) + random.Next(0, 5));
                    var (key, hash) = WriteLog(delivered, hasTamper && i == 0 ? tamper : null);
                    logs.Add(new DigestLogFile(options.Bucket, key, hash, "SHA-256"));
                    logKeys.Add(key);
                }

                if (hasTamper && tamper == TamperKind.InsertedLog)
                {
                    var (inserted, _) = WriteLog(from.AddMinutes(33), null);
                    Expected.Add(new ExpectedFinding(FindingKind.LogNotListed, inserted, tamper));
                }

                var digestKey = CloudTrailKeys.DigestKey(options.Prefix, options.OrgId, account, region, options.TrailName, options.HomeRegion, to);
                var previous = chainStart ? null : (int?)(digests.Count - 1);
                if (hasTamper && tamper == TamperKind.BrokenChain)
                {
                    previous = digests.Count - 2;
                    Expected.Add(new ExpectedFinding(FindingKind.BrokenChain, digestKey, tamper));
                }

                var signer = hasTamper && tamper == TamperKind.UnknownKey ? rogue : second is not null && to > rotation ? second : first;
                var previousHash = previous is { } p ? digests[p].Sha256 : null;
                if (hasTamper && tamper == TamperKind.WrongPreviousHash)
                {
                    previousHash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("not the previous digest")));
                    Expected.Add(new ExpectedFinding(FindingKind.PreviousHashMismatch, digestKey, tamper));
                }

                var plain = DigestJson(digestKey, from, to, signer, previous is { } q ? digests[q] : null, previousHash, logs);
                var sha = Convert.ToHexStringLower(SHA256.HashData(plain));
                var endText = to.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
                var signed = $"{endText}\n{options.Bucket}/{digestKey}\n{sha}\n{(previous is { } r ? digests[r].Signature : "null")}";
                var signature = Convert.ToHexStringLower(signer.Rsa.SignData(Encoding.UTF8.GetBytes(signed), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
                digests.Add((digestKey, plain, sha, signature));

                if (hasTamper && tamper == TamperKind.UnknownKey)
                {
                    Expected.Add(new ExpectedFinding(FindingKind.UnknownPublicKey, digestKey, tamper));
                }

                if (deleteDigestHere || secondDeleted)
                {
                    var cause = secondDeleted ? TamperKind.TwoDeletedDigests : tamper;
                    Expected.Add(new ExpectedFinding(FindingKind.MissingDigest, digestKey, cause));
                    Expected.AddRange(logKeys.Select(k => new ExpectedFinding(FindingKind.LogUnverifiable, k, cause)));
                    continue;
                }

                var written = plain;
                var writtenSignature = signature;
                if (hasTamper && tamper == TamperKind.ModifiedDigest)
                {
                    written = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(plain).Replace("\"digestStartTime\"", "\"digestStartTime\" ", StringComparison.Ordinal));
                    Expected.Add(new ExpectedFinding(FindingKind.DigestSignatureInvalid, digestKey, tamper));
                    ExpectNext(FindingKind.PreviousHashMismatch, hour, tamper);
                }
                else if (hasTamper && tamper == TamperKind.ForgedSignature)
                {
                    writtenSignature = Convert.ToHexStringLower(rogue.Rsa.SignData(Encoding.UTF8.GetBytes(signed), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
                    Expected.Add(new ExpectedFinding(FindingKind.DigestSignatureInvalid, digestKey, tamper));
                    ExpectNext(FindingKind.PreviousSignatureMismatch, hour, tamper);
                }
                else if (hasTamper && tamper == TamperKind.MissingSignature)
                {
                    writtenSignature = null!;
                    Expected.Add(new ExpectedFinding(FindingKind.DigestSignatureMissing, digestKey, tamper));
                    ExpectNext(FindingKind.PreviousSignatureMismatch, hour, tamper);
                }

                WriteGzip(digestKey, written);
                if (writtenSignature is not null)
                {
                    File.WriteAllText(PathOf(digestKey) + LocalDirectoryStore.SignatureSuffix, writtenSignature);
                }

                Digests++;

                if (options.Backfill && chainIndex == 0 && hour == 1)
                {
                    WriteBackfill(from, to, first.Public.IsValidAt(to) ? first : second!);
                }
            }
        }

        /// <summary>The next hour's digest is where the chain notices (it is always written: tampers sit 3+ hours before the end).</summary>
        private void ExpectNext(FindingKind kind, int hour, TamperKind cause)
        {
            var next = options.Start + ((hour + 2) * Hour);
            Expected.Add(new ExpectedFinding(kind, CloudTrailKeys.DigestKey(options.Prefix, options.OrgId, account, region, options.TrailName, options.HomeRegion, next), cause));
        }

        private void WriteBackfill(DateTimeOffset from, DateTimeOffset to, Signer signer)
        {
            var (late, hash) = WriteLog(from.AddMinutes(58), null);
            var key = CloudTrailKeys.DigestKey(options.Prefix, options.OrgId, account, region, options.TrailName, options.HomeRegion, to, backfill: true);
            var plain = DigestJson(key, from, to, signer, null, null, [new DigestLogFile(options.Bucket, late, hash, "SHA-256")]);
            var sha = Convert.ToHexStringLower(SHA256.HashData(plain));
            var endText = to.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
            var signature = Convert.ToHexStringLower(signer.Rsa.SignData(Encoding.UTF8.GetBytes($"{endText}\n{options.Bucket}/{key}\n{sha}\nnull"), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
            WriteGzip(key, plain);
            File.WriteAllText(PathOf(key) + LocalDirectoryStore.SignatureSuffix, signature);
            Digests++;
        }

        private (string Key, string Sha256) WriteLog(DateTimeOffset delivered, TamperKind? tamper)
        {
            var key = CloudTrailKeys.LogKey(options.Prefix, options.OrgId, account, region, delivered, RandomSuffix());
            var plain = Records(delivered);
            var sha = Convert.ToHexStringLower(SHA256.HashData(plain));
            Logs++;
            switch (tamper)
            {
                case TamperKind.ModifiedLog:
                    var text = Encoding.UTF8.GetString(plain);
                    var at = text.IndexOf("\"sourceIPAddress\":\"", StringComparison.Ordinal) + 19;
                    WriteGzip(key, Encoding.UTF8.GetBytes(text[..at] + "198.51.100.66" + text[text.IndexOf('"', at)..]));
                    Expected.Add(new ExpectedFinding(FindingKind.LogHashMismatch, key, TamperKind.ModifiedLog));
                    break;
                case TamperKind.DeletedLog:
                    Expected.Add(new ExpectedFinding(FindingKind.LogMissing, key, TamperKind.DeletedLog));
                    break;
                case TamperKind.TruncatedGzip:
                    var zipped = Gzip(plain);
                    File.WriteAllBytes(EnsureDirectory(key), zipped[..(zipped.Length * 2 / 3)]);
                    Expected.Add(new ExpectedFinding(FindingKind.CorruptGzip, key, TamperKind.TruncatedGzip));
                    break;
                default:
                    WriteGzip(key, plain);
                    break;
            }

            return (key, sha);
        }

        private string RandomSuffix()
        {
            const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
            Span<char> chars = stackalloc char[16];
            for (var i = 0; i < chars.Length; i++)
            {
                chars[i] = alphabet[random.Next(alphabet.Length)];
            }

            return new string(chars);
        }

        private byte[] DigestJson(string key, DateTimeOffset from, DateTimeOffset to, Signer signer, (string Key, byte[] Plain, string Sha256, string Signature)? previous, string? previousHash, List<DigestLogFile> logs)
        {
            using var buffer = new MemoryStream();
            using (var json = new Utf8JsonWriter(buffer))
            {
                json.WriteStartObject();
                json.WriteString("awsAccountId", account);
                json.WriteString("digestStartTime", Iso(from));
                json.WriteString("digestEndTime", Iso(to));
                json.WriteString("digestS3Bucket", options.Bucket);
                json.WriteString("digestS3Object", key);
                json.WriteString("digestPublicKeyFingerprint", signer.Public.Fingerprint);
                json.WriteString("digestSignatureAlgorithm", "SHA256withRSA");
                json.WriteString("newestEventTime", Iso(to.AddSeconds(-1)));
                json.WriteString("oldestEventTime", Iso(from));
                if (previous is { } p)
                {
                    json.WriteString("previousDigestS3Bucket", options.Bucket);
                    json.WriteString("previousDigestS3Object", p.Key);
                    json.WriteString("previousDigestHashValue", previousHash);
                    json.WriteString("previousDigestHashAlgorithm", "SHA-256");
                    json.WriteString("previousDigestSignature", p.Signature);
                }
                else
                {
                    json.WriteNull("previousDigestS3Bucket");
                    json.WriteNull("previousDigestS3Object");
                    json.WriteNull("previousDigestHashValue");
                    json.WriteNull("previousDigestHashAlgorithm");
                    json.WriteNull("previousDigestSignature");
                }

                json.WriteStartArray("logFiles");
                foreach (var log in logs)
                {
                    json.WriteStartObject();
                    json.WriteString("s3Bucket", log.S3Bucket);
                    json.WriteString("s3Object", log.S3Object);
                    json.WriteString("hashValue", log.HashValue);
                    json.WriteString("hashAlgorithm", "SHA-256");
                    json.WriteString("newestEventTime", Iso(to.AddSeconds(-1)));
                    json.WriteString("oldestEventTime", Iso(from));
                    json.WriteEndObject();
                }

                json.WriteEndArray();
                json.WriteEndObject();
            }

            return buffer.ToArray();
        }

        private static readonly (string Source, string Name, bool ReadOnly)[] Calls =
        [
            ("sts.amazonaws.com", "AssumeRole", true),
            ("ec2.amazonaws.com", "DescribeInstances", true),
            ("s3.amazonaws.com", "ListBuckets", true),
            ("iam.amazonaws.com", "GetRole", true),
            ("kms.amazonaws.com", "Decrypt", true),
            ("ec2.amazonaws.com", "RunInstances", false),
            ("iam.amazonaws.com", "AttachRolePolicy", false),
            ("s3.amazonaws.com", "PutBucketTagging", false),
            ("lambda.amazonaws.com", "UpdateFunctionCode", false),
            ("cloudformation.amazonaws.com", "DescribeStacks", true),
        ];

        private static readonly string[] People = ["alice", "bob", "carol", "deploy-pipeline", "dave"];

        /// <summary>A CloudTrail log body with events in the shape CloudTrail writes (see shared/reference).</summary>
        private byte[] Records(DateTimeOffset delivered)
        {
            using var buffer = new MemoryStream(options.EventsPerLog * 1100);
            using (var json = new Utf8JsonWriter(buffer))
            {
                json.WriteStartObject();
                json.WriteStartArray("Records");
                for (var i = 0; i < options.EventsPerLog; i++)
                {
                    var call = Calls[random.Next(Calls.Length)];
                    var person = People[random.Next(People.Length)];
                    var time = delivered.AddMinutes(-5).AddSeconds(random.Next(0, 300));
                    json.WriteStartObject();
                    json.WriteString("eventVersion", "1.09");
                    json.WriteStartObject("userIdentity");
                    json.WriteString("type", "AssumedRole");
                    json.WriteString("principalId", $"AROA{account[..6]}EXAMPLE:{person}");
                    json.WriteString("arn", $"arn:aws:sts::{account}:assumed-role/Admin/{person}");
                    json.WriteString("accountId", account);
                    json.WriteString("accessKeyId", $"ASIA{random.Next(100000, 999999)}EXAMPLE");
                    json.WriteStartObject("sessionContext");
                    json.WriteStartObject("sessionIssuer");
                    json.WriteString("type", "Role");
                    json.WriteString("arn", $"arn:aws:iam::{account}:role/Admin");
                    json.WriteString("userName", "Admin");
                    json.WriteEndObject();
                    json.WriteStartObject("attributes");
                    json.WriteString("creationDate", Iso(time.AddMinutes(-30)));
                    json.WriteString("mfaAuthenticated", "true");
                    json.WriteEndObject();
                    json.WriteEndObject();
                    json.WriteEndObject();
                    json.WriteString("eventTime", Iso(time));
                    json.WriteString("eventSource", call.Source);
                    json.WriteString("eventName", call.Name);
                    json.WriteString("awsRegion", region);
                    json.WriteString("sourceIPAddress", $"203.0.113.{random.Next(1, 255)}");
                    json.WriteString("userAgent", "aws-cli/2.15.0 md/Botocore#1.34.0 ua/2.0 os/linux#6.1 md/arch#x86_64");
                    json.WriteStartObject("requestParameters");
                    json.WriteString("resource", $"arn:aws:{call.Source.Split('.')[0]}:{region}:{account}:resource/{random.Next():x8}");
                    json.WriteEndObject();
                    json.WriteNull("responseElements");
                    json.WriteString("requestID", Guid(random));
                    json.WriteString("eventID", Guid(random));
                    json.WriteBoolean("readOnly", call.ReadOnly);
                    json.WriteString("eventType", "AwsApiCall");
                    json.WriteBoolean("managementEvent", true);
                    json.WriteString("recipientAccountId", account);
                    json.WriteString("eventCategory", "Management");
                    json.WriteStartObject("tlsDetails");
                    json.WriteString("tlsVersion", "TLSv1.3");
                    json.WriteString("cipherSuite", "TLS_AES_128_GCM_SHA256");
                    json.WriteString("clientProvidedHostHeader", $"{call.Source.Split('.')[0]}.{region}.amazonaws.com");
                    json.WriteEndObject();
                    json.WriteEndObject();
                }

                json.WriteEndArray();
                json.WriteEndObject();
            }

            return buffer.ToArray();
        }

        private static string Guid(Random random)
        {
            Span<byte> bytes = stackalloc byte[16];
            random.NextBytes(bytes);
            return new System.Guid(bytes).ToString();
        }

        private string PathOf(string key) => Path.Combine(root, key.Replace('/', Path.DirectorySeparatorChar));

        private string EnsureDirectory(string key)
        {
            var path = PathOf(key);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            return path;
        }

        private void WriteGzip(string key, byte[] plain)
        {
            var zipped = Gzip(plain);
            File.WriteAllBytes(EnsureDirectory(key), zipped);
            Uncompressed += plain.Length;
            Compressed += zipped.Length;
        }
    }

    private static byte[] Gzip(byte[] plain)
    {
        using var buffer = new MemoryStream(plain.Length / 6);
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(plain);
        }

        return buffer.ToArray();
    }

    private static string Iso(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}

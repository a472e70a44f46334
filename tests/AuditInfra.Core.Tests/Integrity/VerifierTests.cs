using System.IO.Compression;
using System.Text;
using AuditInfra.Core.Integrity;

namespace AuditInfra.Core.Tests.Integrity;

/// <summary>The verifier against signed corpora written by <see cref="SampleCorpus"/>: real gzip, real RSA, real files.</summary>
public sealed class VerifierTests : IDisposable
{
    private readonly string root = Path.Combine(Path.GetTempPath(), "auditinfra-verify-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(root))
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private SampleResult Sample(SampleOptions options, string name = "corpus") => SampleCorpus.Write(Path.Combine(root, name), options);

    private static async Task<IntegrityReport> VerifyAsync(SampleResult sample, VerifyOptions? options = null) =>
        await new IntegrityVerifier(new LocalDirectoryStore(sample.Directory), PublicKeySet.Load(sample.PublicKeysFile)).VerifyAsync(options ?? new VerifyOptions());

    private static string[] Actual(IntegrityReport report) => report.Findings.Select(f => $"{f.Kind} {f.Key}").Order(StringComparer.Ordinal).ToArray();

    private static string[] Expected(SampleResult sample) => SampleCorpus.ReadExpected(sample.ExpectedFindingsFile).Select(f => $"{f.Kind} {f.Key}").Order(StringComparer.Ordinal).ToArray();

    [Fact]
    public async Task A_clean_corpus_with_rotation_backfill_empty_hours_regions_accounts_and_a_restart_verifies_with_no_finding()
    {
        var sample = Sample(new SampleOptions());
        var report = await VerifyAsync(sample);

        Assert.Empty(report.Findings);
        Assert.True(report.Clean);
        Assert.Empty(sample.Expected);
        // 3 accounts x 2 regions, 12 hourly digests each, less 2 stopped hours, plus one backfill digest.
        Assert.Equal(6, report.Summaries.Count);
        Assert.Equal((6 * 12) - 2 + 1, report.Summaries.Sum(s => s.Digests));
        Assert.All(report.Summaries, s => Assert.Equal(s.Digests, s.DigestsVerified));
        Assert.All(report.Summaries, s => Assert.Equal(s.Logs, s.LogsVerified));
        Assert.Equal(sample.Logs, report.Summaries.Sum(s => s.Logs));
        Assert.Equal(sample.UncompressedBytes, report.UncompressedBytes);
        Assert.Equal(7, report.Notes.Count(n => n.Kind == NoteKind.ChainStart));
        Assert.Contains(report.Notes, n => n.Kind == NoteKind.ChainStart && n.Message.Contains("restarts", StringComparison.Ordinal));
        Assert.Single(report.Notes, n => n.Kind == NoteKind.BackfillDigest);
        var keys = PublicKeySet.Load(sample.PublicKeysFile);
        Assert.Equal(2, keys.Keys.Count);
    }

    public static TheoryData<TamperKind> Tampers() => new(Enum.GetValues<TamperKind>());

    [Theory]
    [MemberData(nameof(Tampers))]
    public async Task Each_tamper_is_reported_with_exactly_its_findings(TamperKind tamper)
    {
        var sample = Sample(new SampleOptions { Tampers = [tamper], Hours = 8, EventsPerLog = 5 });
        var report = await VerifyAsync(sample);

        Assert.NotEmpty(sample.Expected);
        Assert.Equal(Expected(sample), Actual(report));
        Assert.All(report.Findings, f => Assert.False(string.IsNullOrWhiteSpace(f.Expected + f.Found + f.Message)));
    }

    [Fact]
    public async Task Every_tamper_at_once_is_reported_exactly_and_attributed_to_its_account_and_region()
    {
        var sample = Sample(new SampleOptions { Tampers = Enum.GetValues<TamperKind>(), Hours = 16, EventsPerLog = 3 });
        var report = await VerifyAsync(sample);

        Assert.Equal(Expected(sample), Actual(report));
        Assert.Equal(report.Findings.Count, report.Summaries.Sum(s => s.Findings));
        Assert.Contains("\"result\": \"findings\"", report.ToJson(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Two_consecutive_deleted_digests_are_each_named()
    {
        var sample = Sample(new SampleOptions { Tampers = [TamperKind.TwoDeletedDigests], Hours = 8, EventsPerLog = 2, RestartChain = false, Backfill = false, EmptyHours = false });
        var report = await VerifyAsync(sample);

        var missing = report.Findings.Where(f => f.Kind == FindingKind.MissingDigest).Select(f => f.Key).ToList();
        Assert.Equal(2, missing.Count);
        Assert.All(missing, key => Assert.False(File.Exists(Path.Combine(sample.Directory, key))));
        Assert.Contains("20261120T030000Z", missing[0], StringComparison.Ordinal);
        Assert.Contains("20261120T040000Z", missing[1], StringComparison.Ordinal);
        Assert.Equal(4, report.Findings.Count(f => f.Kind == FindingKind.LogUnverifiable));
    }

    [Fact]
    public async Task A_tamper_outside_the_time_range_is_not_read_and_the_range_boundary_link_is_still_checked()
    {
        var sample = Sample(new SampleOptions { Tampers = [TamperKind.ModifiedLog], Hours = 10, EventsPerLog = 2 });
        // The tamper lands in hour 2, before the range: its finding exists, and only the whole run reports it.
        var tampered = Assert.Single(sample.Expected);
        Assert.Equal(FindingKind.LogHashMismatch, tampered.Kind);
        Assert.True(CloudTrailKeys.Parse(tampered.Key)!.Timestamp < new DateTimeOffset(2026, 11, 20, 5, 0, 0, TimeSpan.Zero));

        var later = await VerifyAsync(sample, new VerifyOptions { Start = new DateTimeOffset(2026, 11, 20, 5, 0, 0, TimeSpan.Zero) });
        Assert.Empty(later.Findings);
        Assert.DoesNotContain(later.Notes, n => n.Kind == NoteKind.ChainBeforeRange);
        Assert.True(later.Summaries.Sum(s => s.Digests) < 6 * 10);

        var whole = await VerifyAsync(sample);
        Assert.Equal(Expected(sample), Actual(whole));
        Assert.Equal((FindingKind.LogHashMismatch, tampered.Key), (Assert.Single(whole.Findings).Kind, whole.Findings[0].Key));
    }

    [Fact]
    public async Task The_boundary_digest_before_the_range_is_compared_with_the_first_digest_in_range()
    {
        var sample = Sample(new SampleOptions { Hours = 6, EventsPerLog = 2, RestartChain = false, Backfill = false, Accounts = ["333333333333"], Regions = ["us-east-1"] });
        // Re-sign nothing: alter the digest ending 04:00 (outside a 04:00.. range); only the link from the 05:00 digest can tell.
        var boundary = Directory.EnumerateFiles(sample.Directory, "*20261120T040000Z.json.gz", SearchOption.AllDirectories).Single();
        RewriteGzip(boundary, text => text.Replace("\"digestStartTime\"", "\"digestStartTime\" ", StringComparison.Ordinal));

        var report = await VerifyAsync(sample, new VerifyOptions { Start = new DateTimeOffset(2026, 11, 20, 4, 0, 0, TimeSpan.Zero) });

        var finding = Assert.Single(report.Findings);
        Assert.Equal(FindingKind.PreviousHashMismatch, finding.Kind);
        Assert.Contains("20261120T050000Z", finding.Key, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Filters_select_accounts_and_regions()
    {
        var sample = Sample(new SampleOptions { Hours = 6, EventsPerLog = 2, Tampers = [TamperKind.DeletedLog] });
        var tampered = sample.Expected.Single();
        var account = CloudTrailKeys.Parse(tampered.Key)!.Account;
        var other = new SampleOptions().Accounts.First(a => a != account);

        var report = await VerifyAsync(sample, new VerifyOptions { OrgId = "o-a1b2c3d4e5", Accounts = new HashSet<string> { other }, Regions = new HashSet<string> { "eu-west-1" } });
        Assert.Empty(report.Findings);
        var only = Assert.Single(report.Summaries);
        Assert.Equal((other, "eu-west-1"), (only.Account, only.Region));

        var again = await VerifyAsync(sample, new VerifyOptions { Accounts = new HashSet<string> { account } });
        Assert.Equal(FindingKind.LogMissing, Assert.Single(again.Findings).Kind);
    }

    [Fact]
    public async Task Removing_the_newest_digests_of_a_chain_while_its_logs_continue_is_reported_as_missing_hours()
    {
        var sample = Sample(new SampleOptions { Hours = 6, EventsPerLog = 2, RestartChain = false, Backfill = false, EmptyHours = false });
        var chainFolder = Path.Combine(sample.Directory, "cloudtrail", "AWSLogs", "o-a1b2c3d4e5", "333333333333", "CloudTrail-Digest", "us-east-1");
        foreach (var hour in new[] { "050000", "060000" })
        {
            foreach (var file in Directory.EnumerateFiles(chainFolder, $"*T{hour}Z.json.gz*", SearchOption.AllDirectories))
            {
                File.Delete(file);
            }
        }

        var report = await VerifyAsync(sample);

        Assert.Single(report.Findings, f => f.Kind == FindingKind.MissingHours && f.Key.Contains("333333333333_CloudTrail-Digest_us-east-1", StringComparison.Ordinal));
        Assert.Equal(2, report.Findings.Count(f => f.Kind == FindingKind.LogUnverifiable && f.Key.Contains("_20261120T04", StringComparison.Ordinal)));
        Assert.Equal(2, report.Notes.Count(n => n.Kind == NoteKind.LogAwaitingDigest));
    }

    [Fact]
    public async Task A_digest_that_is_not_json_or_not_gzip_is_reported_as_such()
    {
        var sample = Sample(new SampleOptions { Hours = 6, EventsPerLog = 2, RestartChain = false, Backfill = false, Accounts = ["333333333333"], Regions = ["us-east-1"] });
        var digests = Directory.EnumerateFiles(sample.Directory, "*CloudTrail-Digest*.json.gz", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
        RewriteGzip(digests[2], _ => "{\"awsAccountId\": ");
        File.WriteAllText(digests[4], "plain text, not gzip");

        var report = await VerifyAsync(sample);

        Assert.Contains(report.Findings, f => f.Kind == FindingKind.DigestMalformed && f.Key.EndsWith(Path.GetFileName(digests[2]), StringComparison.Ordinal));
        Assert.Contains(report.Findings, f => f.Kind == FindingKind.CorruptGzip && f.Key.EndsWith(Path.GetFileName(digests[4]), StringComparison.Ordinal));
        // The digests after them name them and can't compare hashes with what couldn't be read: no crash, no false clean.
        Assert.False(report.Clean);
    }

    [Fact]
    public async Task A_key_used_outside_its_validity_is_reported()
    {
        var sample = Sample(new SampleOptions { Hours = 6, EventsPerLog = 2, RestartChain = false, Backfill = false, Accounts = ["333333333333"], Regions = ["us-east-1"] });
        var keys = PublicKeySet.Load(sample.PublicKeysFile);
        // Shorten the first key's validity so that its later digests fall outside it.
        var shortened = keys.Keys.Select(k => k.ValidFrom < new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero) ? k with { ValidTo = new DateTimeOffset(2026, 11, 20, 1, 0, 0, TimeSpan.Zero) } : k);
        var report = await new IntegrityVerifier(new LocalDirectoryStore(sample.Directory), new PublicKeySet(shortened)).VerifyAsync(new VerifyOptions());

        Assert.Equal(2, report.Findings.Count(f => f.Kind == FindingKind.PublicKeyNotValid));
        Assert.All(report.Findings, f => Assert.Equal(FindingKind.PublicKeyNotValid, f.Kind));
    }

    [Fact]
    public async Task A_backfill_digest_may_be_signed_with_a_key_valid_only_after_its_period()
    {
        var sample = Sample(new SampleOptions { Hours = 6, EventsPerLog = 1, RestartChain = false, RotateKey = false, Accounts = ["111111111111"], Regions = ["us-east-1"] });
        var key = PublicKeySet.Load(sample.PublicKeysFile).Keys.Single();
        // The key becomes valid after the backfilled period (00:00-02:00) ended, as a key generated later would be.
        var later = new PublicKeySet([key with { ValidFrom = new DateTimeOffset(2026, 11, 20, 2, 30, 0, TimeSpan.Zero) }]);

        var report = await new IntegrityVerifier(new LocalDirectoryStore(sample.Directory), later).VerifyAsync(new VerifyOptions());

        Assert.DoesNotContain(report.Findings, f => f.Key.EndsWith("_backfill.json.gz", StringComparison.Ordinal));
        Assert.Single(report.Notes, n => n.Kind == NoteKind.BackfillDigest);
        // The hourly digests of 01:00 and 02:00 were signed before the key existed: those are findings.
        Assert.Equal(2, report.Findings.Count(f => f.Kind == FindingKind.PublicKeyNotValid));
    }

    [Fact]
    public async Task Keys_that_are_not_the_trails_make_every_digest_unknown()
    {
        var sample = Sample(new SampleOptions { Hours = 4, EventsPerLog = 1, RestartChain = false, Backfill = false, RotateKey = false, Accounts = ["333333333333"], Regions = ["us-east-1"] });
        var other = Sample(new SampleOptions { Hours = 4, EventsPerLog = 1, RestartChain = false, Backfill = false, RotateKey = false, Accounts = ["333333333333"], Regions = ["us-east-1"] }, "other");
        var report = await new IntegrityVerifier(new LocalDirectoryStore(sample.Directory), PublicKeySet.Load(other.PublicKeysFile)).VerifyAsync(new VerifyOptions());

        Assert.Equal(4, report.Findings.Count);
        Assert.All(report.Findings, f => Assert.Equal(FindingKind.UnknownPublicKey, f.Kind));
    }

    [Fact]
    public void The_sample_refuses_to_write_into_existing_data_and_leaves_nothing_half_written()
    {
        var target = Path.Combine(root, "busy");
        Directory.CreateDirectory(target);
        File.WriteAllText(Path.Combine(target, "keep.txt"), "mine");

        var ex = Assert.Throws<IntegrityInputException>(() => SampleCorpus.Write(target, new SampleOptions { Hours = 6 }));
        Assert.Contains("not empty", ex.Message, StringComparison.Ordinal);
        Assert.Equal("mine", File.ReadAllText(Path.Combine(target, "keep.txt")));
        Assert.Throws<ArgumentException>(() => SampleCorpus.Write(Path.Combine(root, "small"), new SampleOptions { Hours = 4, Tampers = Enum.GetValues<TamperKind>() }));
        Assert.False(Directory.Exists(Path.Combine(root, "small")));
        Assert.Empty(Directory.EnumerateDirectories(root, ".*partial*"));
    }

    [Fact]
    public async Task The_report_json_carries_the_summaries_the_documentation_reads()
    {
        var sample = Sample(new SampleOptions { Hours = 4, EventsPerLog = 1, RestartChain = false });
        var report = await VerifyAsync(sample);
        var path = Path.Combine(root, "report.json");
        File.WriteAllText(path, report.ToJson());

        var summaries = AuditInfra.Core.Documentation.VerificationReport.Read(path);
        Assert.Equal(6, summaries.Length);
        Assert.All(summaries, s => Assert.Equal("verified", s.Verdict));
        Assert.Equal(report.Summaries.Sum(s => s.LogsVerified), summaries.Sum(s => s.LogsVerified));
    }

    private static void RewriteGzip(string path, Func<string, string> change)
    {
        string text;
        using (var input = new GZipStream(File.OpenRead(path), CompressionMode.Decompress))
        using (var reader = new StreamReader(input, Encoding.UTF8))
        {
            text = reader.ReadToEnd();
        }

        using var output = new GZipStream(File.Create(path), CompressionLevel.Fastest);
        output.Write(Encoding.UTF8.GetBytes(change(text)));
    }
}

public sealed class VerifierLayoutTests : IDisposable
{
    private readonly string root = Path.Combine(Path.GetTempPath(), "auditinfra-layout-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(root))
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Theory]
    [InlineData(null, "")]
    [InlineData("o-a1b2c3d4e5", "")]
    [InlineData(null, "logs/cloudtrail")]
    public async Task Trails_without_an_organization_folder_or_a_key_prefix_are_walked_and_verified_the_same(string? org, string prefix)
    {
        var sample = SampleCorpus.Write(Path.Combine(root, "c"), new SampleOptions { OrgId = org, Prefix = prefix, Hours = 8, EventsPerLog = 2, Tampers = [TamperKind.DeletedDigest, TamperKind.InsertedLog] });
        var report = await new IntegrityVerifier(new LocalDirectoryStore(sample.Directory), PublicKeySet.Load(sample.PublicKeysFile)).VerifyAsync(new VerifyOptions());

        Assert.Equal(
            sample.Expected.Select(f => $"{f.Kind} {f.Key}").Order(StringComparer.Ordinal),
            report.Findings.Select(f => $"{f.Kind} {f.Key}").Order(StringComparer.Ordinal));
        Assert.Equal(6, report.Summaries.Count);
        Assert.All(sample.Expected, f => Assert.StartsWith(prefix.Length == 0 ? "AWSLogs/" : prefix + "/AWSLogs/", f.Key, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_source_pointing_inside_an_account_folder_is_verified_as_one_unit()
    {
        var sample = SampleCorpus.Write(Path.Combine(root, "c"), new SampleOptions { Hours = 8, EventsPerLog = 2, Tampers = [TamperKind.ModifiedLog] });
        var tampered = CloudTrailKeys.Parse(sample.Expected.Single().Key)!;
        var accountPrefix = $"cloudtrail/AWSLogs/o-a1b2c3d4e5/{tampered.Account}/";

        var report = await new IntegrityVerifier(new LocalDirectoryStore(sample.Directory, accountPrefix), PublicKeySet.Load(sample.PublicKeysFile)).VerifyAsync(new VerifyOptions());

        Assert.Equal(FindingKind.LogHashMismatch, Assert.Single(report.Findings).Kind);
        Assert.All(report.Summaries, s => Assert.Equal(tampered.Account, s.Account));
        Assert.Equal(2, report.Summaries.Count);
    }

    /// <summary>Records every listing asked of a local copy.</summary>
    private sealed class ListingRecorder(LocalDirectoryStore inner) : IObjectStore
    {
        public List<string> Listed { get; } = [];

        public string Description => inner.Description;

        public string? Bucket => null;

        public string Prefix => inner.Prefix;

        public bool IsLocal => true;

        public IAsyncEnumerable<ObjectEntry> ListAsync(string subPrefix, CancellationToken cancellationToken)
        {
            lock (Listed)
            {
                Listed.Add(subPrefix);
            }

            return inner.ListAsync(subPrefix, cancellationToken);
        }

        public IAsyncEnumerable<string> ListFoldersAsync(string subPrefix, CancellationToken cancellationToken) => inner.ListFoldersAsync(subPrefix, cancellationToken);

        public Task<StoredObject> OpenAsync(string key, bool withSignature, CancellationToken cancellationToken) => inner.OpenAsync(key, withSignature, cancellationToken);
    }

    [Fact]
    public async Task The_edge_digests_of_a_chain_are_its_first_and_last_days_found_without_listing_logs_or_the_days_between()
    {
        var sample = SampleCorpus.Write(Path.Combine(root, "c"), new SampleOptions { Hours = 80, EventsPerLog = 1, LogsPerHour = 1, Accounts = ["111111111111"], Regions = ["eu-west-1"] });
        var store = new ListingRecorder(new LocalDirectoryStore(sample.Directory));

        var unit = Assert.Single(await SourceLayout.DiscoverAsync(store, new VerifyOptions(), CancellationToken.None));
        var edges = await unit.EdgeDigestsAsync(store, CancellationToken.None);

        var all = Directory.EnumerateFiles(sample.Directory, "*.json.gz", SearchOption.AllDirectories)
            .Select(f => CloudTrailKeys.Parse(Path.GetRelativePath(sample.Directory, f).Replace('\\', '/')))
            .OfType<CloudTrailKey>()
            .Where(k => k.Kind == CloudTrailObjectKind.Digest)
            .ToList();
        var firstDay = all.Min(k => k.Timestamp.UtcDateTime.Date);
        var lastDay = all.Max(k => k.Timestamp.UtcDateTime.Date);
        Assert.True((lastDay - firstDay).TotalDays >= 3, "the sample spans at least four days");
        Assert.Equal(
            all.Where(k => k.Timestamp.UtcDateTime.Date == firstDay || k.Timestamp.UtcDateTime.Date == lastDay).Select(k => k.Key).Order(StringComparer.Ordinal),
            edges.Select(k => k.Key).Order(StringComparer.Ordinal));
        Assert.Equal(all.Min(k => k.Timestamp), edges.Min(k => k.Timestamp));
        Assert.Equal(all.Max(k => k.Timestamp), edges.Max(k => k.Timestamp));
        Assert.Equal(["us-east-1"], edges.Select(k => k.HomeRegion).Distinct());
        Assert.Equal(2, store.Listed.Count);
        Assert.All(store.Listed, prefix => Assert.Contains("/CloudTrail-Digest/eu-west-1/", prefix, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_digest_moved_to_another_key_is_reported_where_it_claims_to_be()
    {
        var sample = SampleCorpus.Write(Path.Combine(root, "c"), new SampleOptions { Hours = 6, EventsPerLog = 1, RestartChain = false, Backfill = false, Accounts = ["333333333333"], Regions = ["us-east-1"] });
        var digest = Directory.EnumerateFiles(sample.Directory, "*T030000Z.json.gz", SearchOption.AllDirectories).Single();
        var moved = digest.Replace("T030000Z", "T033000Z", StringComparison.Ordinal);
        File.Move(digest, moved);
        File.Move(digest + ".signature", moved + ".signature");

        var report = await new IntegrityVerifier(new LocalDirectoryStore(sample.Directory), PublicKeySet.Load(sample.PublicKeysFile)).VerifyAsync(new VerifyOptions());

        var mismatch = Assert.Single(report.Findings, f => f.Kind == FindingKind.DigestLocationMismatch);
        Assert.EndsWith("T033000Z.json.gz", mismatch.Key, StringComparison.Ordinal);
        Assert.EndsWith("T030000Z.json.gz", mismatch.Found, StringComparison.Ordinal);
        // The next digest names the original key, now absent from the source.
        Assert.Contains(report.Findings, f => f.Kind == FindingKind.BrokenChain || f.Kind == FindingKind.MissingDigest);
    }
}

/// <summary>How the verifier copes with a remote store that misbehaves, over a real local corpus.</summary>
public sealed class VerifierRemoteTests : IDisposable
{
    private readonly string root = Path.Combine(Path.GetTempPath(), "auditinfra-remote-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(root))
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>A local copy presented as remote, with faults injected per key.</summary>
    private sealed class FlakyStore(LocalDirectoryStore inner, Func<string, int, Exception?> fault) : IObjectStore
    {
        public Dictionary<string, int> Opens { get; } = [];

        public string Description => "flaky://" + inner.Root;

        public string? Bucket => null;

        public string Prefix => inner.Prefix;

        public bool IsLocal => false;

        public IAsyncEnumerable<ObjectEntry> ListAsync(string subPrefix, CancellationToken cancellationToken) => inner.ListAsync(subPrefix, cancellationToken);

        public IAsyncEnumerable<string> ListFoldersAsync(string subPrefix, CancellationToken cancellationToken) => inner.ListFoldersAsync(subPrefix, cancellationToken);

        public async Task<StoredObject> OpenAsync(string key, bool withSignature, CancellationToken cancellationToken)
        {
            int count;
            lock (Opens)
            {
                Opens[key] = count = Opens.GetValueOrDefault(key) + 1;
            }

            switch (fault(key, count))
            {
                case ObjectNotFoundException gone:
                    throw gone;
                case IOException broken:
                    var real = await inner.OpenAsync(key, withSignature, cancellationToken);
                    return new StoredObject(new BreaksAfter(real.Content, 100, broken), real.Signature);
                default:
                    return await inner.OpenAsync(key, withSignature, cancellationToken);
            }
        }
    }

    /// <summary>A stream that delivers some bytes, then fails as a dropped connection does.</summary>
    private sealed class BreaksAfter(Stream inner, int bytes, IOException error) : Stream
    {
        private int delivered;

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (delivered >= bytes)
            {
                throw error;
            }

            var n = inner.Read(buffer, offset, Math.Min(count, bytes - delivered));
            delivered += n;
            return n;
        }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => delivered; set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            inner.Dispose();
            base.Dispose(disposing);
        }
    }

    [Fact]
    public async Task A_read_that_breaks_off_mid_stream_is_read_again_and_verifies()
    {
        var sample = SampleCorpus.Write(Path.Combine(root, "c"), new SampleOptions { Hours = 4, EventsPerLog = 20, RestartChain = false, Backfill = false, Accounts = ["333333333333"], Regions = ["us-east-1"] });
        var store = new FlakyStore(new LocalDirectoryStore(sample.Directory), (key, count) => count == 1 ? new IOException("connection reset by peer") : null);

        var report = await new IntegrityVerifier(store, PublicKeySet.Load(sample.PublicKeysFile)).VerifyAsync(new VerifyOptions());

        Assert.Empty(report.Findings);
        Assert.Equal(sample.Digests + sample.Logs, store.Opens.Count);
        Assert.All(store.Opens.Values, opens => Assert.Equal(2, opens));
    }

    [Fact]
    public async Task A_read_that_keeps_breaking_is_an_error_of_the_source_not_a_verdict()
    {
        var sample = SampleCorpus.Write(Path.Combine(root, "c"), new SampleOptions { Hours = 4, EventsPerLog = 20, RestartChain = false, Backfill = false, Accounts = ["333333333333"], Regions = ["us-east-1"] });
        var store = new FlakyStore(new LocalDirectoryStore(sample.Directory), (_, _) => new IOException("connection reset by peer"));

        await Assert.ThrowsAsync<IOException>(() => new IntegrityVerifier(store, PublicKeySet.Load(sample.PublicKeysFile)).VerifyAsync(new VerifyOptions()));
    }

    [Fact]
    public async Task A_log_deleted_between_listing_and_reading_is_reported_missing()
    {
        var sample = SampleCorpus.Write(Path.Combine(root, "c"), new SampleOptions { Hours = 4, EventsPerLog = 2, RestartChain = false, Backfill = false, Accounts = ["333333333333"], Regions = ["us-east-1"] });
        var victim = Directory.EnumerateFiles(sample.Directory, "*_CloudTrail_*.json.gz", SearchOption.AllDirectories).Order(StringComparer.Ordinal).First();
        var victimKey = Path.GetRelativePath(sample.Directory, victim).Replace(Path.DirectorySeparatorChar, '/');
        var store = new FlakyStore(new LocalDirectoryStore(sample.Directory), (key, _) => key == victimKey ? new ObjectNotFoundException(key) : null);

        var report = await new IntegrityVerifier(store, PublicKeySet.Load(sample.PublicKeysFile)).VerifyAsync(new VerifyOptions());

        var finding = Assert.Single(report.Findings);
        Assert.Equal((FindingKind.LogMissing, victimKey), (finding.Kind, finding.Key));
    }

    [Fact]
    public void Keys_of_several_regions_merged_in_one_file_are_all_found()
    {
        using var first = System.Security.Cryptography.RSA.Create(2048);
        using var second = System.Security.Cryptography.RSA.Create(2048);
        string List(System.Security.Cryptography.RSA rsa) => PublicKeySet.ToJson([new CloudTrailPublicKey(PublicKeySet.FingerprintOf(rsa.ExportRSAPublicKey()), rsa.ExportRSAPublicKey(), DateTimeOffset.UnixEpoch, DateTimeOffset.MaxValue)]);
        var merged = $"[{List(first)}, {List(second)}]";

        var keys = PublicKeySet.Parse(merged, "keys.json");

        Assert.Equal(2, keys.Keys.Count);
        Assert.NotNull(keys.Find(PublicKeySet.FingerprintOf(first.ExportRSAPublicKey())));
        Assert.NotNull(keys.Find(PublicKeySet.FingerprintOf(second.ExportRSAPublicKey())));
    }
}

using System.IO.Compression;
using AuditInfra.Core.Integrity;

namespace AuditInfra.Core.Tests.Integrity;

/// <summary>Verification from a state: only what is new is read, the chain stays linked to the state, a full pass catches what changed before it.</summary>
public sealed class IncrementalVerifyTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 11, 20, 0, 0, 0, TimeSpan.Zero);

    private readonly string root = Path.Combine(Path.GetTempPath(), "auditinfra-incremental-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(root))
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>Counts the objects opened of a local copy.</summary>
    private sealed class CountingStore(LocalDirectoryStore inner) : IObjectStore
    {
        private int opens;

        public int Opens => Volatile.Read(ref opens);

        public string Description => inner.Description;

        public string? Bucket => null;

        public string Prefix => inner.Prefix;

        public bool IsLocal => true;

        public IAsyncEnumerable<ObjectEntry> ListAsync(string subPrefix, CancellationToken cancellationToken) => inner.ListAsync(subPrefix, cancellationToken);

        public IAsyncEnumerable<string> ListFoldersAsync(string subPrefix, CancellationToken cancellationToken) => inner.ListFoldersAsync(subPrefix, cancellationToken);

        public Task<StoredObject> OpenAsync(string key, bool withSignature, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref opens);
            return inner.OpenAsync(key, withSignature, cancellationToken);
        }
    }

    private SampleResult Sample(int hours = 12, IReadOnlyList<string>? accounts = null, params TamperKind[] tampers) =>
        SampleCorpus.Write(Path.Combine(root, "corpus"), new SampleOptions
        {
            Hours = hours,
            EventsPerLog = 2,
            RestartChain = false,
            Backfill = false,
            Accounts = accounts ?? ["111111111111", "222222222222", "333333333333"],
            Tampers = tampers,
        });

    private static async Task<(IntegrityReport Report, int Opens)> VerifyAsync(SampleResult sample, VerifyOptions options)
    {
        var store = new CountingStore(new LocalDirectoryStore(sample.Directory));
        var report = await new IntegrityVerifier(store, PublicKeySet.Load(sample.PublicKeysFile)).VerifyAsync(options);
        return (report, store.Opens);
    }

    private static IEnumerable<string> Points(IEnumerable<KeyValuePair<string, ChainCheckpoint>> checkpoints) =>
        checkpoints.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => $"{c.Key} {c.Value.LastDigest} {c.Value.LastSignature} {c.Value.LastSha256} {c.Value.LastStart:O} {c.Value.LastEnd:O} [{string.Join(",", c.Value.ProvenLogs)}]");

    private static string Relative(SampleResult sample, string file) => Path.GetRelativePath(sample.Directory, file).Replace(Path.DirectorySeparatorChar, '/');

    /// <summary>Moves the digests and logs of the hours from <paramref name="from"/> on out of the copy, as if not yet delivered; the returned action brings them back.</summary>
    private Action Hide(SampleResult sample, DateTimeOffset from)
    {
        var stash = Path.Combine(root, "stash-" + Guid.NewGuid().ToString("N"));
        var moved = new List<(string From, string To)>();
        foreach (var file in Directory.EnumerateFiles(sample.Directory, "*.json.gz*", SearchOption.AllDirectories).ToList())
        {
            var key = CloudTrailKeys.Parse(Relative(sample, file).Replace(LocalDirectoryStore.SignatureSuffix, string.Empty, StringComparison.Ordinal));
            if (key is not null && (key.Kind == CloudTrailObjectKind.Digest ? key.Timestamp > from : key.Timestamp >= from))
            {
                var to = Path.Combine(stash, Relative(sample, file));
                Directory.CreateDirectory(Path.GetDirectoryName(to)!);
                File.Move(file, to);
                moved.Add((file, to));
            }
        }

        Assert.NotEmpty(moved);
        return () => moved.ForEach(m => File.Move(m.To, m.From));
    }

    [Fact]
    public async Task A_second_run_reads_only_the_new_hours_and_a_third_over_nothing_new_reads_nothing()
    {
        var sample = Sample();
        var restore = Hide(sample, Start.AddHours(9));
        var (first, firstOpens) = await VerifyAsync(sample, new VerifyOptions());
        Assert.Empty(first.Findings);
        Assert.Equal(6, first.Checkpoints.Count);
        Assert.All(first.Checkpoints.Values, c => Assert.Equal(Start.AddHours(9), c.LastEnd));
        restore();

        var (second, secondOpens) = await VerifyAsync(sample, new VerifyOptions { Checkpoints = first.Checkpoints });
        var (full, fullOpens) = await VerifyAsync(sample, new VerifyOptions());

        Assert.Empty(second.Findings);
        Assert.Equal(6 * 3, second.Summaries.Sum(s => s.Digests));
        Assert.Equal(full.Summaries.Sum(s => s.Logs) - first.Summaries.Sum(s => s.Logs), second.Summaries.Sum(s => s.Logs));
        Assert.Equal(fullOpens - firstOpens, secondOpens);
        Assert.All(second.Checkpoints.Values, c => Assert.Equal(Start.AddHours(12), c.LastEnd));
        Assert.Equal(Points(full.Checkpoints), Points(second.Checkpoints));

        var (third, thirdOpens) = await VerifyAsync(sample, new VerifyOptions { Checkpoints = second.Checkpoints });
        Assert.Empty(third.Findings);
        Assert.Equal(0, thirdOpens);
        Assert.Empty(third.Checkpoints);
    }

    [Fact]
    public async Task A_day_proven_over_several_runs_gets_the_day_proof_of_one_run_over_the_whole_day()
    {
        var sample = Sample(hours: 30);
        var restore = Hide(sample, Start.AddHours(20));
        var (first, _) = await VerifyAsync(sample, new VerifyOptions());
        Assert.All(first.DayProofs, d => Assert.False(d.Complete));
        restore();
        var state = VerifyState.Parse(new VerifyState("x", first.Checkpoints).ToJson());

        var (second, _) = await VerifyAsync(sample, new VerifyOptions { Checkpoints = state.Chains });
        var (whole, _) = await VerifyAsync(sample, new VerifyOptions());

        var day = DateOnly.FromDateTime(Start.UtcDateTime);
        var continued = second.DayProofs.Where(d => d.Day == day).ToList();
        Assert.Equal(6, continued.Count);
        Assert.All(continued, d => Assert.True(d.Proven));
        Assert.All(continued, d => Assert.Equal(24, d.Digests));
        Assert.Equal(whole.DayProofs.Where(d => d.Day == day), continued);
    }

    [Fact]
    public async Task A_new_digest_that_does_not_link_to_the_remembered_one_is_a_finding_and_its_chain_is_not_advanced()
    {
        var sample = Sample();
        var restore = Hide(sample, Start.AddHours(9));
        var (first, _) = await VerifyAsync(sample, new VerifyOptions());
        restore();
        var (chain, checkpoint) = first.Checkpoints.OrderBy(c => c.Key, StringComparer.Ordinal).First();
        var remembered = new Dictionary<string, ChainCheckpoint>(first.Checkpoints) { [chain] = checkpoint with { LastSignature = "00" + checkpoint.LastSignature[2..] } };

        var (second, _) = await VerifyAsync(sample, new VerifyOptions { Checkpoints = remembered });

        var finding = Assert.Single(second.Findings);
        Assert.Equal(FindingKind.PreviousSignatureMismatch, finding.Kind);
        Assert.Equal(CloudTrailKeys.Parse(checkpoint.LastDigest)!.ChainId, CloudTrailKeys.Parse(finding.Key)!.ChainId);
        Assert.DoesNotContain(chain, second.Checkpoints.Keys);
        Assert.Equal(5, second.Checkpoints.Count);
    }

    [Fact]
    public async Task A_digest_deleted_and_a_digest_altered_before_the_state_point_are_missed_incrementally_and_caught_by_a_full_pass()
    {
        var sample = Sample();
        var (first, _) = await VerifyAsync(sample, new VerifyOptions());
        Assert.Empty(first.Findings);
        var digests = Directory.EnumerateFiles(sample.Directory, "*_CloudTrail-Digest_*T040000Z.json.gz", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
        File.Delete(digests[0]);
        File.Delete(digests[0] + LocalDirectoryStore.SignatureSuffix);
        using (var input = new GZipStream(File.OpenRead(digests[1]), CompressionMode.Decompress))
        using (var plain = new MemoryStream())
        {
            input.CopyTo(plain);
            var altered = System.Text.Encoding.UTF8.GetString(plain.ToArray()).Replace("\"logFiles\"", " \"logFiles\"", StringComparison.Ordinal);
            input.Dispose();
            using var output = new GZipStream(File.Create(digests[1]), CompressionLevel.Optimal);
            output.Write(System.Text.Encoding.UTF8.GetBytes(altered));
        }

        var (incremental, opens) = await VerifyAsync(sample, new VerifyOptions { Checkpoints = first.Checkpoints });
        var (full, _) = await VerifyAsync(sample, new VerifyOptions { Checkpoints = first.Checkpoints, Full = true });

        Assert.Empty(incremental.Findings);
        Assert.Equal(0, opens);
        Assert.Contains(full.Findings, f => f.Kind == FindingKind.MissingDigest && f.Key == Relative(sample, digests[0]));
        Assert.Contains(full.Findings, f => f.Kind == FindingKind.DigestSignatureInvalid && f.Key == Relative(sample, digests[1]));
        // The chains with findings stay where they were proven; the others are advanced as in any run.
        Assert.Equal(4, full.Checkpoints.Count);
    }

    [Fact]
    public async Task Four_shards_together_give_exactly_the_findings_and_checkpoints_of_one_unsharded_run()
    {
        var sample = SampleCorpus.Write(Path.Combine(root, "corpus"), new SampleOptions
        {
            Hours = 8,
            EventsPerLog = 1,
            Accounts = ["111111111111", "222222222222", "333333333333", "444444444444", "555555555555"],
            Regions = ["us-east-1", "eu-west-1", "ap-southeast-2"],
            Tampers = [TamperKind.ModifiedLog, TamperKind.DeletedDigest, TamperKind.InsertedLog, TamperKind.ForgedSignature, TamperKind.TwoDeletedDigests],
        });
        var options = new VerifyOptions { Accounts = new HashSet<string> { "111111111111", "222222222222", "333333333333", "444444444444", "555555555555", "999999999999" } };

        var (whole, _) = await VerifyAsync(sample, options);
        var shards = new List<IntegrityReport>();
        for (var k = 0; k < 4; k++)
        {
            shards.Add((await VerifyAsync(sample, options with { Shard = new ChainShard(k, 4) })).Report);
        }

        static string[] Findings(IEnumerable<IntegrityFinding> findings) => findings.Select(f => $"{f.Kind} {f.Key} {f.Expected} {f.Found}").Order(StringComparer.Ordinal).ToArray();
        Assert.NotEmpty(whole.Findings);
        Assert.Contains(whole.Findings, f => f.Kind == FindingKind.AccountWithoutData);
        Assert.Equal(Findings(whole.Findings), Findings(shards.SelectMany(s => s.Findings)));
        Assert.Equal(Points(whole.Checkpoints), Points(shards.SelectMany(s => s.Checkpoints)));
        Assert.Equal(whole.DayProofs, shards.SelectMany(s => s.DayProofs).OrderBy(p => p.Account, StringComparer.Ordinal).ThenBy(p => p.Region, StringComparer.Ordinal).ThenBy(p => p.Trail, StringComparer.Ordinal).ThenBy(p => p.Day));
        Assert.Equal(whole.Summaries.Count, shards.Sum(s => s.Summaries.Count));
        Assert.True(shards.Count(s => s.Summaries.Count > 0) >= 3, "a stable hash spreads 15 chains over the shards");
    }

    [Fact]
    public async Task A_state_file_round_trips_and_a_corrupt_one_is_an_input_error_naming_it()
    {
        var sample = Sample(hours: 6);
        var (report, _) = await VerifyAsync(sample, new VerifyOptions());
        var path = Path.Combine(root, "state.json");
        var store = new FileStateStore(path);

        Assert.Equal((null, null), await store.LoadAsync(CancellationToken.None));
        var version = await store.SaveAsync(new VerifyState(sample.Directory, report.Checkpoints), null, CancellationToken.None);
        var (loaded, loadedVersion) = await store.LoadAsync(CancellationToken.None);
        Assert.Equal(version, loadedVersion);
        Assert.Equal(report.Checkpoints.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => (c.Key, c.Value.LastDigest, c.Value.LastSignature, c.Value.LastSha256, c.Value.LastEnd)), loaded!.Chains.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => (c.Key, c.Value.LastDigest, c.Value.LastSignature, c.Value.LastSha256, c.Value.LastEnd)));
        await Assert.ThrowsAsync<StateConflictException>(() => store.SaveAsync(loaded, null, CancellationToken.None));

        File.WriteAllText(path, "{\"version\": 1, \"source\": \"x\", \"chains\": {\"a\": {\"lastDigest\": 5}}}");
        var error = await Assert.ThrowsAsync<IntegrityInputException>(() => store.LoadAsync(CancellationToken.None));
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("lastDigest", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }
}

using System.Globalization;
using AuditInfra.Core.Integrity;

namespace AuditInfra.Core.Tests.Integrity;

/// <summary>The chain walker on digests as facts: no gzip, no RSA, no files.</summary>
public sealed class ChainWalkerTests
{
    private const string Account = "111111111111";
    private const string Region = "eu-west-1";
    private static readonly DateTimeOffset Start = new(2026, 11, 20, 0, 0, 0, TimeSpan.Zero);

    private static string DigestKeyAt(int hour) => CloudTrailKeys.DigestKey("ct/", "o-a1b2c3d4e5", Account, Region, "org-trail", "us-east-1", Start.AddHours(hour + 1));

    private static string LogKeyAt(int hour, string random) => CloudTrailKeys.LogKey("ct/", "o-a1b2c3d4e5", Account, Region, Start.AddHours(hour).AddMinutes(5), random);

    private static string Iso(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>A chain of hourly digests, each linked to the one before by its (fake) hash and signature, each listing one log.</summary>
    private static List<DigestRead> Chain(int hours)
    {
        var chain = new List<DigestRead>();
        for (var h = 0; h < hours; h++)
        {
            var key = DigestKeyAt(h);
            var previous = h == 0 ? null : chain[h - 1];
            var file = new DigestFile(
                Account,
                Iso(Start.AddHours(h)),
                Iso(Start.AddHours(h + 1)),
                "bucket",
                key,
                "fp",
                "SHA256withRSA",
                previous is null ? null : "bucket",
                previous?.Key.Key,
                previous?.Sha256,
                previous is null ? null : "SHA-256",
                previous?.Signature,
                [new DigestLogFile("bucket", LogKeyAt(h, "log" + h), $"hash{h}", "SHA-256")]);
            chain.Add(new DigestRead(CloudTrailKeys.Parse(key)!, false, $"sig{h}", $"sha{h}", file, null, null));
        }

        return chain;
    }

    private static WalkOutcome Walk(IReadOnlyList<DigestRead> present, VerifyOptions? options = null)
    {
        var outcome = new WalkOutcome();
        var listed = present.Select(r => (r.Key, 100L)).ToList();
        ChainWalker.WalkChains(ChainWalker.Chains(listed), present.ToDictionary(r => r.Key.Key, StringComparer.Ordinal), options ?? new VerifyOptions(), outcome);
        return outcome;
    }

    [Fact]
    public void A_linked_chain_has_no_finding_and_its_first_digest_starts_it()
    {
        var outcome = Walk(Chain(5));

        Assert.Empty(outcome.Findings);
        Assert.Equal(DigestKeyAt(0), Assert.Single(outcome.Notes, n => n.Kind == NoteKind.ChainStart).Key);
    }

    [Fact]
    public void A_digest_whose_previous_signature_differs_from_the_one_read_before_is_a_signature_mismatch()
    {
        var chain = Chain(4);
        chain[2] = chain[2] with { Signature = "re-signed" };

        var outcome = Walk(chain);

        var finding = Assert.Single(outcome.Findings);
        Assert.Equal((FindingKind.PreviousSignatureMismatch, DigestKeyAt(3)), (finding.Kind, finding.Key));
    }

    [Fact]
    public void A_digest_whose_bytes_changed_breaks_the_next_link_by_hash()
    {
        var chain = Chain(4);
        chain[1] = chain[1] with { Sha256 = "other" };

        var finding = Assert.Single(Walk(chain).Findings);
        Assert.Equal((FindingKind.PreviousHashMismatch, DigestKeyAt(2)), (finding.Kind, finding.Key));
    }

    [Fact]
    public void Two_removed_digests_are_each_named_and_their_hours_are_a_hole()
    {
        var chain = Chain(6);
        chain.RemoveAt(3);
        chain.RemoveAt(2);

        var outcome = Walk(chain);

        Assert.Equal(
            [$"MissingDigest {DigestKeyAt(2)}", $"MissingDigest {DigestKeyAt(3)}"],
            outcome.Findings.Select(f => $"{f.Kind} {f.Key}").Order(StringComparer.Ordinal));
        var hole = Assert.Single(outcome.Holes);
        Assert.Equal((Start.AddHours(2), Start.AddHours(4)), (hole.From, hole.To));
    }

    [Fact]
    public void Logs_are_judged_listed_hashed_missing_inserted_and_awaiting_by_the_digests_as_given()
    {
        var chain = Chain(3);
        var reads = chain.ToDictionary(r => r.Key.Key, StringComparer.Ordinal);
        var expected = ChainWalker.ExpectedLogs(chain);
        var inserted = LogKeyAt(1, "inserted");
        var late = LogKeyAt(3, "late");
        var present = new[] { LogKeyAt(0, "log0"), LogKeyAt(1, "log1"), inserted, late }
            .Select(k => CloudTrailKeys.Parse(k)!)
            .ToDictionary(k => k.Key, k => (k, 10L), StringComparer.Ordinal);
        var outcome = new WalkOutcome();

        var toHash = ChainWalker.LogsToHash(expected, present, outcome);
        foreach (var (key, hash, digest) in toHash)
        {
            var read = key.Key.Contains("log0", StringComparison.Ordinal) ? new GunzipResult(hash, 1, 1, null) : new GunzipResult("tampered", 1, 1, null);
            ChainWalker.JudgeLog(key.Key, hash, digest, read, outcome);
        }

        ChainWalker.ClassifyUnlistedLogs(present, expected, reads, new VerifyOptions(), outcome);

        Assert.Equal(
            [$"LogHashMismatch {LogKeyAt(1, "log1")}", $"LogMissing {LogKeyAt(2, "log2")}", $"LogNotListed {inserted}"],
            outcome.Findings.Select(f => $"{f.Kind} {f.Key}").Order(StringComparer.Ordinal));
        Assert.True(outcome.LogResults[LogKeyAt(0, "log0")]);
        Assert.Equal(late, Assert.Single(outcome.Tails).Log);
    }

    [Fact]
    public void A_chain_that_stops_hours_before_end_is_missing_hours_once_every_unit_is_walked()
    {
        var ends = new List<ChainEnd> { new("p|o|1|r", "p|o|trail|us-east-1", Start.AddHours(3), DigestKeyAt(2)) };
        var findings = new List<IntegrityFinding>();
        var notes = new List<IntegrityNote>();

        ChainWalker.ClassifyTails(new VerifyOptions { End = Start.AddHours(10) }, [], ends, Start.AddDays(2), findings, notes);

        var finding = Assert.Single(findings);
        Assert.Equal((FindingKind.MissingHours, DigestKeyAt(2)), (finding.Kind, finding.Key));
    }

    [Fact]
    public void A_day_is_covered_only_by_digests_from_its_first_hour_to_midnight_without_a_gap()
    {
        var day = DateOnly.FromDateTime(Start.UtcDateTime);
        var chain = Chain(24);

        Assert.True(IntegrityReportBuilder.Covers(day, chain));
        Assert.False(IntegrityReportBuilder.Covers(day, chain.Take(23).ToList()));
        Assert.False(IntegrityReportBuilder.Covers(day, chain.Skip(2).ToList()));
        Assert.False(IntegrityReportBuilder.Covers(day, chain.Where((_, i) => i != 12).ToList()));
    }

    [Theory]
    [InlineData("0/4", 0, 4)]
    [InlineData("3/4", 3, 4)]
    [InlineData("0/1", 0, 1)]
    public void A_shard_is_k_of_n_counted_from_zero(string text, int index, int count) =>
        Assert.Equal(new ChainShard(index, count), ChainShard.Parse(text, _ => null));

    [Theory]
    [InlineData("4/4")]
    [InlineData("-1/4")]
    [InlineData("1/0")]
    [InlineData("1")]
    [InlineData("a/4")]
    [InlineData("auto/4")]
    public void A_bad_shard_names_what_is_expected(string text) =>
        Assert.Contains("k/N", Assert.Throws<FormatException>(() => ChainShard.Parse(text, _ => null)).Message, StringComparison.Ordinal);

    [Fact]
    public void Auto_takes_k_from_the_batch_array_index()
    {
        Assert.Equal(new ChainShard(2, 5), ChainShard.Parse("auto/5", name => name == ChainShard.BatchArrayIndexVariable ? "2" : null));
        Assert.Throws<FormatException>(() => ChainShard.Parse("auto/5", name => name == ChainShard.BatchArrayIndexVariable ? "5" : null));
    }

    [Fact]
    public void Every_chain_falls_in_exactly_one_shard_with_every_other_region_of_its_account_and_the_same_one_every_time()
    {
        var accounts = Enumerable.Range(0, 200).Select(i => $"{100000000000 + i}").ToList();
        foreach (var account in accounts)
        {
            var shard = Assert.Single(Enumerable.Range(0, 4), k => new ChainShard(k, 4).Contains(account));
            // Whatever the region, the account's chains are one shard's: that shard sees whole account-days to attest.
            Assert.All(new[] { "us-east-1", "eu-west-1", "ap-southeast-2" }, region => Assert.True(ChainWalker.Selected(new CloudTrailKey("k", CloudTrailObjectKind.Log, "", null, account, region, DateTimeOffset.UnixEpoch, null, null, false), new VerifyOptions { Shard = new ChainShard(shard, 4) })));
        }

        Assert.Equal(ChainShard.Of("111111111111", 4), ChainShard.Of("111111111111", 4));
        // A stable hash spreads accounts over every shard.
        Assert.Equal(4, accounts.Select(a => ChainShard.Of(a, 4)).Distinct().Count());
    }

    [Fact]
    public async Task The_retry_policy_stops_waiting_when_cancelled()
    {
        var retry = new SourceRetry(_ => RetryReason.Throttled, throttleRetries: 5, transientRetries: 0, baseDelay: TimeSpan.FromSeconds(30));
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        var attempts = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => retry.ExecuteAsync<int>(_ =>
        {
            attempts++;
            throw new IOException("throttled");
        }, cancel.Token));

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
        Assert.Equal(1, attempts);
    }

    [Fact]
    public async Task The_retry_policy_retries_throttling_and_transient_failures_each_their_own_number_of_times()
    {
        var retry = new SourceRetry(e => e is TimeoutException ? RetryReason.Transient : RetryReason.Throttled, throttleRetries: 4, transientRetries: 1, baseDelay: TimeSpan.FromMilliseconds(1));
        var throttled = 0;
        var transient = 0;

        await Assert.ThrowsAsync<InvalidOperationException>(() => retry.ExecuteAsync<int>(_ => { throttled++; throw new InvalidOperationException(); }, CancellationToken.None));
        await Assert.ThrowsAsync<TimeoutException>(() => retry.ExecuteAsync<int>(_ => { transient++; throw new TimeoutException(); }, CancellationToken.None));

        Assert.Equal((5, 2), (throttled, transient));
    }
}

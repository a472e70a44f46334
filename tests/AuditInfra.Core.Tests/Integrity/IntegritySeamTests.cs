using AuditInfra.Core.Integrity;

namespace AuditInfra.Core.Tests.Integrity;

/// <summary>What other parts build on: day proofs in the report, and the verification of a given set of logs.</summary>
public sealed class IntegritySeamTests : IDisposable
{
    private readonly string root = Path.Combine(Path.GetTempPath(), "auditinfra-seams-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(root))
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static SampleOptions OneChain(int hours, params TamperKind[] tampers) => new()
    {
        Hours = hours,
        EventsPerLog = 1,
        LogsPerHour = 1,
        RestartChain = false,
        Backfill = false,
        Accounts = ["333333333333"],
        Regions = ["us-east-1"],
        Tampers = tampers,
    };

    [Fact]
    public async Task A_whole_clean_day_is_proven_and_the_day_still_being_logged_is_not_complete()
    {
        var sample = SampleCorpus.Write(Path.Combine(root, "c"), OneChain(30));

        var report = await new IntegrityVerifier(new LocalDirectoryStore(sample.Directory), PublicKeySet.Load(sample.PublicKeysFile)).VerifyAsync(new VerifyOptions());

        Assert.Empty(report.Findings);
        Assert.Equal(2, report.DayProofs.Count);
        var first = report.DayProofs[0];
        Assert.Equal(("333333333333", "us-east-1", "acme-org-trail", new DateOnly(2026, 11, 20)), (first.Account, first.Region, first.Trail, first.Day));
        Assert.Equal((24, true, true), (first.Digests, first.Complete, first.Clean));
        Assert.EndsWith("20261120T010000Z.json.gz", first.FirstDigest, StringComparison.Ordinal);
        Assert.EndsWith("20261121T000000Z.json.gz", first.LastDigest, StringComparison.Ordinal);
        Assert.Equal(File.ReadAllText(Path.Combine(sample.Directory, first.LastDigest + ".signature")).Trim(), first.LastSignature);
        Assert.Equal(report.Summaries.Single().Logs - report.DayProofs[1].Logs, first.Logs);
        Assert.False(report.DayProofs[1].Complete);
        Assert.Equal(6, report.DayProofs[1].Digests);
        Assert.Contains("\"dayProofs\"", report.ToJson(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_finding_in_a_day_leaves_it_complete_but_not_clean()
    {
        var sample = SampleCorpus.Write(Path.Combine(root, "c"), OneChain(30, TamperKind.ModifiedLog));

        var report = await new IntegrityVerifier(new LocalDirectoryStore(sample.Directory), PublicKeySet.Load(sample.PublicKeysFile)).VerifyAsync(new VerifyOptions());

        Assert.Equal(FindingKind.LogHashMismatch, Assert.Single(report.Findings).Kind);
        var day = report.DayProofs[0];
        Assert.True(day.Complete);
        Assert.False(day.Clean);
        Assert.False(day.Proven);
    }

    [Fact]
    public async Task A_given_set_of_logs_is_verified_tampered_or_unverifiable_each()
    {
        var sample = SampleCorpus.Write(Path.Combine(root, "c"), OneChain(10, TamperKind.ModifiedLog, TamperKind.ForgedSignature));
        var modified = sample.Expected.Single(e => e.Cause == TamperKind.ModifiedLog && e.Kind == FindingKind.LogHashMismatch).Key;
        var forged = CloudTrailKeys.Parse(sample.Expected.Single(e => e.Cause == TamperKind.ForgedSignature && e.Kind == FindingKind.DigestSignatureInvalid).Key)!;
        var logs = Directory.EnumerateFiles(sample.Directory, "*_CloudTrail_*.json.gz", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(sample.Directory, f).Replace(Path.DirectorySeparatorChar, '/'))
            .ToList();
        // The digest of the first hour is removed: its logs have nothing to prove them.
        var firstDigest = Directory.EnumerateFiles(sample.Directory, "*T010000Z.json.gz", SearchOption.AllDirectories).Single();
        File.Delete(firstDigest);
        File.Delete(firstDigest + ".signature");
        var firstHourLogs = logs.Where(l => CloudTrailKeys.Parse(l)!.Timestamp < new DateTimeOffset(2026, 11, 20, 1, 0, 0, TimeSpan.Zero)).ToList();
        var forgedLogs = logs.Where(l => CloudTrailKeys.Parse(l)!.Timestamp >= forged.Timestamp.AddHours(-1) && CloudTrailKeys.Parse(l)!.Timestamp < forged.Timestamp).ToList();
        Assert.NotEmpty(firstHourLogs);
        Assert.NotEmpty(forgedLogs);

        var verifier = new IntegrityVerifier(new LocalDirectoryStore(sample.Directory), PublicKeySet.Load(sample.PublicKeysFile));
        var result = await verifier.VerifyLogsAsync(logs.Append("not/a/log.json.gz"));

        Assert.Equal(logs.Count + 1, result.Count);
        Assert.Equal(LogIntegrityStatus.Tampered, result[modified].Status);
        Assert.All(forgedLogs, l => Assert.Equal(LogIntegrityStatus.Tampered, result[l].Status));
        Assert.All(firstHourLogs, l => Assert.Equal(LogIntegrityStatus.Unverifiable, result[l].Status));
        Assert.Equal(LogIntegrityStatus.Unverifiable, result["not/a/log.json.gz"].Status);
        Assert.All(logs.Except(firstHourLogs).Except(forgedLogs).Where(l => l != modified), l => Assert.Equal(LogIntegrityStatus.Verified, result[l].Status));
    }
}

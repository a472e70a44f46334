using System.IO.Compression;
using System.Runtime.InteropServices;
using AuditInfra.Core.Integrity;

namespace AuditInfra.Core.Tests.Integrity;

/// <summary>
/// Local copies built to fool or stop the verifier - links, FIFOs, gzip bombs, odd gzip, foreign and moved files,
/// truncated chains - over real signed corpora. Every run is bounded: a verifier that hangs fails the test.
/// </summary>
public sealed class HostileSourceTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private static readonly DateTimeOffset Day = new(2026, 11, 20, 0, 0, 0, TimeSpan.Zero);

    private readonly string root = Path.Combine(Path.GetTempPath(), "auditinfra-hostile-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(root))
        {
            // Links go first, so that deleting the tree never reaches through one (nor loops in one).
            RemoveLinks(root);
            Directory.Delete(root, recursive: true);
        }
    }

    private static void RemoveLinks(string directory)
    {
        foreach (var entry in new DirectoryInfo(directory).EnumerateFileSystemInfos("*", new EnumerationOptions { AttributesToSkip = 0 }))
        {
            if (entry.LinkTarget is not null)
            {
                entry.Delete();
            }
            else if (entry is DirectoryInfo)
            {
                RemoveLinks(entry.FullName);
            }
        }
    }

    private SampleResult Sample(int hours = 6, string[]? accounts = null, string[]? regions = null, string name = "corpus") =>
        SampleCorpus.Write(Path.Combine(root, name), new SampleOptions
        {
            Hours = hours,
            EventsPerLog = 2,
            RestartChain = false,
            Backfill = false,
            EmptyHours = false,
            Accounts = accounts ?? ["111111111111", "333333333333"],
            Regions = regions ?? ["us-east-1", "eu-west-1"],
        });

    /// <summary>Runs the verifier on its own thread and fails the test if it does not finish within <see cref="Bound"/>.</summary>
    private static async Task<IntegrityReport> VerifyAsync(SampleResult sample, VerifyOptions? options = null)
    {
        using var cancel = new CancellationTokenSource();
        var verify = Task.Run(() => new IntegrityVerifier(new LocalDirectoryStore(sample.Directory), PublicKeySet.Load(sample.PublicKeysFile)).VerifyAsync(options ?? new VerifyOptions(), null, cancel.Token));
        if (await Task.WhenAny(verify, Task.Delay(Bound)) != verify)
        {
            await cancel.CancelAsync();
            Assert.Fail($"verify did not finish within {Bound.TotalSeconds} s");
        }

        return await verify;
    }

    private static string Key(SampleResult sample, string path) => Path.GetRelativePath(sample.Directory, path).Replace(Path.DirectorySeparatorChar, '/');

    private static string Folder(SampleResult sample, string account, string kind, string region) =>
        Path.Combine(sample.Directory, "cloudtrail", "AWSLogs", "o-a1b2c3d4e5", account, kind, region);

    private static string DayFolder(SampleResult sample, string account, string kind, string region) =>
        Path.Combine(Folder(sample, account, kind, region), "2026", "11", "20");

    private static List<string> Logs(SampleResult sample, string account, string region) =>
        Directory.EnumerateFiles(DayFolder(sample, account, "CloudTrail", region), "*.json.gz").Order(StringComparer.Ordinal).ToList();

    private static string Digest(SampleResult sample, string account, string region, int endHour) =>
        Directory.EnumerateFiles(DayFolder(sample, account, "CloudTrail-Digest", region), $"*_20261120T{endHour:00}0000Z.json.gz").Single();

    private static void DeleteDigest(SampleResult sample, string account, string region, int endHour)
    {
        var digest = Digest(sample, account, region, endHour);
        File.Delete(digest);
        File.Delete(digest + LocalDirectoryStore.SignatureSuffix);
    }

    private static byte[] Gunzip(string path)
    {
        using var gzip = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        using var plain = new MemoryStream();
        gzip.CopyTo(plain);
        return plain.ToArray();
    }

    private static byte[] Gzip(byte[] plain, CompressionLevel level = CompressionLevel.Fastest)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, level, leaveOpen: true))
        {
            gzip.Write(plain);
        }

        return buffer.ToArray();
    }

    [DllImport("libc", EntryPoint = "mkfifo", SetLastError = true)]
    private static extern int MakeFifo([MarshalAs(UnmanagedType.LPUTF8Str)] string path, uint mode);

    private static void Fifo(string path)
    {
        Assert.True(MakeFifo(path, Convert.ToUInt32("600", 8)) == 0, $"mkfifo {path}: errno {Marshal.GetLastPInvokeError()}");
    }

    // ---- 1. links and special files ----

    [Fact]
    public async Task A_directory_link_loop_is_reported_and_not_walked()
    {
        var sample = Sample();
        var day = DayFolder(sample, "111111111111", "CloudTrail", "us-east-1");
        Directory.CreateSymbolicLink(Path.Combine(day, "loop"), ".");

        var report = await VerifyAsync(sample);

        var finding = Assert.Single(report.Findings);
        Assert.Equal((FindingKind.SymbolicLink, Key(sample, Path.Combine(day, "loop"))), (finding.Kind, finding.Key));
        Assert.Contains("not followed", finding.Found, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_link_loop_at_the_top_of_the_source_is_reported_too()
    {
        var sample = Sample(accounts: ["333333333333"], regions: ["us-east-1"]);
        Directory.CreateSymbolicLink(Path.Combine(sample.Directory, "cloudtrail", "AWSLogs", "o-a1b2c3d4e5", "loop"), "..");

        var report = await VerifyAsync(sample);

        Assert.Equal(FindingKind.SymbolicLink, Assert.Single(report.Findings).Kind);
    }

    [Fact]
    public async Task A_log_replaced_by_a_link_to_an_identical_file_outside_the_source_is_not_certified()
    {
        var sample = Sample();
        var log = Logs(sample, "333333333333", "eu-west-1")[3];
        var outside = Path.Combine(root, "outside.json.gz");
        File.Move(log, outside);
        File.CreateSymbolicLink(log, outside);

        var report = await VerifyAsync(sample);

        Assert.Contains(report.Findings, f => f.Kind == FindingKind.SymbolicLink && f.Key == Key(sample, log) && f.Found.Contains(outside, StringComparison.Ordinal));
        Assert.Contains(report.Findings, f => f.Kind == FindingKind.LogMissing && f.Key == Key(sample, log));
        Assert.False(report.Clean);
    }

    [Fact]
    public async Task A_region_folder_that_links_to_a_copy_outside_the_source_is_not_walked()
    {
        var sample = Sample();
        var region = Folder(sample, "333333333333", "CloudTrail", "eu-west-1");
        var outside = Path.Combine(root, "elsewhere");
        Directory.Move(region, outside);
        Directory.CreateSymbolicLink(region, outside);

        var report = await VerifyAsync(sample);

        Assert.Contains(report.Findings, f => f.Kind == FindingKind.SymbolicLink && f.Key == Key(sample, region));
        Assert.DoesNotContain(report.Summaries, s => s.Account == "333333333333" && s.Region == "eu-west-1" && s.LogsVerified > 0);
        Assert.False(report.Clean);
    }

    [SkippableFact]
    public async Task A_fifo_named_as_a_log_is_reported_and_never_opened()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "FIFOs are told from files by statx, on Linux only");
        var sample = Sample();
        var log = Logs(sample, "111111111111", "eu-west-1")[2];
        File.Delete(log);
        Fifo(log);

        var report = await VerifyAsync(sample);

        Assert.Contains(report.Findings, f => f.Kind == FindingKind.NotARegularFile && f.Key == Key(sample, log) && f.Found.Contains("FIFO", StringComparison.Ordinal));
        Assert.Contains(report.Findings, f => f.Kind == FindingKind.LogMissing && f.Key == Key(sample, log));
    }

    [SkippableFact]
    public async Task A_fifo_as_a_digest_signature_is_reported_and_the_digest_counts_as_unsigned()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "FIFOs are told from files by statx, on Linux only");
        var sample = Sample(accounts: ["333333333333"], regions: ["us-east-1"]);
        var digest = Digest(sample, "333333333333", "us-east-1", 3);
        File.Delete(digest + LocalDirectoryStore.SignatureSuffix);
        Fifo(digest + LocalDirectoryStore.SignatureSuffix);

        var report = await VerifyAsync(sample);

        Assert.Contains(report.Findings, f => f.Kind == FindingKind.NotARegularFile && f.Key == Key(sample, digest) + LocalDirectoryStore.SignatureSuffix);
        Assert.Contains(report.Findings, f => f.Kind == FindingKind.DigestSignatureMissing && f.Key == Key(sample, digest));
    }

    // ---- 2. a digest gzip bomb ----

    [Fact]
    public async Task A_digest_gzip_bomb_is_reported_without_inflating_it_and_the_rest_is_verified()
    {
        var sample = Sample();
        var digest = Digest(sample, "111111111111", "us-east-1", 3);
        // 256 MiB of spaces compress to about 256 KiB: inflated whole, as before, it would take a quarter of a GiB.
        var bomb = new byte[256 * 1024 * 1024];
        bomb.AsSpan().Fill((byte)' ');
        File.WriteAllBytes(digest, Gzip(bomb, CompressionLevel.SmallestSize));
        bomb = null;
        GC.Collect();
        var before = GC.GetTotalAllocatedBytes(precise: true);

        var report = await VerifyAsync(sample);

        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        var finding = Assert.Single(report.Findings, f => f.Kind == FindingKind.DigestTooLarge);
        Assert.Equal(Key(sample, digest), finding.Key);
        // What the unread digest lists cannot be verified through it: the logs of its hour, and nothing else.
        Assert.Equal(
            Logs(sample, "111111111111", "us-east-1").Where(l => CloudTrailKeys.Parse(Key(sample, l))!.Timestamp.Hour == 2).Select(l => $"LogUnverifiable {Key(sample, l)}"),
            report.Findings.Where(f => f != finding).Select(f => $"{f.Kind} {f.Key}"));
        Assert.Contains(DigestFile.MaxInflatedBytes.ToString(System.Globalization.CultureInfo.InvariantCulture), finding.Expected, StringComparison.Ordinal);
        Assert.True(allocated < 128L * 1024 * 1024, $"{allocated} bytes allocated: the bomb was inflated past the cap");
        Assert.Equal(4 * 6, report.Summaries.Sum(s => s.Digests));
        Assert.Equal((4 * 6) - 1, report.Summaries.Sum(s => s.DigestsVerified));
    }

    // ---- 3. gzip members ----

    [Fact]
    public async Task A_log_written_as_two_gzip_members_verifies_as_aws_hashes_it()
    {
        var sample = Sample(accounts: ["333333333333"], regions: ["us-east-1"]);
        var log = Logs(sample, "333333333333", "us-east-1")[1];
        var plain = Gunzip(log);
        File.WriteAllBytes(log, [.. Gzip(plain[..(plain.Length / 3)]), .. Gzip(plain[(plain.Length / 3)..])]);

        var report = await VerifyAsync(sample);

        Assert.Empty(report.Findings);
        Assert.All(report.Summaries, s => Assert.Equal(s.Logs, s.LogsVerified));
    }

    [Fact]
    public async Task Bytes_appended_to_a_log_are_named_trailing_bytes_and_a_cut_log_truncated()
    {
        var sample = Sample(accounts: ["333333333333"], regions: ["us-east-1"]);
        var logs = Logs(sample, "333333333333", "us-east-1");
        File.AppendAllText(logs[1], "appended");
        var cut = File.ReadAllBytes(logs[4]);
        File.WriteAllBytes(logs[4], cut[..^3]);

        var report = await VerifyAsync(sample);

        Assert.Equal(2, report.Findings.Count);
        var trailing = Assert.Single(report.Findings, f => f.Key == Key(sample, logs[1]));
        Assert.Equal(FindingKind.CorruptGzip, trailing.Kind);
        Assert.StartsWith("trailing bytes after the last gzip member", trailing.Found, StringComparison.Ordinal);
        var truncated = Assert.Single(report.Findings, f => f.Key == Key(sample, logs[4]));
        Assert.Equal(FindingKind.CorruptGzip, truncated.Kind);
        Assert.StartsWith("truncated gzip", truncated.Found, StringComparison.Ordinal);
    }

    // ---- 4. objects that are evidence of tampering ----

    [Fact]
    public async Task Foreign_hidden_and_partial_files_in_log_and_digest_folders_are_findings()
    {
        var sample = Sample();
        var logDay = DayFolder(sample, "111111111111", "CloudTrail", "us-east-1");
        var digestDay = DayFolder(sample, "333333333333", "CloudTrail-Digest", "eu-west-1");
        var planted = new[]
        {
            (Path.Combine(logDay, "notes.txt"), "a file name CloudTrail does not write"),
            (Path.Combine(logDay, ".hidden.json.gz"), "a hidden file"),
            (Path.Combine(logDay, Path.GetFileName(Logs(sample, "111111111111", "us-east-1")[0]) + ".partial"), "a partial download (.partial)"),
            (Path.Combine(digestDay, "edited.json"), "a file name CloudTrail does not write"),
        };
        foreach (var (path, _) in planted)
        {
            File.WriteAllText(path, "planted");
        }

        // Objects under AWSLogs/ but outside CloudTrail folders belong to other services: notes, as before.
        var other = Path.Combine(sample.Directory, "cloudtrail", "AWSLogs", "o-a1b2c3d4e5", "111111111111", "Config", "us-east-1", "config.json.gz");
        Directory.CreateDirectory(Path.GetDirectoryName(other)!);
        File.WriteAllText(other, "another service");

        var report = await VerifyAsync(sample);

        Assert.Equal(
            planted.Select(p => $"UnexpectedObject {Key(sample, p.Item1)} {p.Item2}").Order(StringComparer.Ordinal),
            report.Findings.Select(f => $"{f.Kind} {f.Key} {f.Found}").Order(StringComparer.Ordinal));
        Assert.Equal(3, report.Summaries.Single(s => s.Account == "111111111111" && s.Region == "us-east-1").Findings);
    }

    [Fact]
    public async Task Signature_files_beside_no_object_of_their_name_are_findings()
    {
        var sample = Sample();
        var signature = File.ReadAllText(Digest(sample, "111111111111", "us-east-1", 3) + LocalDirectoryStore.SignatureSuffix);
        var log = Logs(sample, "111111111111", "us-east-1")[1];
        var planted = new[]
        {
            // A log's name with another suffix: no such log.
            Path.Combine(DayFolder(sample, "111111111111", "CloudTrail", "us-east-1"), Path.GetFileName(log).Replace(".json.gz", "x.json.gz", StringComparison.Ordinal) + LocalDirectoryStore.SignatureSuffix),
            // A digest hour the chain does not have (the corpus ends at 06:00).
            Path.Combine(DayFolder(sample, "333333333333", "CloudTrail-Digest", "eu-west-1"), Path.GetFileName(Digest(sample, "333333333333", "eu-west-1", 3)).Replace("T030000Z", "T230000Z", StringComparison.Ordinal) + LocalDirectoryStore.SignatureSuffix),
            // Left behind when its digest was deleted: the chain's gap is found too, and the signature named.
            Digest(sample, "111111111111", "eu-west-1", 4) + LocalDirectoryStore.SignatureSuffix,
        };
        File.WriteAllText(planted[0], signature);
        File.WriteAllText(planted[1], signature);
        File.Delete(planted[2][..^LocalDirectoryStore.SignatureSuffix.Length]);

        var report = await VerifyAsync(sample);

        Assert.Equal(
            planted.Select(p => $"UnexpectedObject {Key(sample, p)} {Key(sample, p)[..^LocalDirectoryStore.SignatureSuffix.Length]}").Order(StringComparer.Ordinal),
            report.Findings.Where(f => f.Kind == FindingKind.UnexpectedObject).Select(f => $"{f.Kind} {f.Key} {f.Expected.Split('(', ')')[1]}").Order(StringComparer.Ordinal));
        Assert.Contains(report.Findings, f => f.Kind == FindingKind.MissingDigest && f.Key == Key(sample, planted[2])[..^LocalDirectoryStore.SignatureSuffix.Length]);
    }

    [Fact]
    public async Task A_log_copied_into_another_region_or_account_folder_under_its_name_is_misplaced()
    {
        var sample = Sample();
        var log = Logs(sample, "111111111111", "us-east-1")[2];
        var otherRegion = Path.Combine(DayFolder(sample, "111111111111", "CloudTrail", "eu-west-1"), Path.GetFileName(log));
        var otherAccount = Path.Combine(DayFolder(sample, "333333333333", "CloudTrail", "us-east-1"), Path.GetFileName(log));
        File.Copy(log, otherRegion);
        File.Copy(log, otherAccount);

        var report = await VerifyAsync(sample);

        Assert.Equal(
            new[] { $"MisplacedObject {Key(sample, otherRegion)}", $"MisplacedObject {Key(sample, otherAccount)}" }.Order(StringComparer.Ordinal),
            report.Findings.Select(f => $"{f.Kind} {f.Key}").Order(StringComparer.Ordinal));
        Assert.Contains("region us-east-1", report.Findings.Single(f => f.Key == Key(sample, otherRegion)).Found, StringComparison.Ordinal);
    }

    // ---- 5. truncated chains ----

    /// <summary>Removes a chain's digests from <paramref name="fromEndHour"/> on, and its logs delivered in those hours.</summary>
    private static void CutChain(SampleResult sample, string account, string region, int fromEndHour, int hours, bool keepLogs = false)
    {
        for (var end = fromEndHour; end <= hours; end++)
        {
            DeleteDigest(sample, account, region, end);
        }

        if (!keepLogs)
        {
            foreach (var log in Logs(sample, account, region).Where(l => CloudTrailKeys.Parse(Key(sample, l))!.Timestamp >= Day.AddHours(fromEndHour - 1)))
            {
                File.Delete(log);
            }
        }
    }

    [Fact]
    public async Task With_end_a_chain_whose_digests_stop_before_it_is_missing_the_hours_named()
    {
        var sample = Sample();
        // Ends at 04:00, two hours before its siblings: within the grace, so only --end makes it a finding.
        CutChain(sample, "333333333333", "eu-west-1", 5, 6);

        var open = await VerifyAsync(sample);
        var ranged = await VerifyAsync(sample, new VerifyOptions { End = Day.AddHours(6) });

        Assert.Empty(open.Findings);
        Assert.Contains(open.Notes, n => n.Kind == NoteKind.ChainEndsEarly);
        var finding = Assert.Single(ranged.Findings);
        Assert.Equal(FindingKind.MissingHours, finding.Kind);
        Assert.EndsWith("_20261120T040000Z.json.gz", finding.Key, StringComparison.Ordinal);
        Assert.Contains("2026-11-20T04:00:00Z..2026-11-20T05:00:00Z, 2026-11-20T05:00:00Z..2026-11-20T06:00:00Z", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_chain_that_stops_more_than_the_grace_before_its_siblings_is_missing_hours()
    {
        var sample = Sample();
        CutChain(sample, "111111111111", "us-east-1", 4, 6);

        var report = await VerifyAsync(sample);

        var finding = Assert.Single(report.Findings);
        Assert.Equal(FindingKind.MissingHours, finding.Kind);
        Assert.EndsWith("111111111111_CloudTrail-Digest_us-east-1_acme-org-trail_us-east-1_20261120T030000Z.json.gz", finding.Key, StringComparison.Ordinal);
        Assert.Contains("3 hour(s)", finding.Message, StringComparison.Ordinal);
        Assert.Equal(TimeSpan.FromHours(2), IntegrityVerifier.ChainEndGrace);
    }

    [Fact]
    public async Task Logs_of_a_single_chain_trail_long_after_its_last_digest_are_unverifiable_not_awaiting()
    {
        var sample = Sample(hours: 8, accounts: ["333333333333"], regions: ["us-east-1"]);
        // The newest five digests are gone; the logs of those hours stay. No sibling chain to compare with.
        CutChain(sample, "333333333333", "us-east-1", 4, 8, keepLogs: true);

        var report = await VerifyAsync(sample);

        var unverifiable = report.Findings.Where(f => f.Kind == FindingKind.LogUnverifiable).Select(f => CloudTrailKeys.Parse(f.Key)!.Timestamp.Hour).ToList();
        Assert.NotEmpty(unverifiable);
        Assert.All(unverifiable, hour => Assert.True(hour <= 5));
        Assert.Contains(3, unverifiable);
        Assert.Single(report.Findings, f => f.Kind == FindingKind.MissingHours);
        // Only logs within the grace (and the hour their digest needs) of the newest log may still await theirs.
        Assert.All(report.Notes.Where(n => n.Kind == NoteKind.LogAwaitingDigest), n => Assert.True(CloudTrailKeys.Parse(n.Key)!.Timestamp >= Day.AddHours(4)));
    }

    [Fact]
    public async Task An_account_asked_for_without_data_in_the_source_is_a_finding()
    {
        var sample = Sample(accounts: ["333333333333"], regions: ["us-east-1"]);

        var report = await VerifyAsync(sample, new VerifyOptions { Accounts = new HashSet<string> { "333333333333", "999999999999" } });

        var finding = Assert.Single(report.Findings);
        Assert.Equal((FindingKind.AccountWithoutData, "999999999999"), (finding.Kind, finding.Key));
        Assert.Single(report.Summaries);
    }
}

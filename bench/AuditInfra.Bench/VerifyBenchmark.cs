using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Security.Cryptography;
using AuditInfra.Core.Integrity;

namespace AuditInfra.Bench;

/// <summary>
/// Integrity verification, measured side by side in one run on `sample` corpora:
/// (1) local `verify` against the floor: the same files gunzipped and hashed on every core and nothing else;
/// (2) peak memory of `auditinfra verify` on a corpus and on one ten times larger (must stay flat);
/// (3) over S3 with 20 ms added per request, `auditinfra verify` against `aws cloudtrail validate-logs`
///     (see VerifyS3Benchmark; needs node and the aws CLI).
/// </summary>
public static class VerifyBenchmark
{
    private const double EventBytes = 930;

    public static async Task<int> RunAsync(string[] args)
    {
        var dir = Path.Combine(Path.GetTempPath(), "auditinfra-bench-verify");
        var megabytes = 1200;
        var rounds = 3;
        var memory = true;
        var s3 = true;
        var latencyMs = 20;
        var cli = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../../infra/AuditInfra.Cli/bin/Release/net10.0/auditinfra.dll"));
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--dir":
                    dir = args[++i];
                    break;
                case "--mb":
                    megabytes = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--rounds":
                    rounds = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--no-memory":
                    memory = false;
                    break;
                case "--no-s3":
                    s3 = false;
                    break;
                case "--latency-ms":
                    latencyMs = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--cli":
                    cli = args[++i];
                    break;
            }
        }

        Console.WriteLine($"verify: {Environment.ProcessorCount} cores, corpora under {dir}");
        var x1 = EnsureCorpus(Path.Combine(dir, "x1"), megabytes, hours: 48);
        Console.WriteLine($"  corpus x1: {x1.Files} files, {x1.Uncompressed / 1e6:N0} MB uncompressed, {x1.Compressed / 1e6:N0} MB gzip");

        // (1) Local: the verifier against the bare gunzip+hash loop over the same files, alternating.
        var files = Directory.EnumerateFiles(x1.Directory, "*.json.gz", SearchOption.AllDirectories).ToArray();
        Floor(files);
        await VerifyOnceAsync(x1.Directory);
        var floor = new List<double>();
        var verify = new List<double>();
        for (var round = 0; round < rounds; round++)
        {
            floor.Add(Floor(files));
            verify.Add(await VerifyOnceAsync(x1.Directory));
        }

        var floorMedian = Median(floor);
        var verifyMedian = Median(verify);
        Console.WriteLine($"  floor (gunzip + SHA-256, {Environment.ProcessorCount} workers): {string.Join(", ", floor.Select(S))} s; median {S(floorMedian)} s = {x1.Uncompressed / 1e6 / floorMedian:N0} MB/s");
        Console.WriteLine($"  verify (local copy):                  {string.Join(", ", verify.Select(S))} s; median {S(verifyMedian)} s = {x1.Uncompressed / 1e6 / verifyMedian:N0} MB/s");
        Console.WriteLine($"  RATIO verify / floor = {verifyMedian / floorMedian:N2} (target <= 1.3)");

        // (2) Peak memory of the CLI as a process on x1 and on a corpus ten times larger.
        if (memory)
        {
            if (!File.Exists(cli))
            {
                Console.WriteLine($"  memory: SKIPPED, build the CLI in Release first (dotnet build -c Release infra/AuditInfra.Cli): {cli} not found");
            }
            else
            {
                var x10 = EnsureCorpus(Path.Combine(dir, "x10"), megabytes, hours: 480);
                Console.WriteLine($"  corpus x10: {x10.Files} files, {x10.Uncompressed / 1e6:N0} MB uncompressed, {x10.Compressed / 1e6:N0} MB gzip");
                string[] Verify(string d) => ["dotnet", cli, "verify", "--source", d, "--public-keys", Path.Combine(d, SampleCorpus.PublicKeysFileName), "--json", "-"];
                string[] FloorProcess(string d) => ["dotnet", typeof(VerifyBenchmark).Assembly.Location, "verify-floor", d];
                var (peak1, seconds1) = PeakMemory(Verify(x1.Directory));
                var (peak10, seconds10) = PeakMemory(Verify(x10.Directory));
                var (floor1, _) = PeakMemory(FloorProcess(x1.Directory));
                var (floor10, _) = PeakMemory(FloorProcess(x10.Directory));
                Console.WriteLine($"  peak RSS of `auditinfra verify`: x1 {peak1 / 1024.0:N0} MB ({S(seconds1)} s), x10 {peak10 / 1024.0:N0} MB ({S(seconds10)} s)");
                Console.WriteLine($"  peak RSS of the floor loop as a process: x1 {floor1 / 1024.0:N0} MB, x10 {floor10 / 1024.0:N0} MB (the runtime's own drift over a longer run)");
                Console.WriteLine($"  RATIO peak memory x10 / x1 = {(double)peak10 / peak1:N2} (floor loop: {(double)floor10 / floor1:N2}); growth beyond the floor's: {(peak10 - peak1 - (floor10 - floor1)) / 1024.0:N0} MB (target: flat)");
            }
        }

        if (!s3)
        {
            return 0;
        }

        // (3) S3 with latency, on 1 GB corpora of two shapes: logs of CloudTrail's usual size (a few per account,
        // region and hour, ~200 KB), and the 1x corpus's 2 MB logs, where two shared cores bound everything.
        SampleOptions S3Shape(int hours, int logsPerHour, int events) => new()
        {
            Prefix = "bench/cloudtrail",
            Accounts = ["111111111111", "222222222222", "333333333333"],
            Regions = ["us-east-1", "eu-west-1"],
            Hours = hours,
            LogsPerHour = logsPerHour,
            EventsPerLog = events,
            RestartChain = false,
            Backfill = false,
        };
        var x1Events = (int)Math.Ceiling(megabytes * 1e6 / (3 * 2 * 24 * 4 * EventBytes));
        return await VerifyS3Benchmark.RunAsync(dir, cli, latencyMs, [("cloudtrail-sized-logs", S3Shape(72, 12, 200)), ("large-logs", S3Shape(48, 4, x1Events))]);
    }

    private sealed record Corpus(string Directory, int Files, long Uncompressed, long Compressed);

    /// <summary>A clean sample corpus of about <paramref name="megabytes"/> MB per 24 hours; reused when already written.</summary>
    private static Corpus EnsureCorpus(string directory, int megabytes, int hours)
    {
        const int accounts = 3, regions = 2, logsPerHour = 4;
        var events = (int)Math.Ceiling(megabytes * 1e6 / (accounts * regions * 24 * logsPerHour * EventBytes));
        var marker = Path.Combine(directory, $"bench-{megabytes}mb-{hours}h.txt");
        if (!File.Exists(marker))
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }

            var clock = Stopwatch.StartNew();
            var result = SampleCorpus.Write(directory, new SampleOptions
            {
                Accounts = ["111111111111", "222222222222", "333333333333"],
                Regions = ["us-east-1", "eu-west-1"],
                Hours = hours,
                LogsPerHour = logsPerHour,
                EventsPerLog = events,
            });
            File.WriteAllText(marker, $"{result.Digests + result.Logs} {result.UncompressedBytes} {result.CompressedBytes}");
            Console.WriteLine($"  wrote {directory} in {clock.Elapsed.TotalSeconds:N0} s");
        }

        var parts = File.ReadAllText(marker).Split(' ');
        return new Corpus(directory, int.Parse(parts[0], CultureInfo.InvariantCulture), long.Parse(parts[1], CultureInfo.InvariantCulture), long.Parse(parts[2], CultureInfo.InvariantCulture));
    }

    /// <summary>The floor loop as its own process, for its peak memory.</summary>
    public static int RunFloorProcess(string[] args)
    {
        var seconds = Floor(Directory.EnumerateFiles(args[0], "*.json.gz", SearchOption.AllDirectories).ToArray());
        Console.WriteLine(S(seconds));
        return 0;
    }

    /// <summary>The floor: nothing but gunzip and SHA-256 of every file, one worker per core.</summary>
    private static double Floor(string[] files)
    {
        var clock = Stopwatch.StartNew();
        Parallel.ForEach(files, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, () => new byte[128 * 1024], (file, state, buffer) =>
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            using var gzip = new GZipStream(File.OpenRead(file), CompressionMode.Decompress);
            int read;
            while ((read = gzip.Read(buffer, 0, buffer.Length)) > 0)
            {
                hash.AppendData(buffer, 0, read);
            }

            _ = hash.GetHashAndReset();
            return buffer;
        }, _ => { });
        return clock.Elapsed.TotalSeconds;
    }

    private static async Task<double> VerifyOnceAsync(string directory)
    {
        var clock = Stopwatch.StartNew();
        var report = await new IntegrityVerifier(new LocalDirectoryStore(directory), PublicKeySet.Load(Path.Combine(directory, SampleCorpus.PublicKeysFileName))).VerifyAsync(new VerifyOptions());
        var seconds = clock.Elapsed.TotalSeconds;
        if (!report.Clean)
        {
            throw new InvalidOperationException($"the benchmark corpus did not verify clean: {report.Findings[0].Describe()}");
        }

        return seconds;
    }

    /// <summary>Peak resident memory (KB) of `auditinfra verify` as its own process, read by GNU time.</summary>
    private static (long PeakKb, double Seconds) PeakMemory(string[] command)
    {
        var start = new ProcessStartInfo("/usr/bin/time", ["-f", "%M", .. command])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        _ = process.StandardOutput.ReadToEndAsync();
        var err = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{string.Join(' ', command)} exited {process.ExitCode}: {err}");
        }

        return (long.Parse(err.Trim().Split('\n')[^1], CultureInfo.InvariantCulture), clock.Elapsed.TotalSeconds);
    }

    internal static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    internal static string S(double seconds) => seconds.ToString("N2", CultureInfo.InvariantCulture);
}

using System.Diagnostics;
using System.Globalization;
using Amazon.Runtime;
using Amazon.S3;
using AuditInfra.Cli.Integrity;
using AuditInfra.Core.Integrity;

namespace AuditInfra.Bench;

/// <summary>
/// Incremental verification (verify --state) on a medium `sample` corpus, in process: the first run with an empty
/// state (everything is verified), a second over the unchanged corpus (nothing new: target at least 10x faster),
/// and a third after one more hour was delivered (cost of one hour). Locally, then over s3rver holding every request
/// some milliseconds (a distant region); the S3 first run gives the per-worker throughput of the scale estimate.
/// </summary>
public static class VerifyIncrementalBenchmark
{
    private const string Bucket = "acme-audit-cloudtrail-222222222222-us-east-1";

    public static async Task<int> RunAsync(string[] args)
    {
        var dir = Path.Combine(Path.GetTempPath(), "auditinfra-bench-incremental");
        var accounts = 10;
        var hours = 168;
        var latencyMs = 20;
        var s3 = true;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--dir":
                    dir = args[++i];
                    break;
                case "--accounts":
                    accounts = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--hours":
                    hours = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--latency-ms":
                    latencyMs = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--no-s3":
                    s3 = false;
                    break;
            }
        }

        // A monitor verifies recent data: the corpus ends at the current hour, so a run lists the days since its
        // state, not the weeks between an old sample and today.
        var now = DateTimeOffset.UtcNow;
        var shape = new SampleOptions
        {
            Start = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, 0, 0, TimeSpan.Zero).AddHours(-hours),
            Accounts = Enumerable.Range(0, accounts).Select(a => (100000000000L + (a * 1111)).ToString(CultureInfo.InvariantCulture)).ToList(),
            Regions = ["us-east-1", "eu-west-1", "ap-southeast-2"],
            Hours = hours,
            LogsPerHour = 2,
            EventsPerLog = 40,
            RestartChain = false,
            Backfill = false,
        };
        var corpus = Path.Combine(dir, $"corpus-{accounts}a-{hours}h-{shape.Start:yyyyMMddHH}");
        if (!File.Exists(Path.Combine(corpus, SampleCorpus.PublicKeysFileName)))
        {
            if (Directory.Exists(corpus))
            {
                Directory.Delete(corpus, recursive: true);
            }

            SampleCorpus.Write(corpus, shape);
        }

        var keys = PublicKeySet.Load(Path.Combine(corpus, SampleCorpus.PublicKeysFileName));
        var files = Directory.EnumerateFiles(corpus, "*.json.gz", SearchOption.AllDirectories).ToList();
        Console.WriteLine($"verify --state: {Environment.ProcessorCount} cores; corpus {accounts} accounts x 3 regions x {hours} h = {accounts * 3} chains, {files.Count} objects, {files.Sum(f => new FileInfo(f).Length) / 1e6:N0} MB gzip");

        // Local: the last hour is held back for the first two runs, then delivered.
        var lastHour = shape.Start.AddHours(hours - 1);
        var held = Path.Combine(dir, "held-" + Guid.NewGuid().ToString("N"));
        var moved = new List<(string From, string To)>();
        foreach (var file in Directory.EnumerateFiles(corpus, "*.json.gz*", SearchOption.AllDirectories).ToList())
        {
            var key = CloudTrailKeys.Parse(Path.GetRelativePath(corpus, file).Replace(Path.DirectorySeparatorChar, '/').Replace(LocalDirectoryStore.SignatureSuffix, string.Empty, StringComparison.Ordinal));
            if (key is not null && (key.Kind == CloudTrailObjectKind.Digest ? key.Timestamp > lastHour : key.Timestamp >= lastHour))
            {
                var to = Path.Combine(held, Path.GetRelativePath(corpus, file));
                Directory.CreateDirectory(Path.GetDirectoryName(to)!);
                File.Move(file, to);
                moved.Add((file, to));
            }
        }

        try
        {
            var local = new LocalDirectoryStore(corpus);
            await Measure(local, keys, null);
            var (first, firstState) = await MedianAsync(FirstRounds, () => Measure(local, keys, null));
            var (second, secondState) = await MedianAsync(SecondRounds, () => Measure(local, keys, firstState));
            moved.ForEach(m => File.Move(m.To, m.From));
            moved.Clear();
            var (third, _) = await Measure(local, keys, secondState);
            Console.WriteLine($"  local first run (empty state):      {first.Seconds,8:N3} s (median), {first.Digests} digests + {first.Logs} logs");
            Console.WriteLine($"  local second run (nothing new):     {second.Seconds,8:N3} s (median), {second.Digests} digests + {second.Logs} logs");
            Console.WriteLine($"  local third run (one hour new):     {third.Seconds,8:N3} s, {third.Digests} digests + {third.Logs} logs");
            Console.WriteLine($"  RATIO local first / second = {first.Seconds / second.Seconds:N1} (target >= 10)");
        }
        finally
        {
            moved.ForEach(m => File.Move(m.To, m.From));
        }

        if (!s3)
        {
            return 0;
        }

        var repo = RepositoryRoot();
        if (!Directory.Exists(Path.Combine(repo, "tools", "s3rver", "node_modules")))
        {
            Console.WriteLine("  S3: SKIPPED, run `npm ci` in tools/s3rver");
            return 0;
        }

        var storage = Path.Combine(Path.GetTempPath(), "auditinfra-bench-s3rver-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(storage);
        var start = new ProcessStartInfo("node") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "--openssl-legacy-provider", Path.Combine(repo, "tools", "s3rver", "serve.mjs"), "--dir", storage, "--bucket", Bucket, "--latency-ms", latencyMs.ToString(CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(arg);
        }

        using var server = Process.Start(start)!;
        try
        {
            var ready = server.StandardOutput.ReadLine() ?? throw new InvalidOperationException("s3rver did not start");
            server.BeginErrorReadLine();
            var endpoint = ready.Split(' ')[1];
            Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", "S3RVER");
            Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", "S3RVER");
            Environment.SetEnvironmentVariable("AWS_REGION", "us-east-1");
            using (var client = new AmazonS3Client(new BasicAWSCredentials("S3RVER", "S3RVER"), new AmazonS3Config { ServiceURL = endpoint, ForcePathStyle = true, AuthenticationRegion = "us-east-1", RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED, ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED }))
            {
                await S3Upload.UploadDirectoryAsync(corpus, client, Bucket, parallelism: 64);
            }

            using var store = S3ObjectStore.Create($"s3://{Bucket}", endpoint, skipTransferChecksums: true);
            await Measure(store, keys, null);
            var (first, firstState) = await MedianAsync(FirstRounds, () => Measure(store, keys, null));
            var (second, _) = await MedianAsync(SecondRounds, () => Measure(store, keys, firstState));
            Console.WriteLine($"  S3 (+{latencyMs} ms/request) first run:  {first.Seconds,8:N3} s (median), {first.Digests} digests + {first.Logs} logs = {(first.Digests + first.Logs) / first.Seconds:N0} objects/s on one worker (--parallel 64)");
            Console.WriteLine($"  S3 (+{latencyMs} ms/request) second run: {second.Seconds,8:N3} s (median)");
            Console.WriteLine($"  RATIO S3 first / second = {first.Seconds / second.Seconds:N1} (target >= 10)");
        }
        finally
        {
            server.StandardInput.Close();
            if (!server.WaitForExit(5000))
            {
                server.Kill(entireProcessTree: true);
            }

            Directory.Delete(storage, recursive: true);
        }

        return 0;
    }

    private sealed record Measured(double Seconds, int Digests, int Logs);

    /// <summary>Runs measured (the median is reported): the machine is shared, single runs vary by 2x.</summary>
    private const int FirstRounds = 3;

    private const int SecondRounds = 5;

    private static async Task<(Measured Result, IReadOnlyDictionary<string, ChainCheckpoint> State)> MedianAsync(int rounds, Func<Task<(Measured Result, IReadOnlyDictionary<string, ChainCheckpoint> State)>> run)
    {
        var results = new List<(Measured Result, IReadOnlyDictionary<string, ChainCheckpoint> State)>();
        for (var i = 0; i < rounds; i++)
        {
            results.Add(await run());
        }

        Console.WriteLine($"    runs: {string.Join(", ", results.Select(r => r.Result.Seconds.ToString("N3", CultureInfo.InvariantCulture)))} s");
        return results.OrderBy(r => r.Result.Seconds).ElementAt(rounds / 2);
    }

    private static async Task<(Measured Result, IReadOnlyDictionary<string, ChainCheckpoint> State)> Measure(IObjectStore store, PublicKeySet keys, IReadOnlyDictionary<string, ChainCheckpoint>? state)
    {
        var clock = Stopwatch.StartNew();
        var report = await new IntegrityVerifier(store, keys).VerifyAsync(new VerifyOptions { Checkpoints = state ?? new Dictionary<string, ChainCheckpoint>() });
        var seconds = clock.Elapsed.TotalSeconds;
        if (!report.Clean)
        {
            throw new InvalidOperationException($"the benchmark corpus has findings: {report.Findings[0].Describe()}");
        }

        var merged = new VerifyState(store.Description, state ?? new Dictionary<string, ChainCheckpoint>()).With(report.Checkpoints);
        return (new Measured(seconds, report.Summaries.Sum(s => s.DigestsVerified), report.Summaries.Sum(s => s.LogsVerified)), merged.Chains);
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "AuditInfra.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("run the benchmark from the repository (AuditInfra.sln not found above it)");
    }
}

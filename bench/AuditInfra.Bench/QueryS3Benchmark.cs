using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json.Nodes;
using Amazon.Runtime;
using Amazon.S3;
using AuditInfra.Cli.Integrity;

namespace AuditInfra.Bench;

/// <summary>
/// `auditinfra query --source s3://…` for one account-day, as a process (the CLI as published for release, and as
/// built), against s3rver on loopback holding every
/// request a fixed latency (as a distant region would), side by side in one run with:
/// the floor, the same day's objects read with 64 GETs in flight and nothing else (target: query within 2x); and the
/// same day asked of a 100-day bucket and of a 10-day bucket (target: within 1.3x, since only the day's prefixes are
/// listed). Runs are interleaved round by round so that a busy machine slows every side alike; medians compared.
/// </summary>
public static class QueryS3Benchmark
{
    private const string Bucket = "acme-audit-cloudtrail-222222222222-us-east-1";
    private const string Account = "333333333333";
    private const string Org = "o-a1b2c3d4e5";
    private static readonly string[] Regions = ["us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2"];

    /// <summary>One log file per region every 10 minutes, as CloudTrail delivers for an active account.</summary>
    private const int FilesPerRegionDay = 144;

    private const int RecordsPerFile = 30;

    private const int Rounds = 5;

    public static async Task<int> RunAsync(string[] args)
    {
        int Arg(string name, int fallback) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
        var latencyMs = Arg("--latency-ms", 20);
        var bigDays = Arg("--days", 100);
        var repo = RepositoryRoot();
        var cli = Path.Combine(repo, "infra", "AuditInfra.Cli", "bin", "Release", "net10.0", "auditinfra.dll");
        if (!File.Exists(cli) || !Directory.Exists(Path.Combine(repo, "tools", "s3rver", "node_modules")))
        {
            Console.Error.WriteLine($"needs the Release CLI ({cli}: dotnet build -c Release infra/AuditInfra.Cli) and `npm ci` in tools/s3rver");
            return 2;
        }

        var work = Directory.CreateTempSubdirectory("auditinfra-query-s3-bench").FullName;
        try
        {
            // The CLI as it ships (the container image's publish: precompiled for this runtime), beside the build's.
            var released = Path.Combine(work, "released");
            var publish = Run("dotnet", ["publish", Path.Combine(repo, "infra", "AuditInfra.Cli", "AuditInfra.Cli.csproj"), "-c", "Release", "-r", RuntimeInformation.RuntimeIdentifier, "-o", released, "--nologo"]);
            var releasedCli = Path.Combine(released, "auditinfra");
            Console.WriteLine($"published the CLI for {RuntimeInformation.RuntimeIdentifier} (self-contained, ReadyToRun composite) in {publish.Seconds:N0} s");
            var day = new DateOnly(2026, 1, 5);
            var corpus = Path.Combine(work, "corpus");
            var clock = Stopwatch.StartNew();
            Write(corpus, bigDays);
            var dayKeys = Directory.GetFiles(corpus, "*.json.gz", SearchOption.AllDirectories)
                .Select(f => Path.GetRelativePath(corpus, f).Replace('\\', '/'))
                .Where(k => k.Contains($"/{day:yyyy}/{day:MM}/{day:dd}/", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
            var dayBytes = dayKeys.Sum(k => new FileInfo(Path.Combine(corpus, k)).Length);
            Console.WriteLine($"query over S3: one account-day = {dayKeys.Count} objects ({dayBytes / 1e6:N1} MB gzip; {Regions.Length} regions x {FilesPerRegionDay} files x {RecordsPerFile} records); buckets of 10 and {bigDays} such days; written in {clock.Elapsed.TotalSeconds:N0} s");
            Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {Cpu()}, {Environment.OSVersion}, .NET {Environment.Version}; s3rver on loopback holding every request {latencyMs} ms");

            var storage = Path.Combine(work, "s3rver");
            Directory.CreateDirectory(storage);
            var serve = Path.Combine(repo, "tools", "s3rver", "serve.mjs");
            using (var loader = Start("node", ["--openssl-legacy-provider", serve, "--dir", storage, "--bucket", Bucket, "--latency-ms", "0"]))
            {
                var endpoint0 = loader.Ready.Split(' ')[1];
                using var client = Client(endpoint0);
                clock.Restart();
                // The 100-day bucket is the whole corpus; the 10-day bucket its first ten days (the asked day among them).
                var uploaded = await S3Upload.UploadDirectoryAsync(corpus, client, Bucket, "days100/", parallelism: 64);
                var tenDays = Path.Combine(work, "days10");
                foreach (var file in Directory.GetFiles(corpus, "*.json.gz", SearchOption.AllDirectories).Where(f => DayOf(f) < new DateOnly(2026, 1, 11)))
                {
                    var target = Path.Combine(tenDays, Path.GetRelativePath(corpus, file));
                    Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                    File.Copy(file, target);
                }

                uploaded += await S3Upload.UploadDirectoryAsync(tenDays, client, Bucket, "days10/", parallelism: 64);
                Console.WriteLine($"uploaded {uploaded} objects in {clock.Elapsed.TotalSeconds:N0} s");
            }

            using var server = Start("node", ["--openssl-legacy-provider", serve, "--dir", storage, "--bucket", Bucket, "--latency-ms", latencyMs.ToString(CultureInfo.InvariantCulture)]);
            var endpoint = server.Ready.Split(' ')[1];
            var environment = new Dictionary<string, string> { ["AWS_ACCESS_KEY_ID"] = "S3RVER", ["AWS_SECRET_ACCESS_KEY"] = "S3RVER", ["AWS_REGION"] = "us-east-1" };
            string[] Query(string bucketPrefix) => ["query", "--source", $"s3://{Bucket}/{bucketPrefix}", "--endpoint-url", endpoint, "--account", Account, "--date", $"{day:yyyy-MM-dd}", "--format", "csv"];

            Console.WriteLine($"s3rver serving at {endpoint} (pid {server.ProcessId})");
            // Both answers are the same day: the same rows.
            var rows10 = Run(releasedCli, Query("days10"), environment);
            var rows100 = Run(releasedCli, Query("days100"), environment);
            var rowsBuilt = Run("dotnet", [cli, .. Query("days10")], environment);
            var expectedRows = dayKeys.Count * RecordsPerFile;
            if (rows10.Output != rows100.Output || rows10.Output != rowsBuilt.Output || rows10.Output.Count(c => c == '\n') != expectedRows + 1)
            {
                throw new InvalidOperationException($"the answers differ or miss rows ({rows10.Output.Count(c => c == '\n') - 1} and {rows100.Output.Count(c => c == '\n') - 1} rows, expected {expectedRows}): {rows10.Error} {rows100.Error}");
            }

            var start = new List<double>();
            var floor = new List<double>();
            var ten = new List<double>();
            var hundred = new List<double>();
            var built = new List<double>();
            await FloorAsync(endpoint, "days10/", dayKeys);
            for (var round = 0; round < Rounds; round++)
            {
                start.Add(Run(releasedCli, ["--version"]).Seconds);
                floor.Add(await FloorAsync(endpoint, "days10/", dayKeys));
                ten.Add(Run(releasedCli, Query("days10"), environment).Seconds);
                hundred.Add(Run(releasedCli, Query("days100"), environment).Seconds);
                built.Add(Run("dotnet", [cli, .. Query("days10")], environment).Seconds);
                Console.WriteLine($"  round {round + 1}: start {start[^1]:F2} s, floor {floor[^1]:F2} s, 10-day {ten[^1]:F2} s, {bigDays}-day {hundred[^1]:F2} s, 10-day with the build {built[^1]:F2} s");
            }

            double Median(List<double> runs) => runs.Order().ElementAt(runs.Count / 2);
            string All(List<double> runs) => string.Join(", ", runs.Select(r => r.ToString("F2", CultureInfo.InvariantCulture)));
            Console.WriteLine($"  process start (auditinfra --version):              {All(start)} s; median {Median(start):F2} s");
            Console.WriteLine($"  floor: the day's {dayKeys.Count} GETs, 64 in flight, bodies read: {All(floor)} s; median {Median(floor):F2} s");
            Console.WriteLine($"  auditinfra query, 10-day bucket (process):         {All(ten)} s; median {Median(ten):F2} s");
            Console.WriteLine($"  auditinfra query, {bigDays}-day bucket (process):        {All(hundred)} s; median {Median(hundred):F2} s");
            Console.WriteLine($"  the same 10-day query with the build (JIT, not published): {All(built)} s; median {Median(built):F2} s; {Median(built) / Median(floor):F2} x the floor");
            var overFloor = Median(ten) / Median(floor);
            var overTen = Median(hundred) / Median(ten);
            Console.WriteLine($"  RATIO query / floor = {overFloor:F2} (target <= 2.00) {(overFloor <= 2 ? "MET" : "NOT MET")}; without the process start {(Median(ten) - Median(start)) / Median(floor):F2}");
            Console.WriteLine($"  RATIO {bigDays}-day / 10-day = {overTen:F2} (target <= 1.30) {(overTen <= 1.3 ? "MET" : "NOT MET")}");
            return 0;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>What any client pays for the day's objects here: unsigned GETs, 64 in flight, every body read to its end, nothing else.</summary>
    private static async Task<double> FloorAsync(string endpoint, string prefix, IReadOnlyList<string> keys)
    {
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 });
        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(keys, new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (key, ct) =>
        {
            using var response = await http.GetAsync($"{endpoint}/{Bucket}/{prefix}{key}", HttpCompletionOption.ResponseHeadersRead, ct);
            response.EnsureSuccessStatusCode();
            await using var body = await response.Content.ReadAsStreamAsync(ct);
            await body.CopyToAsync(Stream.Null, ct);
        });
        return clock.Elapsed.TotalSeconds;
    }

    /// <summary>The corpus: one account under the organization level, <paramref name="days"/> days from 2026-01-01.</summary>
    private static void Write(string root, int days)
    {
        var random = new Random(7);
        for (var d = 0; d < days; d++)
        {
            var day = new DateOnly(2026, 1, 1).AddDays(d);
            foreach (var region in Regions)
            {
                var dir = Path.Combine(root, "AWSLogs", Org, Account, "CloudTrail", region, $"{day:yyyy}", $"{day:MM}", $"{day:dd}");
                Directory.CreateDirectory(dir);
                for (var f = 0; f < FilesPerRegionDay; f++)
                {
                    var minute = f * 24 * 60 / FilesPerRegionDay;
                    var records = new JsonArray();
                    for (var i = 0; i < RecordsPerFile; i++)
                    {
                        records.Add(new JsonObject
                        {
                            ["eventVersion"] = "1.09",
                            ["userIdentity"] = new JsonObject { ["type"] = "AssumedRole", ["arn"] = $"arn:aws:sts::{Account}:assumed-role/App/s{i}", ["accountId"] = Account, ["sessionContext"] = new JsonObject { ["sessionIssuer"] = new JsonObject { ["arn"] = $"arn:aws:iam::{Account}:role/App" }, ["attributes"] = new JsonObject { ["mfaAuthenticated"] = "false" } } },
                            ["eventTime"] = $"{day:yyyy-MM-dd}T{minute / 60:D2}:{minute % 60:D2}:{random.Next(60):D2}Z",
                            ["eventSource"] = "s3.amazonaws.com",
                            ["eventName"] = random.Next(10) == 0 ? "PutObject" : "GetObject",
                            ["awsRegion"] = region,
                            ["sourceIPAddress"] = $"10.0.{random.Next(255)}.{random.Next(255)}",
                            ["userAgent"] = "aws-sdk-java/2.25.0 Linux/5.10 OpenJDK_64-Bit_Server_VM/17",
                            ["requestParameters"] = new JsonObject { ["bucketName"] = "data", ["key"] = $"k/{random.Next(100000)}" },
                            ["requestID"] = Guid.NewGuid().ToString(),
                            ["eventID"] = Guid.NewGuid().ToString(),
                            ["eventType"] = "AwsApiCall",
                            ["recipientAccountId"] = Account,
                        });
                    }

                    var name = $"{Account}_CloudTrail_{region}_{day:yyyyMMdd}T{minute / 60:D2}{minute % 60:D2}Z_{Guid.NewGuid():N}"[..(Account.Length + region.Length + 40)] + ".json.gz";
                    using var gz = new GZipStream(File.Create(Path.Combine(dir, name)), CompressionLevel.Fastest);
                    gz.Write(Encoding.UTF8.GetBytes(new JsonObject { ["Records"] = records }.ToJsonString()));
                }
            }
        }
    }

    private static DateOnly DayOf(string file)
    {
        var parts = file.Split(Path.DirectorySeparatorChar);
        return new DateOnly(int.Parse(parts[^4], CultureInfo.InvariantCulture), int.Parse(parts[^3], CultureInfo.InvariantCulture), int.Parse(parts[^2], CultureInfo.InvariantCulture));
    }

    private static AmazonS3Client Client(string endpoint) => new(new BasicAWSCredentials("S3RVER", "S3RVER"), new AmazonS3Config { ServiceURL = endpoint, ForcePathStyle = true, AuthenticationRegion = "us-east-1", RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED, ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED, MaxConnectionsPerServer = 64 });

    private static string Cpu() =>
        File.Exists("/proc/cpuinfo") ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown CPU" : "unknown CPU";

    private static BenchServer Start(string file, string[] args) => BenchProcesses.Start(file, args);

    /// <summary>Every process this benchmark times must succeed: a failed query would time nothing.</summary>
    private static (int ExitCode, string Output, string Error, double Seconds) Run(string file, string[] args, Dictionary<string, string>? environment = null)
    {
        var run = BenchProcesses.Run(file, args, environment);
        return run.ExitCode == 0 ? run : throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {run.ExitCode}: {run.Error}");
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

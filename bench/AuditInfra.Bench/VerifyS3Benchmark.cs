using System.Diagnostics;
using System.Globalization;
using Amazon.Runtime;
using Amazon.S3;
using AuditInfra.Cli.Integrity;
using AuditInfra.Core.Integrity;

namespace AuditInfra.Bench;

/// <summary>
/// `auditinfra verify` against `aws cloudtrail validate-logs`, both as processes, both reading the same
/// corpus from the same S3-compatible server on loopback (s3rver), which holds every request a fixed latency
/// before serving it, as a distant region would. The AWS CLI verifies one account and region per run, so it
/// runs once per chain and its times are summed; the CloudTrail and Organizations calls it makes are answered
/// by bench/tools/fake-cloudtrail.mjs from the corpus's own keys.
/// </summary>
public static class VerifyS3Benchmark
{
    private const string Bucket = "acme-audit-cloudtrail-222222222222-us-east-1";

    public static async Task<int> RunAsync(string dir, string cli, int latencyMs, IReadOnlyList<(string Name, SampleOptions Shape)> corpora)
    {
        var repo = RepositoryRoot();
        var aws = Which("aws");
        if (aws is null || Which("node") is null || !Directory.Exists(Path.Combine(repo, "tools", "s3rver", "node_modules")) || !File.Exists(cli))
        {
            Console.WriteLine($"  S3: SKIPPED — needs the aws CLI ({aws ?? "not found"}), node, `npm ci` in tools/s3rver, and the Release CLI ({cli})");
            return 0;
        }

        Console.WriteLine($"  S3: s3rver on loopback holding every request {latencyMs} ms; {Run(aws, ["--version"]).Output.Trim()}");
        foreach (var (name, shape) in corpora)
        {
            var corpus = Path.Combine(dir, "s3-" + name);
            if (!File.Exists(Path.Combine(corpus, SampleCorpus.PublicKeysFileName)))
            {
                SampleCorpus.Write(corpus, shape);
            }

            var files = Directory.EnumerateFiles(corpus, "*.json.gz", SearchOption.AllDirectories).ToList();
            var bytes = files.Sum(f => new FileInfo(f).Length);
            var uncompressed = files.Sum(f => { using var gzip = new System.IO.Compression.GZipStream(File.OpenRead(f), System.IO.Compression.CompressionMode.Decompress); var n = 0L; var buffer = new byte[81920]; int r; while ((r = gzip.Read(buffer)) > 0) { n += r; } return n; });
            Console.WriteLine($"  S3 corpus '{name}': {files.Count} objects, {uncompressed / 1e6:N0} MB uncompressed, {bytes / 1e6:N0} MB gzip, {shape.Accounts.Count} accounts x {shape.Regions.Count} regions x {shape.Hours} h, {shape.LogsPerHour} logs/h of {shape.EventsPerLog} events");

            var storage = Path.Combine(Path.GetTempPath(), "auditinfra-bench-s3rver-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(storage);
            using var server = Start("node", ["--openssl-legacy-provider", Path.Combine(repo, "tools", "s3rver", "serve.mjs"), "--dir", storage, "--bucket", Bucket, "--latency-ms", latencyMs.ToString(CultureInfo.InvariantCulture)]);
            var endpoint = server.Ready.Split(' ')[1];
            using var fake = Start("node", [Path.Combine(repo, "bench", "tools", "fake-cloudtrail.mjs"), "--keys", Path.Combine(corpus, SampleCorpus.PublicKeysFileName), "--bucket", Bucket, "--prefix", shape.Prefix, "--trail", shape.TrailName, "--home-region", shape.HomeRegion, "--management-account", shape.Accounts[0], "--org-id", shape.OrgId!]);
            var fakeParts = fake.Ready.Split(' ');
            try
            {
                using (var client = new AmazonS3Client(new BasicAWSCredentials("S3RVER", "S3RVER"), new AmazonS3Config { ServiceURL = endpoint, ForcePathStyle = true, AuthenticationRegion = "us-east-1", RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED, ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED }))
                {
                    var upload = Stopwatch.StartNew();
                    await S3Upload.UploadDirectoryAsync(corpus, client, Bucket, parallelism: 64);
                    Console.WriteLine($"    uploaded in {upload.Elapsed.TotalSeconds:N1} s");
                }

                var environment = new Dictionary<string, string>
                {
                    ["AWS_ACCESS_KEY_ID"] = "S3RVER",
                    ["AWS_SECRET_ACCESS_KEY"] = "S3RVER",
                    ["AWS_REGION"] = "us-east-1",
                    ["AWS_DEFAULT_REGION"] = "us-east-1",
                };

                // auditinfra verify: the whole source in one process; one unmeasured run first (the emulator's own
                // JIT warms up over its first thousands of requests, which the AWS CLI's long run absorbs), then
                // OursRuns measured runs, compared by their median.
                var ours = new List<double>();
                for (var i = 0; i <= OursRuns; i++)
                {
                    var run = Run("dotnet", [cli, "verify", "--source", $"s3://{Bucket}/{shape.Prefix.Split('/')[0]}", "--endpoint-url", endpoint, "--public-keys", Path.Combine(corpus, SampleCorpus.PublicKeysFileName), "--json", "-"], environment);
                    if (run.ExitCode != 0)
                    {
                        throw new InvalidOperationException($"auditinfra verify exited {run.ExitCode}: {run.Error}");
                    }

                    if (i > 0)
                    {
                        ours.Add(run.Seconds);
                    }
                }

                // The floor over HTTP: unsigned GETs of the same objects, 64 in flight, each gunzipped and hashed
                // in one pass and nothing else; what any client pays for these requests on this machine.
                var floor = new List<double>();
                for (var i = 0; i < FloorRuns; i++)
                {
                    floor.Add(await HttpFloorAsync(endpoint, corpus, files));
                }

                // aws cloudtrail validate-logs: one run per account and region, as it works.
                var config = Path.Combine(storage, "aws-config");
                File.WriteAllText(config, "[default]\nregion = us-east-1\ns3 =\n    addressing_style = path\n");
                var awsEnvironment = new Dictionary<string, string>(environment)
                {
                    ["AWS_CONFIG_FILE"] = config,
                    ["AWS_ENDPOINT_URL_S3"] = endpoint,
                    ["AWS_ENDPOINT_URL_CLOUDTRAIL"] = fakeParts[1],
                    ["AWS_ENDPOINT_URL_ORGANIZATIONS"] = fakeParts[1],
                };
                var theirs = 0.0;
                var validDigests = 0;
                var validLogs = 0;
                var startTime = shape.Start.AddHours(-1).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
                var endTime = shape.Start.AddHours(shape.Hours + 1).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
                foreach (var account in shape.Accounts)
                {
                    foreach (var region in shape.Regions)
                    {
                        var run = Run(aws, ["cloudtrail", "validate-logs", "--trail-arn", fakeParts[2], "--account-id", account, "--region", region, "--start-time", startTime, "--end-time", endTime], awsEnvironment);
                        theirs += run.Seconds;
                        validDigests += Count(run.Output, "digest files valid");
                        validLogs += Count(run.Output, "log files valid");
                        if (run.ExitCode != 0)
                        {
                            Console.WriteLine($"    aws validate-logs {account} {region} exited {run.ExitCode}: {run.Output.Trim().Split('\n').LastOrDefault()} {run.Error.Trim()}");
                        }
                    }
                }

                var median = ours.Order().ElementAt(ours.Count / 2);
                Console.WriteLine($"    auditinfra verify (one process, 64 concurrent requests): {string.Join(", ", ours.Select(VerifyBenchmark.S))} s; median {VerifyBenchmark.S(median)} s");
                var floorMedian = floor.Order().ElementAt(floor.Count / 2);
                Console.WriteLine($"    HTTP floor (in process: unsigned GETs, 64 in flight, gunzip + SHA-256 only): {string.Join(", ", floor.Select(VerifyBenchmark.S))} s; median {VerifyBenchmark.S(floorMedian)} s; verify / floor = {median / floorMedian:N2}");
                Console.WriteLine($"    aws cloudtrail validate-logs ({shape.Accounts.Count * shape.Regions.Count} runs, one per account and region): {VerifyBenchmark.S(theirs)} s; it reported {validDigests} digests and {validLogs} logs valid");
                Console.WriteLine($"    RATIO aws / auditinfra median = {theirs / median:N1}x (target >= 20x); slowest run {theirs / ours.Max():N1}x, fastest {theirs / ours.Min():N1}x");
            }
            finally
            {
                Directory.Delete(storage, recursive: true);
            }
        }

        return 0;
    }

    private const int OursRuns = 5;

    private const int FloorRuns = 3;

    private static async Task<double> HttpFloorAsync(string endpoint, string corpus, List<string> files)
    {
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = VerifyOptions.DefaultRemoteParallelism });
        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(files, new ParallelOptions { MaxDegreeOfParallelism = VerifyOptions.DefaultRemoteParallelism }, async (file, ct) =>
        {
            var key = Path.GetRelativePath(corpus, file).Replace('\\', '/');
            using var response = await http.GetAsync($"{endpoint}/{Bucket}/{key}", HttpCompletionOption.ResponseHeadersRead, ct);
            response.EnsureSuccessStatusCode();
            await using var body = await response.Content.ReadAsStreamAsync(ct);
            var result = await GzipHash.ComputeAsync(body, null, ct);
            if (result.Error is not null)
            {
                throw new InvalidOperationException($"{key}: {result.Error}");
            }
        });
        return clock.Elapsed.TotalSeconds;
    }

    private static int Count(string output, string label)
    {
        var line = output.Split('\n').FirstOrDefault(l => l.Contains(label, StringComparison.Ordinal));
        return line is null ? 0 : int.Parse(line.Trim().Split('/')[0], CultureInfo.InvariantCulture);
    }

    private static BenchServer Start(string file, string[] args) => BenchProcesses.Start(file, args);

    private static (int ExitCode, string Output, string Error, double Seconds) Run(string file, string[] args, Dictionary<string, string>? environment = null) =>
        BenchProcesses.Run(file, args, environment);

    private static string? Which(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':').Select(p => Path.Combine(p, name)).FirstOrDefault(File.Exists);

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

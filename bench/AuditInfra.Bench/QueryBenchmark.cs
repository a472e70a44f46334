using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;

namespace AuditInfra.Bench;

/// <summary>
/// One account-day asked of corpora of 10 and of 100 days, through the real `auditinfra query`
/// process: path selection should make the time independent of the corpus (target ratio ≤ 1.3).
/// Baseline in the same run: the same question answered by `gzip -dc | jq` over the same files.
/// </summary>
public static class QueryBenchmark
{
    private const string Account = "333333333333";

    public static int Run(string[] args)
    {
        var root = FindRepo();
        var cli = Path.Combine(root, "infra", "AuditInfra.Cli", "bin", "Release", "net10.0", "auditinfra.dll");
        if (!File.Exists(cli))
        {
            Console.Error.WriteLine($"build the CLI first: dotnet build -c Release infra/AuditInfra.Cli ({cli} is missing)");
            return 2;
        }

        var work = Directory.CreateTempSubdirectory("auditinfra-query-bench").FullName;
        try
        {
            var small = Corpus(Path.Combine(work, "days10"), 10);
            var large = Corpus(Path.Combine(work, "days100"), 100);
            var day = new DateOnly(2026, 1, 5);
            var dayFiles = Directory.GetFiles(Path.Combine(large, "AWSLogs", "o-a1b2c3d4e5", Account, "CloudTrail"), "*.json.gz", SearchOption.AllDirectories)
                .Where(f => f.Contains($"{day:yyyy}{Path.DirectorySeparatorChar}{day:MM}{Path.DirectorySeparatorChar}{day:dd}", StringComparison.Ordinal)).ToList();
            Console.WriteLine($"query: one account-day ({dayFiles.Count} files, {Records} records each) from corpora of 10 and 100 days x {Accounts} accounts x {RegionsPerAccount} regions x 24 hourly files; {Environment.ProcessorCount} cores");

            string[] Args(string corpus) => ["query", "--source", corpus, "--account", Account, "--date", day.ToString("yyyy-MM-dd"), "--format", "csv"];
            var jq = $"gzip -dc {string.Join(' ', dayFiles.Select(f => $"'{f}'"))} | jq -r '.Records[] | select(.recipientAccountId == \"{Account}\" and (.eventTime | startswith(\"{day:yyyy-MM-dd}\"))) | [.eventTime, .userIdentity.type, .userIdentity.arn, .userIdentity.sessionContext.sessionIssuer.arn, .sourceIPAddress, .eventSource, .eventName, .errorCode, .requestID] | @csv' | sort > /dev/null";

            Time("dotnet", [cli, .. Args(small)]);
            var t10 = Median(5, () => Time("dotnet", [cli, .. Args(small)]));
            var t100 = Median(5, () => Time("dotnet", [cli, .. Args(large)]));
            var tjq = Median(5, () => Time("bash", ["-c", jq]));
            Console.WriteLine($"auditinfra query, 10-day corpus:   {t10:F3} s");
            Console.WriteLine($"auditinfra query, 100-day corpus:  {t100:F3} s");
            Console.WriteLine($"gzip -dc | jq, same day's files:   {tjq:F3} s");
            Console.WriteLine($"ratio 100-day / 10-day: {t100 / t10:F2} (target <= 1.30) {(t100 / t10 <= 1.3 ? "MET" : "NOT MET")}");
            Console.WriteLine($"ratio auditinfra / (gzip | jq): {t100 / tjq:F2} (process start of the .NET tool included)");
            return 0;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private const int Accounts = 3;
    private const int RegionsPerAccount = 2;
    private const int Records = 40;

    private static string Corpus(string root, int days)
    {
        var random = new Random(7);
        string[] regions = ["us-east-1", "eu-west-1"];
        for (var a = 0; a < Accounts; a++)
        {
            var account = (333333333333L + (a * 111111111111L)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            foreach (var region in regions.Take(RegionsPerAccount))
            {
                for (var d = 0; d < days; d++)
                {
                    var day = new DateOnly(2026, 1, 1).AddDays(d);
                    var dir = Path.Combine(root, "AWSLogs", "o-a1b2c3d4e5", account, "CloudTrail", region, $"{day:yyyy}", $"{day:MM}", $"{day:dd}");
                    Directory.CreateDirectory(dir);
                    for (var hour = 0; hour < 24; hour++)
                    {
                        var records = new JsonArray();
                        for (var i = 0; i < Records; i++)
                        {
                            records.Add(new JsonObject
                            {
                                ["eventVersion"] = "1.09",
                                ["userIdentity"] = new JsonObject { ["type"] = "AssumedRole", ["arn"] = $"arn:aws:sts::{account}:assumed-role/App/s{i}", ["accountId"] = account, ["sessionContext"] = new JsonObject { ["sessionIssuer"] = new JsonObject { ["arn"] = $"arn:aws:iam::{account}:role/App" }, ["attributes"] = new JsonObject { ["mfaAuthenticated"] = "false" } } },
                                ["eventTime"] = $"{day:yyyy-MM-dd}T{hour:D2}:{random.Next(60):D2}:00Z",
                                ["eventSource"] = "s3.amazonaws.com",
                                ["eventName"] = random.Next(10) == 0 ? "PutObject" : "GetObject",
                                ["awsRegion"] = region,
                                ["sourceIPAddress"] = $"10.0.{random.Next(255)}.{random.Next(255)}",
                                ["requestParameters"] = new JsonObject { ["bucketName"] = "data", ["key"] = $"k/{i}" },
                                ["requestID"] = Guid.NewGuid().ToString(),
                                ["eventID"] = Guid.NewGuid().ToString(),
                                ["eventType"] = "AwsApiCall",
                                ["recipientAccountId"] = account,
                            });
                        }

                        using var gz = new GZipStream(File.Create(Path.Combine(dir, $"{account}_CloudTrail_{region}_{day:yyyyMMdd}T{hour:D2}00Z_{Guid.NewGuid():n}"[..80] + ".json.gz")), CompressionLevel.Fastest);
                        gz.Write(Encoding.UTF8.GetBytes(new JsonObject { ["Records"] = records }.ToJsonString()));
                    }
                }
            }
        }

        return root;
    }

    private static double Time(string program, string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var watch = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} failed: {process.StandardError.ReadToEnd()}");
        }

        return watch.Elapsed.TotalSeconds;
    }

    private static double Median(int runs, Func<double> measure) =>
        Enumerable.Range(0, runs).Select(_ => measure()).Order().ElementAt(runs / 2);

    private static string FindRepo()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "AuditInfra.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("run from the repository (AuditInfra.sln not found above the benchmark)");
    }
}

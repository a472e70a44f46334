using AuditInfra.Bench;

// A simple dispatcher: each capability's benchmark lives in its own class.
var capability = args.Length > 0 ? args[0] : "";
return capability switch
{
    "rollout" => await RolloutBenchmark.RunAsync(args[1..]),
    "detection" => DetectionBenchmark.Run(args[1..]),
    "query" => QueryBenchmark.Run(args[1..]),
    "query-s3" => await QueryS3Benchmark.RunAsync(args[1..]),
    "verify" => await VerifyBenchmark.RunAsync(args[1..]),
    "verify-floor" => VerifyBenchmark.RunFloorProcess(args[1..]),
    "verify-incremental" => await VerifyIncrementalBenchmark.RunAsync(args[1..]),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: dotnet run -c Release --project bench/AuditInfra.Bench -- <capability> [options]");
    Console.Error.WriteLine("  rollout [--accounts N] [--latency-ms L] [--postgres CONN]   1,000 simulated accounts at concurrency 1, 4, 16");
    Console.Error.WriteLine("  detection [--events N] [--exclude id,id]                   parse-only vs parse + whole-catalog match, same events");
    Console.Error.WriteLine("  query                                                      one account-day from 10- and 100-day corpora; gzip|jq baseline (build the CLI in Release first)");
    Console.Error.WriteLine("  query-s3 [--latency-ms 20] [--days 100]                    one account-day over s3rver: vs 64 GETs in flight; 100- vs 10-day bucket (build the CLI in Release first)");
    Console.Error.WriteLine("  verify [--mb N] [--rounds N] [--dir D] [--no-memory] [--no-s3]   local verify vs gunzip+hash floor; peak memory x1/x10; S3 vs aws validate-logs (build the CLI in Release first)");
    Console.Error.WriteLine("  verify-incremental [--accounts N] [--hours N] [--latency-ms L] [--no-s3]   verify --state: first run, unchanged second run (>= 10x faster), one new hour; locally and over s3rver");
    return 2;
}

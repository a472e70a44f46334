using AuditInfra.Bench;

// A simple dispatcher: each capability's benchmark lives in its own class.
var capability = args.Length > 0 ? args[0] : "";
return capability switch
{
    "rollout" => await RolloutBenchmark.RunAsync(args[1..]),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: dotnet run -c Release --project bench/AuditInfra.Bench -- <capability> [options]");
    Console.Error.WriteLine("  rollout [--accounts N] [--latency-ms L] [--postgres CONN]   1,000 simulated accounts at concurrency 1, 4, 16");
    return 2;
}

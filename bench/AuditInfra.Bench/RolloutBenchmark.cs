using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using AuditInfra.Core.Rollout;
using AuditInfra.Rollout.Engine;
using AuditInfra.Rollout.Ledger;

namespace AuditInfra.Bench;

/// <summary>
/// The rollout engine converging a simulated organization: N accounts, a deployer of fixed
/// latency, at concurrency 1, 4 and 16 on a real SQLite ledger (and PostgreSQL when given).
/// Throughput is reported as the ratio of the ideal time (accounts × latency / concurrency) to
/// the measured one (target ≥ 0.9); ledger overhead per account is measured with a deployer of
/// zero latency at concurrency 1 (enqueue + lease + complete, plus the drain checks). Each row is
/// the median of <c>--rounds</c> runs (default 5), each on a fresh ledger whose connection pool is
/// warmed first, as a running host's is.
/// </summary>
public static class RolloutBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var accounts = IntArg(args, "--accounts", 1000);
        var latency = TimeSpan.FromMilliseconds(IntArg(args, "--latency-ms", 20));
        var rounds = IntArg(args, "--rounds", 5);
        int[] levels = StringArg(args, "--concurrency") is { } list ? [.. list.Split(',').Select(c => int.Parse(c, CultureInfo.InvariantCulture))] : [1, 4, 16];
        var only = StringArg(args, "--ledger");
        var postgres = StringArg(args, "--postgres") ?? Environment.GetEnvironmentVariable(RolloutLedgers.PostgresTestEnvironmentVariable);
        Console.WriteLine($"rollout benchmark: {accounts} accounts, deployer latency {latency.TotalMilliseconds} ms, {Environment.ProcessorCount} cores, median of {rounds}");
        Console.WriteLine();
        Console.WriteLine("ledger      concurrency  ideal s  actual s  ratio  accounts/s  overhead ms/account");
        foreach (var concurrency in only is null ? levels : [])
        {
            // The floor: the same delays in bare parallel loops, no engine, no ledger (timer resolution, scheduling).
            var ideal = latency * accounts / concurrency;
            var bare = await MedianAsync(rounds, () => BareLoopsAsync(accounts, latency, concurrency));
            Console.WriteLine($"{"(no engine)",-10}  {concurrency,11}  {ideal.TotalSeconds,7:0.00}  {bare.TotalSeconds,8:0.00}  {ideal / bare,5:0.00}  {accounts / bare.TotalSeconds,10:0}  {((bare * concurrency) - (latency * accounts)).TotalMilliseconds / accounts,19:0.000}");
        }

        var ledgers = new List<(string Name, Func<Task<IRolloutLedger>> Open)>();
        if (only is null or "sqlite")
        {
            ledgers.Add(("sqlite", OpenSqliteAsync));
        }

        if (!string.IsNullOrEmpty(postgres) && only is null or "postgresql")
        {
            ledgers.Add(("postgresql", () => OpenPostgresAsync(postgres)));
        }

        var worst = double.MaxValue;
        foreach (var (name, open) in ledgers)
        {
            var overhead = await MedianAsync(rounds, async () => await MeasureAsync(await open(), accounts, TimeSpan.Zero, 1));
            Console.WriteLine($"{name,-10}  {1,11}  {0,7:0.00}  {overhead.TotalSeconds,8:0.00}  {"-",5}  {accounts / overhead.TotalSeconds,10:0}  {overhead.TotalMilliseconds / accounts,19:0.000}   (zero-latency deployer: pure ledger cost)");
            foreach (var concurrency in levels)
            {
                var ideal = latency * accounts / concurrency;
                var actual = await MedianAsync(rounds, async () => await MeasureAsync(await open(), accounts, latency, concurrency));
                var ratio = ideal / actual;
                worst = Math.Min(worst, ratio);
                var perAccount = (actual * concurrency - latency * accounts) / accounts;
                Console.WriteLine($"{name,-10}  {concurrency,11}  {ideal.TotalSeconds,7:0.00}  {actual.TotalSeconds,8:0.00}  {ratio,5:0.00}  {accounts / actual.TotalSeconds,10:0}  {perAccount.TotalMilliseconds,19:0.000}");
            }
        }

        Console.WriteLine();
        Console.WriteLine($"worst ratio {worst:0.00} (target >= 0.90): {(worst >= 0.9 ? "met" : "NOT met")}");
        return 0;
    }

    private static async Task<TimeSpan> MeasureAsync(IRolloutLedger ledger, int accounts, TimeSpan latency, int concurrency)
    {
        var deployer = new FixedLatencyDeployer(latency);
        var directory = new SimulatedOrganization(accounts);
        var spec = new RolloutSpec("bench+1", Inputs, _ => true);
        var options = new RolloutEngineOptions { Concurrency = concurrency, PollInterval = TimeSpan.FromMilliseconds(5), Owner = $"bench-{concurrency}" };
        var engine = new RolloutEngine(ledger, deployer, directory, SystemClock.Instance, spec, options);

        // A running host's connection pool is warm: open as many connections as the workers and
        // reconciliation use at once before timing (PostgreSQL forks a server process for each).
        await Task.WhenAll(Enumerable.Range(0, concurrency + 2).Select(_ => ledger.CountOutstandingAsync(null, CancellationToken.None)));
        var stopwatch = Stopwatch.StartNew();

        // As the service does: workers deploy while reconciliation is still enqueuing.
        var reconcile = engine.ReconcileAsync(CancellationToken.None);
        await Task.WhenAll(reconcile, engine.DrainAsync(CancellationToken.None));
        stopwatch.Stop();
        var entries = await ledger.ListAsync(CancellationToken.None);
        if (entries.Count != accounts || entries.Any(e => e.State != AccountRolloutState.Deployed) || deployer.Calls != accounts)
        {
            throw new InvalidOperationException($"did not converge: {entries.Count(e => e.State == AccountRolloutState.Deployed)}/{accounts} deployed, {deployer.Calls} calls");
        }

        if (ledger is IAsyncDisposable disposable)
        {
            await disposable.DisposeAsync();
        }

        return stopwatch.Elapsed;
    }

    private static async Task<TimeSpan> MedianAsync(int rounds, Func<Task<TimeSpan>> measure)
    {
        var times = new List<TimeSpan>();
        for (var i = 0; i < Math.Max(1, rounds); i++)
        {
            times.Add(await measure());
        }

        times.Sort();
        return times[times.Count / 2];
    }

    private static async Task<TimeSpan> BareLoopsAsync(int accounts, TimeSpan latency, int concurrency)
    {
        var next = 0;
        var stopwatch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            while (Interlocked.Increment(ref next) <= accounts)
            {
                await Task.Delay(latency);
            }
        }));
        return stopwatch.Elapsed;
    }

    private static AccountBaselineInputs Inputs(string id) => new(
        id, "us-east-1", ["us-east-1"], "arn:aws:events:us-east-1:222222222222:event-bus/central", $"arn:aws:iam::{id}:role/OrganizationAccountAccessRole", "bench",
        ImmutableSortedDictionary<string, string>.Empty);

    private static async Task<IRolloutLedger> OpenSqliteAsync()
    {
        var folder = Path.Combine(Path.GetTempPath(), "auditinfra-bench-" + Guid.NewGuid().ToString("N")[..8]);
        return await SqliteRolloutLedger.OpenAsync(Path.Combine(folder, "ledger.db"));
    }

    private static async Task<IRolloutLedger> OpenPostgresAsync(string server)
    {
        var database = "bench_" + Guid.NewGuid().ToString("N")[..10];
        await using (var admin = new Npgsql.NpgsqlConnection(server))
        {
            await admin.OpenAsync();
            await using var create = new Npgsql.NpgsqlCommand($"CREATE DATABASE {database}", admin);
            await create.ExecuteNonQueryAsync();
        }

        return await PostgresRolloutLedger.OpenAsync(new Npgsql.NpgsqlConnectionStringBuilder(server) { Database = database }.ToString());
    }

    private static int IntArg(string[] args, string name, int fallback) =>
        StringArg(args, name) is { } text ? int.Parse(text, CultureInfo.InvariantCulture) : fallback;

    private static string? StringArg(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    private sealed class FixedLatencyDeployer(TimeSpan latency) : IStackDeployer
    {
        private int _calls;

        public int Calls => _calls;

        public async Task<DeploymentResult> DeployAsync(DeploymentRequest request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _calls);
            if (latency > TimeSpan.Zero)
            {
                await Task.Delay(latency, cancellationToken);
            }

            return new DeploymentResult("simulated");
        }

        public Task<PreviewResult> PreviewAsync(DeploymentRequest request, string? policyPackDirectory, CancellationToken cancellationToken) =>
            Task.FromResult(new PreviewResult(true, "simulated", []));

        public Task<RefreshResult> RefreshAsync(DeploymentRequest request, CancellationToken cancellationToken) =>
            Task.FromResult(new RefreshResult(false, "simulated"));
    }

    private sealed class SimulatedOrganization(int accounts) : IAccountDirectory
    {
        public Task<IReadOnlyList<OrganizationAccount>> ListAccountsAsync(CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyList<OrganizationAccount>>(
                [.. Enumerable.Range(1, accounts).Select(i => new OrganizationAccount((400000000000L + i).ToString(CultureInfo.InvariantCulture), $"member-{i}", OrganizationAccountStatus.Active))]);
    }
}

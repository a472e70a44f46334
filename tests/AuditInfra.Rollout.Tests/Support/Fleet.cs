using System.Collections.Concurrent;
using System.Collections.Immutable;
using AuditInfra.Core.Rollout;
using AuditInfra.Rollout.Engine;
using AuditInfra.Rollout.Ledger;
using Moq;

namespace AuditInfra.Rollout.Tests.Support;

/// <summary>A clock tests move by hand (lease expiry, event order).</summary>
public sealed class ManualClock(DateTimeOffset start) : IClock
{
    private long _ticks = start.UtcTicks;

    public DateTimeOffset UtcNow => new(Interlocked.Read(ref _ticks), TimeSpan.Zero);

    public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
}

/// <summary>A temp folder with a real SQLite ledger file, deleted afterwards.</summary>
public sealed class TempLedger : IAsyncDisposable
{
    private TempLedger(string folder, SqliteRolloutLedger ledger)
    {
        Folder = folder;
        Ledger = ledger;
    }

    public string Folder { get; }

    public string Path => Ledger.Path;

    public SqliteRolloutLedger Ledger { get; }

    public static async Task<TempLedger> CreateAsync()
    {
        var folder = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "auditinfra-rollout-" + Guid.NewGuid().ToString("N")[..10]);
        System.IO.Directory.CreateDirectory(folder);
        return new TempLedger(folder, await SqliteRolloutLedger.OpenAsync(System.IO.Path.Combine(folder, "ledger.db")));
    }

    public async Task<SqliteRolloutLedger> ReopenAsync() => await SqliteRolloutLedger.OpenAsync(Path);

    /// <summary>
    /// Moves the owner's lease expiries back by <paramref name="by"/> in the file, as if that much
    /// time had passed on the database's clock: leases lapse without the test waiting them out.
    /// </summary>
    public async Task AgeLeasesAsync(string owner, TimeSpan by)
    {
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path}");
        await connection.OpenAsync();
        await using var age = connection.CreateCommand();
        age.CommandText = "UPDATE rollout_accounts SET lease_until = lease_until - $by WHERE lease_owner = $owner";
        age.Parameters.AddWithValue("$by", (long)by.TotalMilliseconds);
        age.Parameters.AddWithValue("$owner", owner);
        await age.ExecuteNonQueryAsync();
    }

    public ValueTask DisposeAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            System.IO.Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
        }

        return ValueTask.CompletedTask;
    }
}

/// <summary>Simulated organizations, specs and deployers.</summary>
public static class Fleet
{
    public const string Management = "111111111111";
    public const string Audit = "222222222222";

    public static string AccountId(int i) => (300000000000L + i).ToString(System.Globalization.CultureInfo.InvariantCulture);

    public static RolloutSpec Spec(string version = "1.0.0+abc") => new(version, Inputs, id => id != Management);

    public static AccountBaselineInputs Inputs(string accountId) => new(
        accountId, "us-east-1", ["us-east-1", "us-west-2"], $"arn:aws:events:us-east-1:{Audit}:event-bus/acme-audit-central",
        $"arn:aws:iam::{accountId}:role/OrganizationAccountAccessRole", "acme-audit", ImmutableSortedDictionary<string, string>.Empty);

    public static RolloutEngineOptions Options(int concurrency = 4, int maxAttempts = 3, string? owner = null) => new()
    {
        Concurrency = concurrency,
        MaxAttempts = maxAttempts,
        RetryBaseDelay = TimeSpan.FromMilliseconds(1),
        MaxRetryDelay = TimeSpan.FromMilliseconds(20),
        Lease = TimeSpan.FromMinutes(10),
        PollInterval = TimeSpan.FromMilliseconds(20),
        LockRetries = 5,
        LedgerRetries = 3,
        LedgerRetryDelay = TimeSpan.FromMilliseconds(1),
        Owner = owner ?? "test-" + Guid.NewGuid().ToString("N")[..6],
    };

    public static Mock<IAccountDirectory> Directory(params OrganizationAccount[] accounts)
    {
        var directory = new Mock<IAccountDirectory>(MockBehavior.Strict);
        directory.Setup(d => d.ListAccountsAsync(It.IsAny<CancellationToken>())).ReturnsAsync(accounts);
        return directory;
    }

    public static OrganizationAccount[] Active(int count) =>
        [.. Enumerable.Range(1, count).Select(i => new OrganizationAccount(AccountId(i), $"member-{i}", OrganizationAccountStatus.Active))];
}

/// <summary>
/// A Moq'd deployer that records every call, the calls in flight per account, and the peak
/// concurrency; <see cref="Behaviour"/> decides each call's outcome.
/// </summary>
public sealed class RecordingDeployer
{
    private int _inFlight;
    private int _peak;

    public RecordingDeployer(TimeSpan? latency = null)
    {
        Mock = new Mock<IStackDeployer>(MockBehavior.Strict);
        Mock.Setup(d => d.DeployAsync(It.IsAny<DeploymentRequest>(), It.IsAny<CancellationToken>()))
            .Returns(async (DeploymentRequest request, CancellationToken ct) =>
            {
                var now = Interlocked.Increment(ref _inFlight);
                InterlockedMax(ref _peak, now);
                var perAccount = PerAccountInFlight.AddOrUpdate(request.AccountId, 1, (_, n) => n + 1);
                if (perAccount > 1)
                {
                    Overlaps.Add(request.AccountId);
                }

                Calls.Add(request);
                try
                {
                    if (latency is { } l && l > TimeSpan.Zero)
                    {
                        await Task.Delay(l, ct);
                    }

                    await Behaviour(request, ct);
                    Succeeded.Add(request);
                    return new DeploymentResult("ok");
                }
                finally
                {
                    PerAccountInFlight.AddOrUpdate(request.AccountId, 0, (_, n) => n - 1);
                    Interlocked.Decrement(ref _inFlight);
                }
            });
        Mock.Setup(d => d.RefreshAsync(It.IsAny<DeploymentRequest>(), It.IsAny<CancellationToken>()))
            .Returns(async (DeploymentRequest request, CancellationToken ct) =>
            {
                Refreshes.Add(request);
                return await RefreshBehaviour(request, ct);
            });
        Object = Mock.Object;
    }

    public Mock<IStackDeployer> Mock { get; }

    public IStackDeployer Object { get; }

    public Func<DeploymentRequest, CancellationToken, Task> Behaviour { get; set; } = (_, _) => Task.CompletedTask;

    /// <summary>What a refresh finds: no drift unless a test says otherwise.</summary>
    public Func<DeploymentRequest, CancellationToken, Task<RefreshResult>> RefreshBehaviour { get; set; } = (_, _) => Task.FromResult(new RefreshResult(false, "no changes"));

    public ConcurrentBag<DeploymentRequest> Calls { get; } = [];

    public ConcurrentBag<DeploymentRequest> Refreshes { get; } = [];

    public ConcurrentBag<DeploymentRequest> Succeeded { get; } = [];

    public ConcurrentDictionary<string, int> PerAccountInFlight { get; } = new();

    public ConcurrentBag<string> Overlaps { get; } = [];

    public int Peak => Volatile.Read(ref _peak);

    public int CallsFor(string accountId) => Calls.Count(c => c.AccountId == accountId);

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }
}

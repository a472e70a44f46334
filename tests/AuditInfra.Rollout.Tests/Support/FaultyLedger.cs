using System.Collections.Concurrent;
using AuditInfra.Core.Rollout;

namespace AuditInfra.Rollout.Tests.Support;

/// <summary>
/// A real ledger behind a fault injector: <see cref="Fault"/> decides, per method name, whether a
/// call throws instead of reaching the ledger (a dropped connection, a killed host).
/// </summary>
public sealed class FaultyLedger(IRolloutLedger inner) : IRolloutLedger
{
    public IRolloutLedger Inner { get; } = inner;

    /// <summary>Given the method's name, the exception to throw instead of calling the ledger, or null.</summary>
    public Func<string, Exception?> Fault { get; set; } = _ => null;

    public ConcurrentDictionary<string, int> Calls { get; } = new();

    public ConcurrentDictionary<string, int> Faults { get; } = new();

    public Task<EnqueueResult> EnqueueAsync(string accountId, string version, string reason, bool retryFailed, DateTimeOffset? eventTime, DateTimeOffset now, CancellationToken cancellationToken) =>
        Call(nameof(EnqueueAsync), () => Inner.EnqueueAsync(accountId, version, reason, retryFailed, eventTime, now, cancellationToken));

    public Task<IReadOnlySet<string>> EnqueueNewAsync(IReadOnlyList<string> accountIds, string version, string reason, DateTimeOffset now, CancellationToken cancellationToken) =>
        Call(nameof(EnqueueNewAsync), () => Inner.EnqueueNewAsync(accountIds, version, reason, now, cancellationToken));

    /// <summary>Told of every lease granted, as soon as the ledger returns it.</summary>
    public Action<LeasedWork> Leased { get; set; } = _ => { };

    public Task<LeasedWork?> TryLeaseAsync(string owner, string version, TimeSpan lease, string? accountId, CancellationToken cancellationToken) =>
        Call(nameof(TryLeaseAsync), async () =>
        {
            var work = await Inner.TryLeaseAsync(owner, version, lease, accountId, cancellationToken);
            if (work is not null)
            {
                Leased(work);
            }

            return work;
        });

    /// <summary>Awaited before a renewal reaches the ledger, given the lease: a renewal that stalls, as on a starved host.</summary>
    public Func<LeasedWork, Task> BeforeRenewal { get; set; } = _ => Task.CompletedTask;

    public Task<bool> RenewAsync(LeasedWork held, TimeSpan lease, CancellationToken cancellationToken) =>
        Call(nameof(RenewAsync), async () =>
        {
            await BeforeRenewal(held);
            return await Inner.RenewAsync(held, lease, cancellationToken);
        });

    public Task<bool> RecordAttemptAsync(LeasedWork held, string error, DateTimeOffset now, CancellationToken cancellationToken) =>
        Call(nameof(RecordAttemptAsync), () => Inner.RecordAttemptAsync(held, error, now, cancellationToken));

    public Task<bool> CompleteAsync(LeasedWork held, string version, DateTimeOffset now, CancellationToken cancellationToken) =>
        Call(nameof(CompleteAsync), () => Inner.CompleteAsync(held, version, now, cancellationToken));

    public Task<bool> FailAsync(LeasedWork held, string version, string error, DateTimeOffset now, CancellationToken cancellationToken) =>
        Call(nameof(FailAsync), () => Inner.FailAsync(held, version, error, now, cancellationToken));

    public Task<bool> ReleaseAsync(LeasedWork held, TimeSpan retryAfter, string? note, DateTimeOffset now, CancellationToken cancellationToken) =>
        Call(nameof(ReleaseAsync), () => Inner.ReleaseAsync(held, retryAfter, note, now, cancellationToken));

    public Task<RetireResult> RetireAsync(string accountId, string reason, DateTimeOffset? eventTime, DateTimeOffset now, CancellationToken cancellationToken) =>
        Call(nameof(RetireAsync), () => Inner.RetireAsync(accountId, reason, eventTime, now, cancellationToken));

    public Task<bool> RequestRefreshAsync(string accountId, string version, DateTimeOffset dueBefore, DateTimeOffset now, CancellationToken cancellationToken) =>
        Call(nameof(RequestRefreshAsync), () => Inner.RequestRefreshAsync(accountId, version, dueBefore, now, cancellationToken));

    public Task<IReadOnlyList<LedgerEntry>> ListAsync(CancellationToken cancellationToken) =>
        Call(nameof(ListAsync), () => Inner.ListAsync(cancellationToken));

    public Task<int> CountOutstandingAsync(string? version, CancellationToken cancellationToken) =>
        Call(nameof(CountOutstandingAsync), () => Inner.CountOutstandingAsync(version, cancellationToken));

    private async Task<T> Call<T>(string method, Func<Task<T>> call)
    {
        Calls.AddOrUpdate(method, 1, (_, n) => n + 1);
        if (Fault(method) is { } error)
        {
            Faults.AddOrUpdate(method, 1, (_, n) => n + 1);
            await Task.Yield();
            throw error;
        }

        return await call();
    }
}

/// <summary>A logger that keeps what was logged (to show that errors are logged, not lost).</summary>
public sealed class ListLogger : Microsoft.Extensions.Logging.ILogger
{
    public ConcurrentQueue<(Microsoft.Extensions.Logging.LogLevel Level, string Message)> Entries { get; } = new();

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;

    public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Entries.Enqueue((logLevel, formatter(state, exception)));
}

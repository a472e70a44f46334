using Polly;
using Polly.Retry;

namespace AuditInfra.Core.Integrity;

/// <summary>Why a failed source request may succeed when made again.</summary>
public enum RetryReason
{
    /// <summary>Not retried: the failure will not change (access denied, not found, a bad answer).</summary>
    None,

    /// <summary>The service asks to slow down (SlowDown, 503, 429): retried longer, with backoff.</summary>
    Throttled,

    /// <summary>The connection failed, timed out or broke off mid-object: retried a few times.</summary>
    Transient,
}

/// <summary>
/// The one retry policy of every read of a source (listings, and each object read as a whole: open plus
/// consumption, so a body that breaks off mid-stream is read again from its start). It is applied at one
/// place per request, never stacked: the S3 client's own retries are off (see the CLI's S3ObjectStore), and
/// the verifier reads objects through <see cref="IObjectStore.ReadAsync{T}"/>, which a store implements with
/// this policy around a single attempt. Cancellation ends the waits between attempts at once.
/// </summary>
public sealed class SourceRetry
{
    /// <summary>Retries of a transient failure: with the S3 timeouts a dead endpoint still ends a run in under 30 s.</summary>
    public const int DefaultTransientRetries = 2;

    public const int DefaultThrottleRetries = 6;

    private readonly ResiliencePipeline pipeline;

    /// <param name="classify">Why an exception may be retried; the default treats broken streams and HTTP failures as transient.</param>
    public SourceRetry(Func<Exception, RetryReason>? classify = null, int throttleRetries = DefaultThrottleRetries, int transientRetries = DefaultTransientRetries, TimeSpan? baseDelay = null)
    {
        Classify = classify ?? ClassifyStreamFailure;
        TransientRetries = transientRetries;
        if (throttleRetries <= 0 && transientRetries <= 0)
        {
            pipeline = ResiliencePipeline.Empty;
            return;
        }

        pipeline = new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is { } e && !args.Context.CancellationToken.IsCancellationRequested && Classify(e) switch
                {
                    RetryReason.Throttled => args.AttemptNumber < throttleRetries,
                    RetryReason.Transient => args.AttemptNumber < transientRetries,
                    _ => false,
                }),
                MaxRetryAttempts = Math.Max(Math.Max(throttleRetries, transientRetries), 1),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = baseDelay ?? TimeSpan.FromMilliseconds(100),
            })
            .Build();
    }

    /// <summary>A local copy: nothing is retried (a failing disk does not heal in milliseconds).</summary>
    public static SourceRetry None { get; } = new(_ => RetryReason.None, 0, 0);

    /// <summary>A remote store that brings no policy of its own: broken reads are read again, twice.</summary>
    public static SourceRetry Remote { get; } = new();

    public Func<Exception, RetryReason> Classify { get; }

    /// <summary>How many times a transient failure is retried (for messages: "tried N times").</summary>
    public int TransientRetries { get; }

    public async Task<T> ExecuteAsync<T>(Func<CancellationToken, Task<T>> action, CancellationToken cancellationToken) =>
        await pipeline.ExecuteAsync(async ct => await action(ct), cancellationToken);

    /// <summary>A stream that broke off or an HTTP failure: the same read made again may succeed.</summary>
    public static RetryReason ClassifyStreamFailure(Exception e) =>
        e is IOException or HttpRequestException && e is not FileNotFoundException and not DirectoryNotFoundException ? RetryReason.Transient : RetryReason.None;
}

using System.Net;
using System.Net.Sockets;
using System.Text;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using AuditInfra.Cli.Integrity;
using AuditInfra.Core.Integrity;
using Moq;

namespace AuditInfra.Cli.Tests.Integrity;

/// <summary>
/// The S3 state object under the shared retry policy: transient failures of its GET and conditional PUT are retried,
/// a missing state and a refused condition are not, and a PUT applied whose answer was lost is recognised as this
/// run's own write rather than reported as another run's.
/// </summary>
public sealed class S3StateRetryTests
{
    private const string Url = "s3://state-bucket/monitor/verify.json";

    private static readonly VerifyState Empty = new("s3://source/", new Dictionary<string, ChainCheckpoint>());

    public static TheoryData<string> TransientFaults => ["SlowDown", "InternalError", "ServiceUnavailable", "connection-reset", "timeout"];

    private static Exception Fault(string kind) => kind switch
    {
        "SlowDown" => new AmazonS3Exception("Please reduce your request rate.", ErrorType.Receiver, "SlowDown", "req", HttpStatusCode.ServiceUnavailable),
        "InternalError" => new AmazonS3Exception("We encountered an internal error.", ErrorType.Receiver, "InternalError", "req", HttpStatusCode.InternalServerError),
        "ServiceUnavailable" => new AmazonS3Exception("Service Unavailable", ErrorType.Receiver, null, "req", HttpStatusCode.ServiceUnavailable),
        "connection-reset" => new HttpRequestException("Connection reset by peer", new SocketException((int)SocketError.ConnectionReset)),
        "timeout" => new TaskCanceledException("The request was canceled due to the configured timeout", new TimeoutException()),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    [Theory]
    [MemberData(nameof(TransientFaults))]
    public async Task A_transient_failure_of_the_state_read_is_retried(string fault)
    {
        var bucket = new StateBucket();
        bucket.Store(Empty.ToJson(), "other");
        bucket.GetFault = attempt => attempt == 1 ? Fault(fault) : null;
        using var store = bucket.Store();

        var (state, version) = await store.LoadAsync(CancellationToken.None);

        Assert.Equal(Empty.Source, state!.Source);
        Assert.Equal(bucket.ETag, version);
        Assert.Equal(2, bucket.Gets);
    }

    [Fact]
    public async Task A_missing_state_is_read_once_not_retried()
    {
        var bucket = new StateBucket();
        using var store = bucket.Store();

        Assert.Equal((null, null), await store.LoadAsync(CancellationToken.None));
        Assert.Equal(1, bucket.Gets);
    }

    [Fact]
    public async Task Access_denied_on_the_state_is_one_line_and_not_retried()
    {
        var bucket = new StateBucket { GetFault = _ => new AmazonS3Exception("Access Denied", ErrorType.Sender, "AccessDenied", "req", HttpStatusCode.Forbidden) };
        using var store = bucket.Store();

        var error = await Assert.ThrowsAsync<IntegrityInputException>(() => store.LoadAsync(CancellationToken.None));

        Assert.Equal(1, bucket.Gets);
        Assert.Contains(Url, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Theory]
    [InlineData("SlowDown", 1 + SourceRetry.DefaultThrottleRetries)]
    [InlineData("connection-reset", 1 + SourceRetry.DefaultTransientRetries)]
    [InlineData("timeout", 1 + SourceRetry.DefaultTransientRetries)]
    public async Task A_state_read_that_keeps_failing_ends_in_one_line_naming_the_state(string fault, int attempts)
    {
        var bucket = new StateBucket { GetFault = _ => Fault(fault) };
        using var store = bucket.Store();

        var error = await Assert.ThrowsAsync<IntegrityInputException>(() => store.LoadAsync(CancellationToken.None));

        Assert.Equal(attempts, bucket.Gets);
        Assert.StartsWith($"--state {Url}: cannot read it", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Theory]
    [MemberData(nameof(TransientFaults))]
    public async Task A_transient_failure_of_the_conditional_write_is_retried(string fault)
    {
        var bucket = new StateBucket();
        bucket.Store(Empty.ToJson(), "other");
        var read = bucket.ETag;
        bucket.BeforePut = attempt => attempt == 1 ? Fault(fault) : null;
        using var store = bucket.Store();

        var written = await store.SaveAsync(Empty with { Source = "s3://mine/" }, read, CancellationToken.None);

        Assert.Equal(2, bucket.Puts);
        Assert.Equal(bucket.ETag, written);
        Assert.Equal("s3://mine/", VerifyState.Parse(bucket.Text!).Source);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_refused_condition_is_a_conflict_at_once_not_retried(bool stateExisted)
    {
        var bucket = new StateBucket();
        string? read = null;
        if (stateExisted)
        {
            bucket.Store(Empty.ToJson(), "first");
            read = bucket.ETag;
        }

        bucket.Store((Empty with { Source = "s3://other/" }).ToJson(), "other");
        using var store = bucket.Store();

        await Assert.ThrowsAsync<StateConflictException>(() => store.SaveAsync(Empty, read, CancellationToken.None));

        Assert.Equal(1, bucket.Puts);
        Assert.Equal("s3://other/", VerifyState.Parse(bucket.Text!).Source);
    }

    [Theory]
    [InlineData(false, "connection-reset")]
    [InlineData(true, "connection-reset")]
    [InlineData(true, "timeout")]
    [InlineData(true, "InternalError")]
    public async Task A_write_applied_whose_answer_was_lost_is_this_runs_own_not_a_conflict(bool stateExisted, string fault)
    {
        var bucket = new StateBucket();
        string? read = null;
        if (stateExisted)
        {
            bucket.Store(Empty.ToJson(), "other");
            read = bucket.ETag;
        }

        // S3 applied the first PUT, then the answer never arrived: the retry meets 412 against that very write.
        bucket.AfterPut = attempt => attempt == 1 ? Fault(fault) : null;
        using var store = bucket.Store();

        var written = await store.SaveAsync(Empty with { Source = "s3://mine/" }, read, CancellationToken.None);

        Assert.Equal(2, bucket.Puts);
        Assert.Equal(bucket.ETag, written);
        Assert.Equal("s3://mine/", VerifyState.Parse(bucket.Text!).Source);
        // The version returned is the real one: the next conditional write from it succeeds.
        bucket.AfterPut = _ => null;
        await store.SaveAsync(Empty with { Source = "s3://mine/next/" }, written, CancellationToken.None);
        Assert.Equal("s3://mine/next/", VerifyState.Parse(bucket.Text!).Source);
    }

    [Fact]
    public async Task A_write_resent_by_the_http_client_itself_meets_its_own_write_and_is_not_a_conflict()
    {
        var bucket = new StateBucket();
        bucket.Store(Empty.ToJson(), "other");
        var read = bucket.ETag;
        // The transport resends a request whose kept-alive connection failed before any answer: one SDK call, two PUTs.
        bucket.ResendOnce = true;
        using var store = bucket.Store();

        var written = await store.SaveAsync(Empty with { Source = "s3://mine/" }, read, CancellationToken.None);

        Assert.Equal(1, bucket.Puts);
        Assert.Equal(bucket.ETag, written);
        Assert.Equal("s3://mine/", VerifyState.Parse(bucket.Text!).Source);
    }

    [Fact]
    public async Task A_failed_write_whose_retry_finds_another_runs_write_is_still_a_conflict()
    {
        var bucket = new StateBucket();
        bucket.Store(Empty.ToJson(), "first");
        var read = bucket.ETag;
        // The first attempt is not applied; before the retry another run writes the state.
        bucket.BeforePut = attempt =>
        {
            if (attempt != 1)
            {
                return null;
            }

            bucket.Store((Empty with { Source = "s3://other/" }).ToJson(), "other");
            return Fault("SlowDown");
        };
        using var store = bucket.Store();

        await Assert.ThrowsAsync<StateConflictException>(() => store.SaveAsync(Empty with { Source = "s3://mine/" }, read, CancellationToken.None));

        Assert.Equal(2, bucket.Puts);
        Assert.Equal("s3://other/", VerifyState.Parse(bucket.Text!).Source);
    }

    /// <summary>One state object behind a mocked client that checks If-Match / If-None-Match as S3 does, with faults injected per attempt.</summary>
    private sealed class StateBucket
    {
        private readonly Mock<IAmazonS3> client = new(MockBehavior.Strict);
        private int versions;

        public StateBucket()
        {
            client.Setup(c => c.GetObjectAsync(It.IsAny<GetObjectRequest>(), It.IsAny<CancellationToken>())).Returns<GetObjectRequest, CancellationToken>((_, _) => Task.FromResult(Get()));
            client.Setup(c => c.PutObjectAsync(It.IsAny<PutObjectRequest>(), It.IsAny<CancellationToken>())).Returns<PutObjectRequest, CancellationToken>((request, _) => Task.FromResult(Put(request)));
            client.Setup(c => c.Dispose());
        }

        public string? Text { get; private set; }

        public string? ETag { get; private set; }

        public string? Writer { get; private set; }

        public int Gets { get; private set; }

        public int Puts { get; private set; }

        public Func<int, Exception?> GetFault { get; set; } = _ => null;

        /// <summary>A failure of PUT attempt n before S3 applies it.</summary>
        public Func<int, Exception?> BeforePut { get; set; } = _ => null;

        /// <summary>A failure of PUT attempt n after S3 applied it (its answer lost).</summary>
        public Func<int, Exception?> AfterPut { get; set; } = _ => null;

        /// <summary>The first PUT is applied, then sent again below the SDK (its answer is that of the second sending).</summary>
        public bool ResendOnce { get; set; }

        public S3StateStore Store() => new(client.Object, "state-bucket", "monitor/verify.json", Url, retryDelay: TimeSpan.FromMilliseconds(1));

        public void Store(string text, string writer)
        {
            Text = text;
            Writer = writer;
            ETag = $"\"etag-{++versions}\"";
        }

        private GetObjectResponse Get()
        {
            Gets++;
            if (GetFault(Gets) is { } fault)
            {
                throw fault;
            }

            if (Text is null)
            {
                throw new AmazonS3Exception("The specified key does not exist.", ErrorType.Sender, "NoSuchKey", "req", HttpStatusCode.NotFound);
            }

            var bytes = Encoding.UTF8.GetBytes(Text);
            var response = new GetObjectResponse { ResponseStream = new MemoryStream(bytes), ETag = ETag, ContentLength = bytes.Length };
            response.Metadata.Add(S3StateStore.WriterMetadata, Writer);
            return response;
        }

        private PutObjectResponse Put(PutObjectRequest request)
        {
            Puts++;
            if (BeforePut(Puts) is { } before)
            {
                throw before;
            }

            if ((request.IfNoneMatch == "*" && Text is not null) || (request.IfMatch is not null && request.IfMatch != ETag))
            {
                throw new AmazonS3Exception("At least one of the pre-conditions you specified did not hold", ErrorType.Sender, "PreconditionFailed", "req", HttpStatusCode.PreconditionFailed);
            }

            Store(request.ContentBody, request.Metadata[S3StateStore.WriterMetadata]);
            if (ResendOnce)
            {
                ResendOnce = false;
                Puts--;
                return Put(request);
            }

            if (AfterPut(Puts) is { } after)
            {
                throw after;
            }

            return new PutObjectResponse { ETag = ETag };
        }
    }
}

using System.CommandLine;
using AuditInfra.Cli.Tests.Support;

namespace AuditInfra.Cli.Tests;

/// <summary>Ctrl+C used to let an OperationCanceledException escape the top-level handler with its trace.</summary>
public class CancellationTests
{
    private static async Task<CliResult> Run(Func<CancellationToken, Task<int>> action, CancellationToken cancellationToken)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var io = CliIo.Capture(output, error);
        var root = CliApp.BuildRoot(io);
        var command = new Command("work", "runs until told otherwise");
        command.SetAction((_, token) => action(token));
        root.Subcommands.Add(command);
        var code = await CliApp.RunAsync(root, ["work"], io, cancellationToken);
        return new CliResult(code, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task A_cancelled_command_ends_with_one_line_and_exit_130()
    {
        using var cancellation = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        var result = await Run(async token =>
        {
            await Task.Delay(Timeout.Infinite, token);
            return 0;
        }, cancellation.Token).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(130, result.ExitCode);
        Assert.Equal("auditinfra: cancelled", Assert.Single(InputAssert.Lines(result.Err)));
    }

    [Fact]
    public async Task An_operation_canceled_exception_without_cancellation_is_an_internal_error_exit_2()
    {
        // A timeout inside a command (an HTTP client's) is a failure, not the user's Ctrl+C.
        var result = await Run(_ => throw new TaskCanceledException("the request timed out"), CancellationToken.None);

        Assert.Equal(2, result.ExitCode);
        Assert.Equal("auditinfra: internal error: TaskCanceledException: the request timed out", Assert.Single(InputAssert.Lines(result.Err)));
    }

    [Fact]
    public async Task A_command_that_ignores_cancellation_still_ends_as_cancelled_after_the_grace()
    {
        using var cancellation = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        var watch = System.Diagnostics.Stopwatch.StartNew();

        var result = await Run(_ =>
        {
            Thread.Sleep(TimeSpan.FromSeconds(30));
            return Task.FromResult(0);
        }, cancellation.Token).WaitAsync(TimeSpan.FromSeconds(25));

        Assert.Equal(130, result.ExitCode);
        Assert.Equal("auditinfra: cancelled", Assert.Single(InputAssert.Lines(result.Err)));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(15), $"took {watch.Elapsed}");
    }

    [Fact]
    public async Task Ctrl_c_interrupts_a_running_duckdb_query()
    {
        var corpus = CliRunner.TempDir();
        var dir = Path.Combine(corpus, "AWSLogs", "333333333333", "CloudTrail", "us-east-1", "2026", "11", "20");
        Directory.CreateDirectory(dir);
        using (var gz = new System.IO.Compression.GZipStream(File.Create(Path.Combine(dir, "333333333333_CloudTrail_us-east-1_20261120T1000Z_a1b2c3d4e5f6g7h8.json.gz")), System.IO.Compression.CompressionLevel.Fastest))
        {
            gz.Write("""{"Records":[{"eventTime":"2026-11-20T09:00:00Z","eventName":"GetObject","recipientAccountId":"333333333333"}]}"""u8);
        }

        using var output = new StringWriter();
        using var error = new StringWriter();
        using var cancellation = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        string[] args = ["query", "--source", corpus, "--account", "333333333333", "--start", "2026-11-20", "--sql", "SELECT sum(hash(i)) FROM range(1000000000000) t(i)"];
        var code = await CliApp.RunAsync(args, CliIo.Capture(output, error), cancellation.Token).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(130, code);
        Assert.Equal("auditinfra: cancelled", Assert.Single(InputAssert.Lines(error.ToString())));
    }
}

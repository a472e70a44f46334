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
}

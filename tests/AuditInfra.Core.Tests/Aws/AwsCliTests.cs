using System.Diagnostics;
using AuditInfra.Core.Aws;

namespace AuditInfra.Core.Tests.Aws;

/// <summary>The AWS CLI runner against scripts standing in for `aws`: what it passes, and every bound it keeps.</summary>
public class AwsCliTests
{
    private static string FakeAws(string body)
    {
        var folder = Path.Combine(Path.GetTempPath(), "auditinfra-awscli-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        var script = Path.Combine(folder, "aws");
        File.WriteAllText(script, "#!/bin/sh\n" + body + "\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        return script;
    }

    [SkippableFact]
    public async Task Arguments_output_json_profile_region_endpoint_and_environment_are_passed()
    {
        Skip.If(OperatingSystem.IsWindows(), "the stand-in is a shell script");
        var aws = FakeAws("""printf '%s|' "$@"; printf 'PAGER=%s EXTRA=%s KEY=%s' "${AWS_PAGER-unset}" "$EXTRA" "${AWS_ACCESS_KEY_ID-unset}" """);
        var cli = new AwsCli
        {
            Executable = aws,
            Profile = "audit",
            Region = "eu-west-1",
            EndpointUrl = "http://127.0.0.1:1234",
            Environment = new Dictionary<string, string?> { ["EXTRA"] = "yes", ["AWS_ACCESS_KEY_ID"] = null },
        };
        var printed = await cli.RunAsync(["athena", "get-query-execution", "--query-execution-id", "a b"], CancellationToken.None);
        Assert.Equal("athena|get-query-execution|--query-execution-id|a b|--output|json|--profile|audit|--region|eu-west-1|--endpoint-url|http://127.0.0.1:1234|PAGER= EXTRA=yes KEY=unset", printed);
    }

    [SkippableFact]
    public async Task A_failure_is_one_line_with_the_call_the_exit_code_and_what_the_cli_said()
    {
        Skip.If(OperatingSystem.IsWindows(), "the stand-in is a shell script");
        var aws = FakeAws("echo >&2; echo 'An error occurred (AccessDeniedException) when calling the ListPublicKeys operation:' >&2; echo '  not allowed' >&2; exit 254");
        var error = await Assert.ThrowsAsync<AwsCliException>(() => new AwsCli { Executable = aws }.RunAsync(["cloudtrail", "list-public-keys"], CancellationToken.None));
        Assert.Equal($"'{aws} cloudtrail list-public-keys' failed (exit 254): An error occurred (AccessDeniedException) when calling the ListPublicKeys operation: not allowed", error.Message);
    }

    [Fact]
    public async Task A_missing_cli_says_so_and_how_to_install_it()
    {
        var error = await Assert.ThrowsAsync<AwsCliException>(() => new AwsCli { Executable = "/nonexistent/auditinfra/aws" }.RunAsync(["sts", "get-caller-identity"], CancellationToken.None));
        Assert.Contains("could not be run", error.Message, StringComparison.Ordinal);
        Assert.Contains("awscli", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [SkippableFact]
    public async Task Output_past_the_bound_ends_the_process_and_fails_the_call()
    {
        Skip.If(OperatingSystem.IsWindows(), "the stand-in is a shell script");
        // Prints without end: only the bound stops it.
        var aws = FakeAws("yes '{\"padding\": \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}'");
        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<AwsCliException>(() => new AwsCli { Executable = aws, MaximumOutputBytes = 1 << 20 }.RunAsync(["athena", "get-query-results"], CancellationToken.None));
        Assert.Contains("printed more than 1 MiB", error.Message, StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30));
    }

    [SkippableFact]
    public async Task A_call_past_its_timeout_is_ended()
    {
        Skip.If(OperatingSystem.IsWindows(), "the stand-in is a shell script");
        var marker = Path.Combine(Path.GetTempPath(), "auditinfra-awscli-" + Guid.NewGuid().ToString("N"));
        var aws = FakeAws($"sleep 30; touch '{marker}'");
        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<AwsCliException>(() => new AwsCli { Executable = aws, Timeout = TimeSpan.FromMilliseconds(500) }.RunAsync(["athena", "get-query-execution"], CancellationToken.None));
        Assert.Contains("did not finish within", error.Message, StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), clock.Elapsed.ToString());
    }

    [SkippableFact]
    public async Task Cancelling_a_call_ends_the_process_and_is_reported_as_cancelled()
    {
        Skip.If(OperatingSystem.IsWindows(), "the stand-in is a shell script");
        var pidFile = Path.Combine(Path.GetTempPath(), "auditinfra-awscli-" + Guid.NewGuid().ToString("N"));
        var aws = FakeAws($"echo $$ > '{pidFile}'; exec sleep 30");
        using var cancel = new CancellationTokenSource();
        var call = new AwsCli { Executable = aws }.RunAsync(["athena", "get-query-execution"], cancel.Token);
        while (!File.Exists(pidFile) || new FileInfo(pidFile).Length == 0)
        {
            await Task.Delay(20);
        }

        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        var pid = int.Parse(File.ReadAllText(pidFile).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        await Task.Delay(200);
        Assert.False(Directory.Exists($"/proc/{pid}") && !File.ReadAllText($"/proc/{pid}/stat").Contains(") Z ", StringComparison.Ordinal), "the process still runs");
    }
}

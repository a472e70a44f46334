using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using AuditInfra.Cli.Tests.Support;

namespace AuditInfra.Cli.Tests.Integrity;

/// <summary>
/// An S3 endpoint that never answers, or refuses the connection: verify and pull give up within a bound with one
/// line and exit 2, and pull leaves no destination folder behind.
/// </summary>
[Trait("Category", "S3")]
public sealed class S3FaultTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private readonly TcpListener silent = new(IPAddress.Loopback, 0);
    private readonly List<TcpClient> accepted = [];
    private readonly CancellationTokenSource stop = new();

    public S3FaultTests()
    {
        // The CLI resolves credentials before its first request: without them it would fail early and prove nothing.
        Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", S3Server.AccessKey);
        Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", S3Server.SecretKey);
        Environment.SetEnvironmentVariable("AWS_REGION", "us-east-1");
        silent.Start();
        _ = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var client = await silent.AcceptTcpClientAsync(stop.Token);
                lock (accepted)
                {
                    accepted.Add(client);
                }
            }
        });
    }

    private string SilentEndpoint => $"http://127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port}";

    private static string ClosedEndpoint()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return $"http://127.0.0.1:{port}";
    }

    public static TheoryData<string> Commands => ["verify", "pull"];

    [Theory]
    [MemberData(nameof(Commands))]
    public async Task An_endpoint_that_accepts_and_never_answers_ends_the_run_with_one_line_and_exit_two(string command)
    {
        var (result, elapsed, destination) = await RunAsync(command, SilentEndpoint);

        Assert.True(result.ExitCode == 2, $"{result.ExitCode}: {result.Err}");
        Assert.True(elapsed < Bound, $"took {elapsed}");
        Assert.Single(result.Err.Trim().Split('\n'));
        Assert.Contains("did not answer", result.Err, StringComparison.Ordinal);
        Assert.False(Directory.Exists(destination), "pull left an empty destination behind");
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public async Task A_refused_connection_ends_the_run_quickly_with_one_line_and_exit_two(string command)
    {
        var (result, elapsed, destination) = await RunAsync(command, ClosedEndpoint());

        Assert.True(result.ExitCode == 2, $"{result.ExitCode}: {result.Err}");
        Assert.True(elapsed < TimeSpan.FromSeconds(6), $"took {elapsed}");
        Assert.Single(result.Err.Trim().Split('\n'));
        Assert.Contains("refused", result.Err, StringComparison.OrdinalIgnoreCase);
        Assert.False(Directory.Exists(destination), "pull left an empty destination behind");
    }

    [Fact]
    public async Task Verify_checks_the_report_folder_before_it_reads_the_source()
    {
        var clock = Stopwatch.StartNew();
        var run = CliRunner.RunAsync("verify", "--source", "s3://acme-audit-cloudtrail-222222222222-us-east-1", "--endpoint-url", SilentEndpoint, "--report", "/no/such/folder/report.json");
        var finished = await Task.WhenAny(run, Task.Delay(Bound));

        Assert.Same(run, finished);
        var result = await run;
        Assert.Equal(2, result.ExitCode);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"took {clock.Elapsed}: the source was read first");
        Assert.Single(result.Err.Trim().Split('\n'));
        Assert.Contains("--report", result.Err, StringComparison.Ordinal);
        Assert.Contains("does not exist", result.Err, StringComparison.Ordinal);
    }

    private static async Task<(CliResult Result, TimeSpan Elapsed, string Destination)> RunAsync(string command, string endpoint)
    {
        var destination = Path.Combine(CliRunner.TempDir(), "copy");
        var source = "s3://acme-audit-cloudtrail-222222222222-us-east-1/cloudtrail";
        string[] args = command == "pull"
            ? ["pull", source, "--dest", destination, "--endpoint-url", endpoint]
            : ["verify", "--source", source, "--endpoint-url", endpoint];
        var clock = Stopwatch.StartNew();
        var run = CliRunner.RunAsync(args);
        // Bounded here too, so a hang fails the test instead of stalling the suite.
        var finished = await Task.WhenAny(run, Task.Delay(Bound * 2));
        Assert.True(finished == run, $"{command} still running after {Bound * 2}");
        return (await run, clock.Elapsed, destination);
    }

    public void Dispose()
    {
        stop.Cancel();
        silent.Stop();
        lock (accepted)
        {
            accepted.ForEach(c => c.Dispose());
        }

        stop.Dispose();
    }
}

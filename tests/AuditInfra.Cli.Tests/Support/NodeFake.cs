using System.Diagnostics;
using System.Text.Json.Nodes;

namespace AuditInfra.Cli.Tests.Support;

/// <summary>
/// A fake AWS endpoint in node (bench/tools/fake-*.mjs) on loopback, answering the AWS CLI's JSON 1.1 calls,
/// and the requests it received (<c>REQUEST &lt;target&gt; &lt;body&gt;</c> lines). Stopped with the test.
/// </summary>
public sealed class NodeFake : IDisposable
{
    private readonly Process process;
    private readonly List<(string Target, JsonNode Body)> requests = [];
    private readonly List<string> log = [];
    private readonly Task reading;

    public NodeFake(string script, params string[] args)
    {
        var start = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardInput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(S3Server.RepositoryRoot(), "bench", "tools", script));
        foreach (var arg in args.Append("--log-requests"))
        {
            start.ArgumentList.Add(arg);
        }

        process = Process.Start(start)!;
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (log) { log.Add(e.Data); } } };
        process.BeginErrorReadLine();
        var line = process.StandardOutput.ReadLine();
        if (line is null || !line.StartsWith("READY ", StringComparison.Ordinal))
        {
            process.WaitForExit(2000);
            throw new InvalidOperationException($"{script} did not start: {line} {string.Join('\n', log)}");
        }

        Endpoint = line.Split(' ')[1];
        reading = Task.Run(async () =>
        {
            while (await process.StandardOutput.ReadLineAsync() is { } request)
            {
                if (request.StartsWith("REQUEST ", StringComparison.Ordinal))
                {
                    var parts = request.Split(' ', 3);
                    lock (requests)
                    {
                        requests.Add((parts[1], JsonNode.Parse(parts[2])!));
                    }
                }
            }
        });
    }

    public string Endpoint { get; }

    /// <summary>The calls received so far, by operation name (the part of X-Amz-Target after the last dot).</summary>
    public IReadOnlyList<(string Operation, JsonNode Body)> Requests
    {
        get
        {
            lock (requests)
            {
                return [.. requests.Select(r => (r.Target[(r.Target.LastIndexOf('.') + 1)..], r.Body))];
            }
        }
    }

    /// <summary>
    /// Skips the test where the AWS CLI or node is missing, except in CI (CI=true), which installs both
    /// (.ci/run) and must run it. Gives the CLI fixed credentials and region: the fakes check no signature.
    /// </summary>
    public static void RequireAwsCli()
    {
        var missing = new[] { "aws", "node" }.Where(tool => !OnPath(tool)).ToList();
        if (missing.Count > 0)
        {
            var reason = $"{string.Join(" and ", missing)} not on the PATH: the AWS CLI tests need them (apt-get install awscli nodejs)";
            if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
            {
                Assert.Fail(reason + " (CI must run them)");
            }

            Skip.If(true, reason);
        }

        // The same values S3Server sets, so tests running side by side never see others.
        Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", S3Server.AccessKey);
        Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", S3Server.SecretKey);
        Environment.SetEnvironmentVariable("AWS_REGION", "us-east-1");
        Environment.SetEnvironmentVariable("AWS_DEFAULT_REGION", "us-east-1");
        Environment.SetEnvironmentVariable("AWS_EC2_METADATA_DISABLED", "true");
    }

    private static bool OnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Any(dir => File.Exists(Path.Combine(dir, tool)));

    public void Dispose()
    {
        try
        {
            process.StandardInput.Close();
            if (!process.WaitForExit(5000))
            {
                process.Kill(entireProcessTree: true);
            }

            reading.Wait(5000);
        }
        finally
        {
            process.Dispose();
        }
    }
}

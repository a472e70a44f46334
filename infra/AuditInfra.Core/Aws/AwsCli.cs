using System.ComponentModel;
using System.Diagnostics;
using System.Text;

namespace AuditInfra.Core.Aws;

/// <summary>An AWS CLI call that could not be made or failed; its message is one line naming the call.</summary>
public sealed class AwsCliException(string message) : InvalidOperationException(message);

/// <summary>
/// Runs the AWS CLI as a subprocess, with the caller's credentials and configuration, for the few AWS
/// APIs whose SDK packages are not available to this build (Organizations, CloudTrail, Athena).
/// Every call is bounded: its output in size, its run in time; cancelling it ends the process.
/// </summary>
public sealed record AwsCli
{
    /// <summary>What the CLI may print on standard error that is kept for the message; the rest is read and dropped.</summary>
    private const int ErrorBytesKept = 16 << 10;

    /// <summary>The executable: <c>aws</c> on the PATH, or a path.</summary>
    public string Executable { get; init; } = "aws";

    public string? Profile { get; init; }

    public string? Region { get; init; }

    /// <summary>Another endpoint for the service (a fake in tests, a VPC endpoint), as the CLI's <c>--endpoint-url</c>.</summary>
    public string? EndpointUrl { get; init; }

    /// <summary>How long one call may run before the process is ended.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>The most a call may print: more ends the process and fails the call.</summary>
    public int MaximumOutputBytes { get; init; } = 64 << 20;

    /// <summary>Variables set (or, when null, removed) in the process's environment.</summary>
    public IReadOnlyDictionary<string, string?> Environment { get; init; } = new Dictionary<string, string?>();

    /// <summary>Runs <c>aws ARGUMENTS --output json</c> and returns what it printed.</summary>
    /// <exception cref="AwsCliException">The CLI is missing, failed, printed too much or ran too long.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled (the process is ended).</exception>
    public async Task<string> RunAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var call = $"{Executable} {string.Join(' ', arguments.Take(2))}";
        var start = new ProcessStartInfo(Executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments.Concat(["--output", "json"]))
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (option, value) in new[] { ("--profile", Profile), ("--region", Region), ("--endpoint-url", EndpointUrl) })
        {
            if (value is not null)
            {
                start.ArgumentList.Add(option);
                start.ArgumentList.Add(value);
            }
        }

        // CLI v2 would otherwise page its output through `less`, waiting for a key.
        start.Environment["AWS_PAGER"] = "";
        foreach (var (name, value) in Environment)
        {
            if (value is null)
            {
                start.Environment.Remove(name);
            }
            else
            {
                start.Environment[name] = value;
            }
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new AwsCliException($"could not start '{Executable}'");
        }
        catch (Win32Exception e)
        {
            throw new AwsCliException($"the AWS CLI ('{Executable}') could not be run: {Messages.Flatten(e.Message)}; install it (e.g. apt-get install awscli, or https://aws.amazon.com/cli/) and put it on the PATH");
        }

        using (process)
        {
            // Nothing is ever typed: a prompt (MFA code, SSO) gets end of input rather than waiting for ever.
            process.StandardInput.Close();
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            limit.CancelAfter(Timeout);
            var output = ReadBoundedAsync(process.StandardOutput.BaseStream, MaximumOutputBytes, limit.Token);
            var error = ReadBoundedAsync(process.StandardError.BaseStream, ErrorBytesKept, limit.Token, dropTheRest: true);
            try
            {
                var printed = await output;
                if (printed is null)
                {
                    End(process);
                    throw new AwsCliException($"'{call}' printed more than {MaximumOutputBytes / (1 << 20)} MiB; narrow the request");
                }

                var complaint = await error;
                await process.WaitForExitAsync(limit.Token);
                if (process.ExitCode != 0)
                {
                    var reason = Messages.OneLine(Messages.Flatten(Encoding.UTF8.GetString(complaint ?? [])), 600);
                    throw new AwsCliException($"'{call}' failed (exit {process.ExitCode}): {(reason.Length > 0 ? reason : "no message")}");
                }

                return Encoding.UTF8.GetString(printed);
            }
            catch (OperationCanceledException)
            {
                End(process);
                cancellationToken.ThrowIfCancellationRequested();
                throw new AwsCliException($"'{call}' did not finish within {Timeout.TotalSeconds:0} s");
            }
        }
    }

    private static void End(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // It ended on its own meanwhile.
        }
    }

    /// <summary>The stream's bytes up to <paramref name="limit"/>; past it null, or with <paramref name="dropTheRest"/> the first bytes with the rest read and dropped.</summary>
    private static async Task<byte[]?> ReadBoundedAsync(Stream stream, int limit, CancellationToken cancellationToken, bool dropTheRest = false)
    {
        using var kept = new MemoryStream();
        var buffer = new byte[81920];
        int read;
        while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
        {
            var room = limit - (int)kept.Length;
            if (read > room && !dropTheRest)
            {
                return null;
            }

            kept.Write(buffer, 0, Math.Min(read, Math.Max(room, 0)));
        }

        return kept.ToArray();
    }
}

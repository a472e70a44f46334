using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Pulumi.Automation.Commands;
using Pulumi.Automation.Commands.Exceptions;
using Pulumi.Automation.Events;
using Semver;

namespace AuditInfra.Automation.Rollout;

/// <summary>
/// The Pulumi CLI as the Automation API runs it, with cancellation made graceful. Pulumi.Automation
/// hands its token to CliWrap, which kills the <c>pulumi</c> process outright: a killed update
/// leaves the stack locked with pending operations. Here the token instead sends SIGINT, which the
/// CLI answers like Ctrl+C (finish in-flight steps, write the checkpoint, release the lock); only a
/// process still running after the grace period is killed.
/// </summary>
internal sealed class GracefulPulumiCommand(PulumiCommand inner, TimeSpan gracePeriod, ILogger logger) : PulumiCommand
{
    private const int SigInt = 2;

    public override SemVersion? Version => inner.Version;

    public override Task<CommandResult> RunAsync(
        IList<string> args,
        string workingDir,
        IDictionary<string, string?> additionalEnv,
        Action<string>? onStandardOutput = null,
        Action<string>? onStandardError = null,
        Action<EngineEvent>? onEngineEvent = null,
        CancellationToken cancellationToken = default) =>
        RunInputAsync(args, workingDir, additionalEnv, onStandardOutput, onStandardError, null, onEngineEvent, cancellationToken);

    public override async Task<CommandResult> RunInputAsync(
        IList<string> args,
        string workingDir,
        IDictionary<string, string?> additionalEnv,
        Action<string>? onStandardOutput = null,
        Action<string>? onStandardError = null,
        string? stdIn = null,
        Action<EngineEvent>? onEngineEvent = null,
        CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using var kill = new CancellationTokenSource();
        using var finished = new CancellationTokenSource();
        using var interrupt = cancellationToken.Register(() => _ = InterruptAsync(workingDir, kill, finished.Token));
        try
        {
            return await inner.RunInputAsync(WithCliFlagNames(args), workingDir, additionalEnv, onStandardOutput, onStandardError, stdIn, onEngineEvent, kill.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (cancellationToken.IsCancellationRequested && e is CommandException or OperationCanceledException)
        {
            // The CLI stopped because we asked it to: that is a cancellation, not a failed update.
            throw new OperationCanceledException($"pulumi {args.FirstOrDefault()} was cancelled", e, cancellationToken);
        }
        finally
        {
            await finished.CancelAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Pulumi.Automation 3.112.1 passes <c>UpdateOptions.PolicyPackConfigs</c> as
    /// <c>--policy-pack-configs</c>; the CLI's flag is <c>--policy-pack-config</c> and it rejects
    /// the plural as an unknown flag.
    /// </summary>
    internal static IList<string> WithCliFlagNames(IList<string> args) =>
        args.Contains("--policy-pack-configs") ? [.. args.Select(a => a == "--policy-pack-configs" ? "--policy-pack-config" : a)] : args;

    /// <summary>
    /// Signals the CLI process (and keeps looking for it until the grace period ends, as the
    /// cancellation can come before the process has started); then lets the kill token fire.
    /// </summary>
    private async Task InterruptAsync(string workingDir, CancellationTokenSource kill, CancellationToken finished)
    {
        try
        {
            kill.CancelAfter(gracePeriod);
            var signalled = new HashSet<int>();
            while (!finished.IsCancellationRequested && !kill.IsCancellationRequested)
            {
                foreach (var pid in ChildProcessesIn(workingDir).Where(signalled.Add))
                {
                    logger.LogInformation("Cancelling pulumi (pid {Pid}) in {WorkDir} with SIGINT; it is killed after {Grace}", pid, workingDir, gracePeriod);
                    _ = SendSignal(pid, SigInt);
                }

                await Task.Delay(100, finished).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>
    /// Our own child processes whose working folder is <paramref name="workingDir"/>: the CLI run
    /// for this workspace (each stack operation has its own folder). Linux only (/proc); elsewhere
    /// nothing is signalled and the process is killed after the grace period.
    /// </summary>
    internal static IReadOnlyList<int> ChildProcessesIn(string workingDir)
    {
        var found = new List<int>();
        if (!OperatingSystem.IsLinux())
        {
            return found;
        }

        var self = Environment.ProcessId;
        var wanted = Path.TrimEndingDirectorySeparator(Path.GetFullPath(workingDir));
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }

            try
            {
                // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so read after the last ')'.
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (fields.Length < 2 || !int.TryParse(fields[1], out var parent) || parent != self)
                {
                    continue;
                }

                var cwd = new DirectoryInfo(Path.Combine(dir, "cwd")).LinkTarget;
                if (cwd is not null && Path.TrimEndingDirectorySeparator(cwd) == wanted)
                {
                    found.Add(pid);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentOutOfRangeException)
            {
                // The process ended while we looked at it.
            }
        }

        return found;
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);
}

using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using AuditInfra.Core.Rollout;
using AuditInfra.Rollout.Engine;
using Microsoft.Extensions.Logging;
using Pulumi.Automation;
using Pulumi.Automation.Commands;
using Pulumi.Automation.Commands.Exceptions;
using Pulumi.Automation.Events;

namespace AuditInfra.Automation.Rollout;

/// <summary>Where and how the host runs Pulumi.</summary>
public sealed record PulumiDeployerOptions
{
    public string ProjectName { get; init; } = "auditinfra-account";

    /// <summary>The state backend (e.g. s3://bucket/prefix); null uses PULUMI_BACKEND_URL or the user's login.</summary>
    public string? BackendUrl { get; init; }

    /// <summary>Where workspaces live; null uses a temp folder per operation.</summary>
    public string? WorkDir { get; init; }

    /// <summary>
    /// The secrets provider new stacks are created with (<c>awskms://alias/name?region=us-east-1</c>,
    /// <c>passphrase</c>, ...); null leaves the backend's default (passphrase for DIY backends).
    /// </summary>
    public string? SecretsProvider { get; init; }

    /// <summary>CrossGuard policy pack folders applied to every update and preview.</summary>
    public IReadOnlyList<string> PolicyPacks { get; init; } = [];

    /// <summary>Policy config JSON files, one per entry of <see cref="PolicyPacks"/> in the same order.</summary>
    public IReadOnlyList<string> PolicyPackConfigs { get; init; } = [];

    /// <summary>A stack lock older than this (the ledger's lease) is left over by a dead process: cancelled, refreshed, retried.</summary>
    public TimeSpan StaleLockAfter { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>How long a cancelled (SIGINT) pulumi process may take to wind down before it is killed.</summary>
    public TimeSpan CancelGracePeriod { get; init; } = TimeSpan.FromSeconds(45);

    public IReadOnlyDictionary<string, string> EnvironmentVariables { get; init; } = ImmutableDictionary<string, string>.Empty;
}

/// <summary>
/// The stack deployer over the Pulumi Automation API: create or select <c>account-&lt;id&gt;</c>
/// with the inline <see cref="AccountBaselineProgram"/>, set its configuration, then <c>up</c>
/// under the policy packs; <c>preview</c> without writing to the backend; <c>refresh</c> to detect
/// drift. Pulumi's own stack lock is the last line of defence: a locked stack surfaces as a
/// concurrent update, which the engine retries, unless the lock is older than the lease (a dead
/// process's): then it is cancelled, the stack refreshed and the operation retried once.
/// </summary>
public sealed partial class PulumiStackDeployer(PulumiDeployerOptions options, ILogger<PulumiStackDeployer> logger, TimeProvider? timeProvider = null) : IStackDeployer
{
    private readonly TimeProvider _time = timeProvider ?? TimeProvider.System;

    /// <summary>When this host first saw each stack locked, for backends whose lock message carries no time.</summary>
    private readonly ConcurrentDictionary<string, DateTimeOffset> _lockedSince = new();

    public async Task<DeploymentResult> DeployAsync(DeploymentRequest request, CancellationToken cancellationToken)
    {
        var policy = new PolicyFindings();
        try
        {
            using var stack = await OpenAsync(request, createIfMissing: true, cancellationToken);
            await stack.SetAllConfigAsync(StackConfig(request), cancellationToken);
            var up = new UpOptions
            {
                Message = $"auditinfra rollout {request.Version}",
                OnStandardOutput = line => logger.LogDebug("{Stack}: {Line}", request.StackName, line),
                OnEvent = policy.Record,
            };
            ApplyPolicyPacks(up, null);
            var result = await WithStaleLockRecoveryAsync(stack, () => stack.UpAsync(up, cancellationToken), cancellationToken);
            var changes = result.Summary?.ResourceChanges?.ToDictionary(c => c.Key.ToString(), c => c.Value) ?? [];
            return new DeploymentResult(Describe(changes), changes);
        }
        catch (CommandException e) when (policy.AnyMandatory)
        {
            throw new DeploymentException($"mandatory policy violations: {string.Join("; ", policy.Violations)}", DeploymentFailureKind.Permanent, e);
        }
        catch (Exception e) when (Translate(e) is { } translated)
        {
            throw translated;
        }
    }

    /// <summary>
    /// A preview leaves no trace: it never creates a stack nor writes configuration. An existing
    /// stack is previewed from a throwaway workspace with its configuration in a temporary
    /// <c>--config-file</c>; an account without a stack is previewed in a throwaway local backend
    /// (passphrase secrets), all deleted afterwards. Failures other than mandatory policy
    /// violations are errors classified as for <c>up</c>.
    /// </summary>
    public async Task<Core.Rollout.PreviewResult> PreviewAsync(DeploymentRequest request, string? policyPackDirectory, CancellationToken cancellationToken)
    {
        var scratch = Directory.CreateTempSubdirectory("auditinfra-preview-");
        var policy = new PolicyFindings();
        var preview = new PreviewOptions
        {
            OnStandardOutput = line => logger.LogDebug("{Stack} (preview): {Line}", request.StackName, line),
            OnEvent = policy.Record,
        };
        ApplyPolicyPacks(preview, policyPackDirectory);
        try
        {
            using var stack = await OpenForPreviewAsync(request, scratch.FullName, preview, cancellationToken);
            var result = await stack.PreviewAsync(preview, cancellationToken);
            return new Core.Rollout.PreviewResult(!policy.AnyMandatory, Describe(result.ChangeSummary.ToDictionary(c => c.Key.ToString(), c => c.Value)), policy.Violations);
        }
        catch (CommandException e) when (policy.AnyMandatory)
        {
            // A mandatory policy violation fails the preview: report it as such, with the violations.
            return new Core.Rollout.PreviewResult(false, DeploymentFailures.Summarize(e.Message), policy.Violations);
        }
        catch (Exception e) when (Translate(e) is { } translated)
        {
            throw translated;
        }
        finally
        {
            DeleteScratch(scratch);
        }
    }

    /// <summary>
    /// Refreshes the stack (state := what exists) and reports drift when the refresh changed or
    /// removed anything: a deleted forwarding rule shows as a delete, an edited one as an update.
    /// A stack that does not exist has drifted by definition (the ledger says it was deployed).
    /// </summary>
    public async Task<RefreshResult> RefreshAsync(DeploymentRequest request, CancellationToken cancellationToken)
    {
        try
        {
            using var stack = await OpenAsync(request, createIfMissing: false, cancellationToken);
            var refresh = new RefreshOptions
            {
                Message = $"auditinfra drift check {request.Version}",
                OnStandardOutput = line => logger.LogDebug("{Stack} (refresh): {Line}", request.StackName, line),
            };
            var result = await WithStaleLockRecoveryAsync(stack, () => stack.RefreshAsync(refresh, cancellationToken), cancellationToken);
            var changes = result.Summary?.ResourceChanges ?? ImmutableDictionary<OperationType, int>.Empty;
            var drift = changes.Where(c => c.Value > 0 && c.Key is not (OperationType.Same or OperationType.Read or OperationType.Refresh)).ToDictionary(c => c.Key.ToString(), c => c.Value);
            return new RefreshResult(drift.Count > 0, drift.Count > 0 ? $"drifted: {Describe(drift)}" : "no drift");
        }
        catch (StackNotFoundException)
        {
            return new RefreshResult(true, $"stack {request.StackName} does not exist in the backend");
        }
        catch (Exception e) when (Translate(e) is { } translated)
        {
            throw translated;
        }
    }

    /// <summary>Pulumi's exceptions as the engine's: a locked stack is a concurrent update.</summary>
    internal static DeploymentException? Translate(Exception e) => e switch
    {
        ConcurrentUpdateException => new DeploymentException(DeploymentFailures.Summarize(e.Message), DeploymentFailureKind.ConcurrentUpdate, e),
        CommandException => new DeploymentException(DeploymentFailures.Summarize(e.Message), DeploymentFailures.Classify(e.GetType().Name, e.Message), e),
        _ => null,
    };

    /// <summary>The inline program; it returns the stack outputs (accountId, forwardingRoleArn, regions).</summary>
    internal static PulumiFn Program(AccountBaselineInputs inputs)
    {
        IDictionary<string, object?> Outputs() => AccountBaselineProgram.Run(inputs);
        return PulumiFn.Create(Outputs);
    }

    /// <summary>
    /// A lock is stale when its newest lock file (DIY backends name each with its creation time) or,
    /// without times, this host's first sight of it is older than the lease: no live operation of
    /// ours holds a stack that long. Then: <c>pulumi cancel</c> (removes the lock), a refresh that
    /// clears the dead update's pending creates, and one more attempt.
    /// </summary>
    private async Task<T> WithStaleLockRecoveryAsync<T>(WorkspaceStack stack, Func<Task<T>> operation, CancellationToken cancellationToken)
    {
        try
        {
            var result = await operation();
            _lockedSince.TryRemove(stack.Name, out _);
            return result;
        }
        catch (ConcurrentUpdateException e) when (LockAge(stack.Name, e.Message) is var age && age > options.StaleLockAfter)
        {
            logger.LogWarning("{Stack}: its lock is {Age} old (lease {Lease}): cancelling it, refreshing, retrying", stack.Name, age, options.StaleLockAfter);
            await stack.CancelAsync(cancellationToken);
            await stack.RefreshAsync(new RefreshOptions
            {
                Message = "auditinfra: refresh after a stale lock",
                ClearPendingCreates = true,
                OnStandardOutput = line => logger.LogDebug("{Stack} (refresh): {Line}", stack.Name, line),
            }, cancellationToken);
            _lockedSince.TryRemove(stack.Name, out _);
            return await operation();
        }
        catch (Exception e) when (e is not ConcurrentUpdateException)
        {
            _lockedSince.TryRemove(stack.Name, out _);
            throw;
        }
    }

    internal TimeSpan LockAge(string stackName, string message)
    {
        var now = _time.GetUtcNow();
        var times = LockTimes().Matches(message)
            .Select(m => DateTimeOffset.TryParse(m.Groups["at"].Value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? at : (DateTimeOffset?)null)
            .OfType<DateTimeOffset>()
            .ToList();
        var since = times.Count > 0 ? times.Max() : _lockedSince.GetOrAdd(stackName, now);
        return now - since;
    }

    /// <summary>DIY backends: "  s3://…/locks/…/&lt;id&gt;.json: created by user@host (pid 42) at 2026-12-04T18:00:00Z".</summary>
    [GeneratedRegex(@"\(pid \d+\) at (?<at>\S+)")]
    private static partial Regex LockTimes();

    private void ApplyPolicyPacks(UpdateOptions update, string? extraPack)
    {
        var packs = options.PolicyPacks.Select(Path.GetFullPath).ToList();
        if (extraPack is not null && !packs.Contains(Path.GetFullPath(extraPack)))
        {
            packs.Add(Path.GetFullPath(extraPack));
        }

        if (packs.Count > 0)
        {
            update.PolicyPacks = packs;
        }

        if (options.PolicyPackConfigs.Count > 0)
        {
            update.PolicyPackConfigs = [.. options.PolicyPackConfigs.Select(Path.GetFullPath)];
        }
    }

    private async Task<WorkspaceStack> OpenAsync(DeploymentRequest request, bool createIfMissing, CancellationToken cancellationToken)
    {
        string? workDir = null;
        if (options.WorkDir is not null)
        {
            workDir = Path.Combine(options.WorkDir, request.StackName);
            Directory.CreateDirectory(workDir);
        }

        var workspace = await CreateWorkspaceAsync(request, workDir, options.BackendUrl, options.SecretsProvider, ImmutableDictionary<string, string?>.Empty, cancellationToken);
        try
        {
            return createIfMissing
                ? await WorkspaceStack.CreateOrSelectAsync(request.StackName, workspace, cancellationToken)
                : await WorkspaceStack.SelectAsync(request.StackName, workspace, cancellationToken);
        }
        catch
        {
            workspace.Dispose();
            throw;
        }
    }

    private async Task<WorkspaceStack> OpenForPreviewAsync(DeploymentRequest request, string scratch, PreviewOptions preview, CancellationToken cancellationToken)
    {
        var real = await CreateWorkspaceAsync(request, Directory.CreateDirectory(Path.Combine(scratch, "workspace")).FullName, options.BackendUrl, options.SecretsProvider, ImmutableDictionary<string, string?>.Empty, cancellationToken);
        try
        {
            var stack = await WorkspaceStack.SelectAsync(request.StackName, real, cancellationToken);
            var configFile = Path.Combine(scratch, $"Pulumi.{request.StackName}.yaml");
            var config = new Dictionary<string, object> { ["config"] = request.Inputs.StackConfig() };
            await File.WriteAllTextAsync(configFile, JsonSerializer.Serialize(config), cancellationToken);
            preview.ConfigFile = configFile;
            return stack;
        }
        catch (StackNotFoundException)
        {
            real.Dispose();
        }
        catch
        {
            real.Dispose();
            throw;
        }

        logger.LogInformation("{Stack} does not exist: previewing it in a throwaway local backend", request.StackName);
        var backend = "file://" + Directory.CreateDirectory(Path.Combine(scratch, "backend")).FullName;
        var throwaway = await CreateWorkspaceAsync(
            request,
            Directory.CreateDirectory(Path.Combine(scratch, "throwaway")).FullName,
            backend,
            "passphrase",
            ImmutableDictionary<string, string?>.Empty.Add("PULUMI_CONFIG_PASSPHRASE", Convert.ToHexString(RandomNumberGenerator.GetBytes(16))),
            cancellationToken);
        try
        {
            var stack = await WorkspaceStack.CreateAsync(request.StackName, throwaway, cancellationToken);
            await stack.SetAllConfigAsync(StackConfig(request), cancellationToken);
            return stack;
        }
        catch
        {
            throwaway.Dispose();
            throw;
        }
    }

    private async Task<LocalWorkspace> CreateWorkspaceAsync(
        DeploymentRequest request, string? workDir, string? backendUrl, string? secretsProvider, IReadOnlyDictionary<string, string?> extraEnvironment, CancellationToken cancellationToken)
    {
        var environment = new Dictionary<string, string?>(options.EnvironmentVariables.Select(kv => new KeyValuePair<string, string?>(kv.Key, kv.Value)));
        if (backendUrl is not null)
        {
            // PULUMI_BACKEND_URL in the host's environment would win over the project's backend.
            environment["PULUMI_BACKEND_URL"] = backendUrl;
        }

        foreach (var (key, value) in extraEnvironment)
        {
            environment[key] = value;
        }

        var skipVersionCheck = environment.ContainsKey(LocalPulumiCommand.SkipVersionCheckVar) || Environment.GetEnvironmentVariable(LocalPulumiCommand.SkipVersionCheckVar) is not null;
        var cli = await LocalPulumiCommand.CreateAsync(new LocalPulumiCommandOptions { SkipVersionCheck = skipVersionCheck }, cancellationToken);
        return await LocalWorkspace.CreateAsync(new LocalWorkspaceOptions
        {
            PulumiCommand = new GracefulPulumiCommand(cli, options.CancelGracePeriod, logger),
            Program = Program(request.Inputs),
            WorkDir = workDir,
            SecretsProvider = secretsProvider,
            EnvironmentVariables = environment,
            ProjectSettings = new ProjectSettings(options.ProjectName, ProjectRuntimeName.Dotnet)
            {
                Description = "AuditInfra account baseline: one stack per member account",
                Backend = backendUrl is null ? null : new ProjectBackend { Url = backendUrl },
            },
        }, cancellationToken);
    }

    private static Dictionary<string, ConfigValue> StackConfig(DeploymentRequest request) =>
        request.Inputs.StackConfig().ToDictionary(kv => kv.Key, kv => new ConfigValue(kv.Value));

    private static string Describe(IReadOnlyDictionary<string, int> changes) =>
        string.Join(", ", changes.Select(c => $"{c.Value} {c.Key.ToLowerInvariant()}"));

    private void DeleteScratch(DirectoryInfo scratch)
    {
        try
        {
            scratch.Delete(recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning("Could not delete the preview's scratch folder {Folder}: {Reason}", scratch.FullName, e.Message);
        }
    }

    /// <summary>Policy events of one operation; a mandatory violation fails it.</summary>
    private sealed class PolicyFindings
    {
        private readonly List<string> _violations = [];

        public bool AnyMandatory { get; private set; }

        public IReadOnlyList<string> Violations
        {
            get
            {
                lock (_violations)
                {
                    return [.. _violations];
                }
            }
        }

        public void Record(EngineEvent e)
        {
            if (e.PolicyEvent is not { } p)
            {
                return;
            }

            lock (_violations)
            {
                _violations.Add($"{p.PolicyPackName}/{p.PolicyName} [{p.EnforcementLevel}] {p.ResourceUrn}: {p.Message}");
                AnyMandatory |= string.Equals(p.EnforcementLevel, "mandatory", StringComparison.OrdinalIgnoreCase);
            }
        }
    }
}

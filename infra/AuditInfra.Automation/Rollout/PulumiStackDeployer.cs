using System.Collections.Immutable;
using AuditInfra.Core.Rollout;
using AuditInfra.Rollout.Engine;
using Microsoft.Extensions.Logging;
using Pulumi.Automation;
using Pulumi.Automation.Commands.Exceptions;

namespace AuditInfra.Automation.Rollout;

/// <summary>Where and how the host runs Pulumi.</summary>
public sealed record PulumiDeployerOptions
{
    public string ProjectName { get; init; } = "auditinfra-account";

    /// <summary>The state backend (e.g. s3://bucket/prefix); null uses PULUMI_BACKEND_URL or the user's login.</summary>
    public string? BackendUrl { get; init; }

    /// <summary>Where workspaces live; null uses a temp folder per operation.</summary>
    public string? WorkDir { get; init; }

    public IReadOnlyDictionary<string, string> EnvironmentVariables { get; init; } = ImmutableDictionary<string, string>.Empty;
}

/// <summary>
/// The stack deployer over the Pulumi Automation API: create or select <c>account-&lt;id&gt;</c>
/// with the inline <see cref="AccountBaselineProgram"/>, set its configuration, then <c>up</c>
/// (or <c>preview</c>, optionally under a policy pack). Pulumi's own stack lock is the last line
/// of defence; a locked stack surfaces as a concurrent update, which the engine retries.
/// </summary>
public sealed class PulumiStackDeployer(PulumiDeployerOptions options, ILogger<PulumiStackDeployer> logger) : IStackDeployer
{
    public async Task<DeploymentResult> DeployAsync(DeploymentRequest request, CancellationToken cancellationToken)
    {
        using var stack = await SelectAsync(request, cancellationToken);
        try
        {
            var result = await stack.UpAsync(new UpOptions
            {
                Message = $"auditinfra rollout {request.Version}",
                OnStandardOutput = line => logger.LogDebug("{Stack}: {Line}", request.StackName, line),
            }, cancellationToken);
            var changes = result.Summary.ResourceChanges?.ToDictionary(c => c.Key.ToString(), c => c.Value) ?? [];
            return new DeploymentResult(string.Join(", ", changes.Select(c => $"{c.Value} {c.Key.ToLowerInvariant()}")), changes);
        }
        catch (Exception e) when (Translate(e) is { } translated)
        {
            throw translated;
        }
    }

    public async Task<Core.Rollout.PreviewResult> PreviewAsync(DeploymentRequest request, string? policyPackDirectory, CancellationToken cancellationToken)
    {
        using var stack = await SelectAsync(request, cancellationToken);
        var violations = new List<string>();
        var preview = new PreviewOptions
        {
            OnEvent = e =>
            {
                if (e.PolicyEvent is { } p)
                {
                    lock (violations)
                    {
                        violations.Add($"{p.PolicyPackName}/{p.PolicyName} [{p.EnforcementLevel}] {p.ResourceUrn}: {p.Message}");
                    }
                }
            },
        };
        if (policyPackDirectory is not null)
        {
            preview.PolicyPacks = [Path.GetFullPath(policyPackDirectory)];
        }

        try
        {
            var result = await stack.PreviewAsync(preview, cancellationToken);
            var changes = string.Join(", ", result.ChangeSummary.Select(c => $"{c.Value} {c.Key.ToString().ToLowerInvariant()}"));
            var mandatory = violations.Any(v => v.Contains("[mandatory]", StringComparison.OrdinalIgnoreCase));
            return new Core.Rollout.PreviewResult(!mandatory, changes, violations);
        }
        catch (CommandException e)
        {
            // A mandatory policy violation fails the preview: report it as such, with the violations.
            return new Core.Rollout.PreviewResult(false, DeploymentFailures.Summarize(e.Message), violations);
        }
    }

    private async Task<WorkspaceStack> SelectAsync(DeploymentRequest request, CancellationToken cancellationToken)
    {
        var inputs = request.Inputs;
        var args = new InlineProgramArgs(options.ProjectName, request.StackName, PulumiFn.Create(() => { AccountBaselineProgram.Run(inputs); }))
        {
            ProjectSettings = new ProjectSettings(options.ProjectName, ProjectRuntimeName.Dotnet)
            {
                Description = "AuditInfra account baseline: one stack per member account",
                Backend = options.BackendUrl is null ? null : new ProjectBackend { Url = options.BackendUrl },
            },
            EnvironmentVariables = new Dictionary<string, string?>(options.EnvironmentVariables.Select(kv => new KeyValuePair<string, string?>(kv.Key, kv.Value))),
        };
        if (options.WorkDir is not null)
        {
            var dir = Path.Combine(options.WorkDir, request.StackName);
            Directory.CreateDirectory(dir);
            args.WorkDir = dir;
        }

        try
        {
            var stack = await LocalWorkspace.CreateOrSelectStackAsync(args, cancellationToken);
            await stack.SetAllConfigAsync(inputs.StackConfig().ToDictionary(kv => kv.Key, kv => new ConfigValue(kv.Value)), cancellationToken);
            return stack;
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
}

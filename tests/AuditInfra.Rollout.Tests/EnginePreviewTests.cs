using AuditInfra.Core.Rollout;
using AuditInfra.Rollout.Engine;
using AuditInfra.Rollout.Tests.Support;
using Moq;

namespace AuditInfra.Rollout.Tests;

/// <summary>Previews judge deployer errors as updates do: wait out locks, retry transient errors, name what remains.</summary>
public class EnginePreviewTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 25, 0, 0, 0, TimeSpan.Zero);
    private static readonly CancellationToken None = CancellationToken.None;
    private static readonly string Account = Fleet.AccountId(1);

    private static async Task<(PreviewResult Result, int Calls)> PreviewWith(params Func<PreviewResult>[] answers)
    {
        await using var temp = await TempLedger.CreateAsync();
        var deployer = new Mock<IStackDeployer>(MockBehavior.Strict);
        var calls = 0;
        deployer.Setup(d => d.PreviewAsync(It.IsAny<DeploymentRequest>(), It.IsAny<string?>(), It.IsAny<CancellationToken>()))
            .Returns(() => Task.FromResult(answers[Math.Min(calls++, answers.Length - 1)]()));
        var engine = new RolloutEngine(temp.Ledger, deployer.Object, Fleet.Directory().Object, new ManualClock(Start), Fleet.Spec(), Fleet.Options(maxAttempts: 3));
        var results = await engine.PreviewAsync([Account], "policy", None);
        return (Assert.Single(results).Result, calls);
    }

    private static Func<PreviewResult> Throws(DeploymentFailureKind kind, string message) => () => throw new DeploymentException(message, kind);

    private static PreviewResult Clean() => new(true, "3 create", []);

    [Fact]
    public async Task A_locked_stack_is_waited_out_not_reported_as_a_failed_preview()
    {
        var (result, calls) = await PreviewWith(Throws(DeploymentFailureKind.ConcurrentUpdate, "the stack is currently locked"), Throws(DeploymentFailureKind.ConcurrentUpdate, "the stack is currently locked"), Clean);
        Assert.True(result.Succeeded, result.Summary);
        Assert.Equal(3, calls);
    }

    [Fact]
    public async Task A_transient_error_is_retried_up_to_the_attempt_limit_then_named_with_its_kind()
    {
        var (result, calls) = await PreviewWith(Throws(DeploymentFailureKind.Transient, "connection reset"));
        Assert.False(result.Succeeded);
        Assert.Equal(3, calls);
        Assert.Equal("preview error: Transient: connection reset", result.Summary);
        Assert.Empty(result.PolicyViolations);
    }

    [Fact]
    public async Task An_auth_error_is_permanent_at_once_and_named_as_an_error_not_a_policy_verdict()
    {
        var (result, calls) = await PreviewWith(Throws(DeploymentFailureKind.Permanent, "AccessDenied: sts:AssumeRole"));
        Assert.False(result.Succeeded);
        Assert.Equal(1, calls);
        Assert.Equal("preview error: Permanent: AccessDenied: sts:AssumeRole", result.Summary);
    }

    [Fact]
    public async Task A_stack_still_locked_after_the_lock_retries_is_named_as_locked()
    {
        var (result, calls) = await PreviewWith(Throws(DeploymentFailureKind.ConcurrentUpdate, "the stack is currently locked"));
        Assert.False(result.Succeeded);
        Assert.Equal(Fleet.Options().LockRetries + 1, calls);
        Assert.StartsWith("preview error: ConcurrentUpdate:", result.Summary, StringComparison.Ordinal);
    }
}

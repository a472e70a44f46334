using System.Collections.Immutable;
using System.Reflection;
using System.Text.Json;
using AuditInfra.Automation.Rollout;
using AuditInfra.Automation.Tests.Support;
using AuditInfra.Core.Rollout;
using Microsoft.Extensions.Logging.Abstractions;
using Moq;
using Pulumi;
using Pulumi.Testing;

namespace AuditInfra.Automation.Tests.Rollout;

/// <summary>
/// The deployer against a fake <c>pulumi</c> on PATH: what it asks the CLI to do (arguments,
/// working folders, backends), how it answers locks, cancellation, failures and drift.
/// </summary>
[Collection(PulumiCollection.Name)]
public sealed class PulumiStackDeployerTests : IDisposable
{
    private static readonly AccountBaselineInputs Inputs = new(
        "333333333333", "us-east-1", ["us-east-1", "us-west-2"],
        "arn:aws:events:us-east-1:222222222222:event-bus/acme-audit-central",
        "arn:aws:iam::333333333333:role/AWSControlTowerExecution", "acme-audit",
        ImmutableSortedDictionary<string, string>.Empty);

    private static readonly DeploymentRequest Request = new(Inputs, "1.0.0+abc");

    private const string MandatoryViolation = """{"sequence":1,"timestamp":0,"policyEvent":{"resourceUrn":"urn:pulumi:account-333333333333::auditinfra-account::aws:cloudwatch/eventRule:EventRule::fwd","message":"forwarding rule must be enabled","color":"never","policyName":"rule-enabled","policyPackName":"auditinfra","policyPackVersion":"1.0.0","policyPackVersionTag":"1.0.0","enforcementLevel":"mandatory"}}""";

    private readonly FakePulumi _pulumi = new();
    private readonly DirectoryInfo _scratch = Directory.CreateTempSubdirectory("deployer-tests-");

    public void Dispose()
    {
        _pulumi.Dispose();
        _scratch.Delete(recursive: true);
    }

    private PulumiStackDeployer Deployer(PulumiDeployerOptions? options = null, TimeProvider? time = null) =>
        new(options ?? new PulumiDeployerOptions { BackendUrl = "s3://state-bucket/auditinfra" }, NullLogger<PulumiStackDeployer>.Instance, time);

    private IEnumerable<FakePulumi.Call> CallsOf(string command) => _pulumi.Calls.Where(c => c.Command == command);

    [Fact]
    public async Task Up_runs_under_the_policy_packs_and_their_configs()
    {
        var pack = _scratch.CreateSubdirectory("policy").FullName;
        var config = Path.Combine(_scratch.FullName, "policy-config.json");
        File.WriteAllText(config, "{}");

        var result = await Deployer(new PulumiDeployerOptions { PolicyPacks = [pack], PolicyPackConfigs = [config] }).DeployAsync(Request, CancellationToken.None);

        var up = Assert.Single(CallsOf("up"));
        Assert.Equal(pack, up.After("--policy-pack"));
        Assert.Equal(config, up.After("--policy-pack-config"));
        Assert.Equal(3, result.ResourceChanges!["Create"]);
    }

    [Fact]
    public async Task A_mandatory_policy_violation_on_up_is_a_permanent_failure_naming_the_violation()
    {
        _pulumi.Set("up-events", MandatoryViolation);
        _pulumi.Set("up-error", "error: update failed");
        var deployer = Deployer(new PulumiDeployerOptions { PolicyPacks = [_scratch.CreateSubdirectory("policy").FullName] });

        var e = await Assert.ThrowsAsync<DeploymentException>(() => deployer.DeployAsync(Request, CancellationToken.None));

        Assert.Equal(DeploymentFailureKind.Permanent, e.Kind);
        Assert.Contains("auditinfra/rule-enabled [mandatory]", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancelling_an_update_interrupts_pulumi_instead_of_killing_it()
    {
        _pulumi.Set("up-waits", "");
        using var cancel = new CancellationTokenSource();
        var deploy = Deployer(new PulumiDeployerOptions { CancelGracePeriod = TimeSpan.FromSeconds(20) }).DeployAsync(Request, cancel.Token);
        await WaitUntilAsync(() => CallsOf("up").Any());
        await Task.Delay(300);

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => deploy);
        // SIGINT reached the CLI (it winds down itself: checkpoint written, lock released); a kill leaves no line.
        Assert.Contains(_pulumi.Calls, c => c.Arguments == "SIGINT");
        Assert.DoesNotContain(_pulumi.Calls, c => c.Arguments == "not interrupted");
    }

    [Fact]
    public async Task A_lock_older_than_the_lease_is_cancelled_then_the_stack_refreshed_and_the_update_retried()
    {
        _pulumi.ExistingStack(Inputs.StackName);
        _pulumi.Lock(DateTimeOffset.UtcNow.AddHours(-2).ToString("yyyy-MM-ddTHH:mm:ssZ"));

        var result = await Deployer(new PulumiDeployerOptions { StaleLockAfter = TimeSpan.FromMinutes(10) }).DeployAsync(Request, CancellationToken.None);

        var operations = _pulumi.Calls.Select(c => c.Command).Where(c => c is "up" or "cancel" or "refresh").ToList();
        Assert.Equal(["up", "cancel", "refresh", "up"], operations);
        Assert.True(CallsOf("refresh").Single().Has("--clear-pending-creates"));
        Assert.Equal(Inputs.StackName, CallsOf("cancel").Single().After("--stack"));
        Assert.Equal(3, result.ResourceChanges!["Create"]);
    }

    [Fact]
    public async Task A_lock_younger_than_the_lease_is_a_concurrent_update_left_alone()
    {
        _pulumi.ExistingStack(Inputs.StackName);
        _pulumi.Lock(DateTimeOffset.UtcNow.AddMinutes(-1).ToString("yyyy-MM-ddTHH:mm:ssZ"));

        var e = await Assert.ThrowsAsync<DeploymentException>(() => Deployer(new PulumiDeployerOptions { StaleLockAfter = TimeSpan.FromMinutes(10) }).DeployAsync(Request, CancellationToken.None));

        Assert.Equal(DeploymentFailureKind.ConcurrentUpdate, e.Kind);
        Assert.Empty(CallsOf("cancel"));
    }

    [Fact]
    public async Task A_service_lock_without_a_time_is_stale_once_this_host_has_seen_it_for_longer_than_the_lease()
    {
        _pulumi.ExistingStack(Inputs.StackName);
        _pulumi.Lock("cloud");
        var time = new ManualTime(DateTimeOffset.Parse("2026-12-04T10:00:00Z"));
        var deployer = Deployer(new PulumiDeployerOptions { StaleLockAfter = TimeSpan.FromMinutes(10) }, time);

        var first = await Assert.ThrowsAsync<DeploymentException>(() => deployer.DeployAsync(Request, CancellationToken.None));
        Assert.Equal(DeploymentFailureKind.ConcurrentUpdate, first.Kind);
        Assert.Empty(CallsOf("cancel"));

        time.Now += TimeSpan.FromMinutes(11);
        await deployer.DeployAsync(Request, CancellationToken.None);
        Assert.Single(CallsOf("cancel"));
    }

    [Fact]
    public async Task New_stacks_are_created_with_the_secrets_provider()
    {
        await Deployer(new PulumiDeployerOptions { BackendUrl = "s3://state-bucket", SecretsProvider = "awskms://alias/auditinfra?region=us-east-1" }).DeployAsync(Request, CancellationToken.None);

        var init = Assert.Single(CallsOf("stack init"));
        Assert.Equal("awskms://alias/auditinfra?region=us-east-1", init.After("--secrets-provider"));
        Assert.Equal("s3://state-bucket", init.Backend);
    }

    [Fact]
    public async Task Preview_of_an_account_without_a_stack_creates_nothing_in_the_backend()
    {
        var workDir = _scratch.CreateSubdirectory("workspaces").FullName;

        var result = await Deployer(new PulumiDeployerOptions { BackendUrl = "s3://state-bucket", WorkDir = workDir }).PreviewAsync(Request, null, CancellationToken.None);

        Assert.True(result.Succeeded);
        Assert.False(_pulumi.StackExists(Inputs.StackName));
        // Every write went to a throwaway file:// backend with a passphrase, deleted afterwards.
        foreach (var call in _pulumi.Calls.Where(c => c.Command is "stack init" or "config set-all" or "preview"))
        {
            Assert.StartsWith("file://", call.Backend);
            Assert.True(call.Passphrase);
            Assert.False(Directory.Exists(call.Backend["file://".Length..]));
            Assert.False(Directory.Exists(call.WorkDir));
        }

        Assert.Equal("passphrase", CallsOf("stack init").Single().After("--secrets-provider"));
        Assert.Single(CallsOf("preview"));
        Assert.Empty(Directory.EnumerateFileSystemEntries(workDir));
    }

    [Fact]
    public async Task Preview_of_an_existing_stack_writes_no_configuration_and_creates_no_stack()
    {
        _pulumi.ExistingStack(Inputs.StackName);
        var workDir = _scratch.CreateSubdirectory("workspaces").FullName;

        var result = await Deployer(new PulumiDeployerOptions { BackendUrl = "s3://state-bucket", WorkDir = workDir }).PreviewAsync(Request, null, CancellationToken.None);

        Assert.True(result.Succeeded);
        Assert.Empty(CallsOf("stack init"));
        Assert.DoesNotContain(_pulumi.Calls, c => c.Command.StartsWith("config", StringComparison.Ordinal));
        var preview = Assert.Single(CallsOf("preview"));
        Assert.Equal("s3://state-bucket", preview.Backend);
        Assert.NotNull(preview.After("--config-file"));
        using var config = JsonDocument.Parse(_pulumi.Read("preview-config")!);
        Assert.Equal("333333333333", config.RootElement.GetProperty("config").GetProperty("auditinfra:accountId").GetString());
        Assert.Empty(Directory.EnumerateFileSystemEntries(workDir));
        Assert.False(Directory.Exists(preview.WorkDir));
    }

    [Fact]
    public async Task A_mandatory_policy_violation_fails_the_preview_with_the_violation()
    {
        _pulumi.ExistingStack(Inputs.StackName);
        _pulumi.Set("preview-events", MandatoryViolation);
        _pulumi.Set("preview-error", "error: preview failed");
        var pack = _scratch.CreateSubdirectory("policy").FullName;

        var result = await Deployer().PreviewAsync(Request, pack, CancellationToken.None);

        Assert.False(result.Succeeded);
        Assert.Contains(result.PolicyViolations, v => v.Contains("auditinfra/rule-enabled [mandatory]", StringComparison.Ordinal) && v.Contains("must be enabled", StringComparison.Ordinal));
        Assert.Equal(pack, CallsOf("preview").Single().After("--policy-pack"));
    }

    [Theory]
    [InlineData("error: [409] Conflict: Another update is currently in progress.", DeploymentFailureKind.ConcurrentUpdate)]
    [InlineData("error: the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end or delete the lock file with `pulumi cancel`.", DeploymentFailureKind.ConcurrentUpdate)]
    [InlineData("error: User: arn:aws:sts::111111111111:assumed-role/ci/x is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::333333333333:role/AWSControlTowerExecution", DeploymentFailureKind.Permanent)]
    [InlineData("error: operation error STS: GetCallerIdentity, https response error StatusCode: 403, api error ExpiredToken", DeploymentFailureKind.Permanent)]
    [InlineData("error: read tcp 10.0.0.1:443: connection reset by peer", DeploymentFailureKind.Transient)]
    public async Task Preview_errors_are_classified_as_for_up(string message, DeploymentFailureKind kind)
    {
        _pulumi.ExistingStack(Inputs.StackName);
        _pulumi.Set("preview-error", message);

        var e = await Assert.ThrowsAsync<DeploymentException>(() => Deployer().PreviewAsync(Request, null, CancellationToken.None));

        Assert.Equal(kind, e.Kind);
    }

    [Theory]
    [InlineData("""{"same":3}""", false)]
    [InlineData("""{"same":2,"delete":1}""", true)]
    [InlineData("""{"same":2,"update":1}""", true)]
    public async Task Refresh_reports_drift_when_resources_changed_or_disappeared(string changes, bool drifted)
    {
        _pulumi.ExistingStack(Inputs.StackName);
        _pulumi.Set("refresh-changes", changes);

        var result = await Deployer().RefreshAsync(Request, CancellationToken.None);

        Assert.Equal(drifted, result.Drifted);
        Assert.Single(CallsOf("refresh"));
        Assert.Empty(CallsOf("up"));
        Assert.Empty(CallsOf("stack init"));
    }

    [Fact]
    public async Task Refresh_of_a_missing_stack_is_drift_and_creates_nothing()
    {
        var result = await Deployer().RefreshAsync(Request, CancellationToken.None);

        Assert.True(result.Drifted);
        Assert.Empty(CallsOf("stack init"));
        Assert.Empty(CallsOf("refresh"));
    }

    [Fact]
    public async Task The_inline_program_returns_the_stack_outputs()
    {
        var program = PulumiStackDeployer.Program(Inputs);
        // Pulumi.Automation runs a PulumiFn through an internal runner; the delegate it wraps is what the stack's outputs come from.
        var body = program.GetType().GetFields(BindingFlags.NonPublic | BindingFlags.Instance)
            .Select(f => f.GetValue(program))
            .OfType<Func<CancellationToken, Task<IDictionary<string, object?>>>>()
            .Single();
        var mocks = new Mock<IMocks>();
        mocks.Setup(m => m.NewResourceAsync(It.IsAny<MockResourceArgs>())).ReturnsAsync((MockResourceArgs a) => ($"{a.Name}-id", (object)a.Inputs));
        mocks.Setup(m => m.CallAsync(It.IsAny<MockCallArgs>())).ReturnsAsync(ImmutableDictionary<string, object>.Empty);

        var (_, outputs) = await Deployment.TestAsync(mocks.Object, new TestOptions { ProjectName = "auditinfra-account", StackName = Inputs.StackName }, () => body(CancellationToken.None));

        Assert.Equal(["accountId", "forwardingRoleArn", "regions"], outputs.Keys.Order(StringComparer.Ordinal));
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting for the fake pulumi");
            await Task.Delay(50);
        }
    }

    private sealed class ManualTime(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }
}

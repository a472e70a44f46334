using AuditInfra.Automation.Rollout;
using AuditInfra.Automation.Tests.Rollout;
using AuditInfra.Core.Rollout;
using Moq;

namespace AuditInfra.Automation.Tests;

/// <summary>
/// The host's commands end to end with the Pulumi deployer replaced by a Moq'd port: what each
/// option turns into (deployer options, preview or update calls) and the exit codes of bad input.
/// Real SQLite ledger, real accounts file, the repository's own Pulumi.prod.yaml.
/// </summary>
[Collection(PulumiCollection.Name)]
public sealed class AutomationAppTests : IDisposable
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("automation-app-");
    private readonly Mock<IStackDeployer> _deployer = new(MockBehavior.Strict);
    private readonly List<PulumiDeployerOptions> _options = [];
    private readonly StringWriter _out = new();
    private readonly StringWriter _error = new();
    private readonly TextWriter _previousOut = Console.Out;
    private readonly TextWriter _previousError = Console.Error;

    public AutomationAppTests()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(root.FullName, "AuditInfra.sln")))
        {
            root = root.Parent ?? throw new InvalidOperationException("repository root not found");
        }

        File.Copy(Path.Combine(root.FullName, "Pulumi.prod.yaml"), Path.Combine(_folder.FullName, "Pulumi.prod.yaml"));
        File.WriteAllText(Path.Combine(_folder.FullName, "accounts.json"), """
            {"Accounts": [
              {"Id": "333333333333", "Arn": "arn:aws:organizations::111111111111:account/o-a1b2c3d4e5/333333333333", "Email": "a@example.com", "Name": "workload-a", "Status": "ACTIVE"},
              {"Id": "444444444444", "Arn": "arn:aws:organizations::111111111111:account/o-a1b2c3d4e5/444444444444", "Email": "b@example.com", "Name": "workload-b", "Status": "ACTIVE"}
            ]}
            """);
        Directory.CreateDirectory(Pack);
        File.WriteAllText(PackConfig, "{}");
        Console.SetOut(_out);
        Console.SetError(_error);
    }

    private string Pack => Path.Combine(_folder.FullName, "policy");

    private string PackConfig => Path.Combine(_folder.FullName, "policy-config.json");

    public void Dispose()
    {
        Console.SetOut(_previousOut);
        Console.SetError(_previousError);
        _folder.Delete(recursive: true);
    }

    private Task<int> RunAsync(params string[] args) => RunAsync(CancellationToken.None, args);

    private Task<int> RunAsync(CancellationToken cancellationToken, params string[] args) =>
        AutomationApp.RunAsync(
            [.. args, "--config-dir", _folder.FullName, "--ledger", Path.Combine(_folder.FullName, "ledger.db"), "--accounts-file", Path.Combine(_folder.FullName, "accounts.json")],
            new AutomationApp.Ports((options, _) =>
            {
                _options.Add(options);
                return _deployer.Object;
            }),
            cancellationToken);

    [Fact]
    public async Task Rollout_all_applies_the_policy_pack_and_its_config_to_the_updates()
    {
        _deployer.Setup(d => d.DeployAsync(It.IsAny<DeploymentRequest>(), It.IsAny<CancellationToken>())).ReturnsAsync(new DeploymentResult("3 create"));

        var exit = await RunAsync("rollout", "--all", "--policy-pack", Pack, "--policy-pack-config", PackConfig);

        Assert.Equal(0, exit);
        var options = Assert.Single(_options);
        Assert.Equal([Pack], options.PolicyPacks);
        Assert.Equal([PackConfig], options.PolicyPackConfigs);
        _deployer.Verify(d => d.DeployAsync(It.Is<DeploymentRequest>(r => r.AccountId == "333333333333"), It.IsAny<CancellationToken>()), Times.Once);
        _deployer.Verify(d => d.DeployAsync(It.Is<DeploymentRequest>(r => r.AccountId == "444444444444"), It.IsAny<CancellationToken>()), Times.Once);
    }

    [Fact]
    public async Task Rollout_all_preview_previews_every_account_under_the_policy_pack_and_deploys_nothing()
    {
        var packs = new List<string?>();
        _deployer.Setup(d => d.PreviewAsync(It.IsAny<DeploymentRequest>(), It.IsAny<string?>(), It.IsAny<CancellationToken>()))
            .Callback((DeploymentRequest _, string? pack, CancellationToken _) => packs.Add(pack))
            .ReturnsAsync(new PreviewResult(true, "3 create", []));

        var exit = await RunAsync("rollout", "--all", "--preview", "--policy-pack", Pack);

        Assert.Equal(0, exit);
        Assert.Equal(2, packs.Count);
        Assert.Equal([Pack], Assert.Single(_options).PolicyPacks);
        Assert.Contains("account-333333333333: ok 3 create", _out.ToString(), StringComparison.Ordinal);
        _deployer.Verify(d => d.DeployAsync(It.IsAny<DeploymentRequest>(), It.IsAny<CancellationToken>()), Times.Never);
    }

    [Fact]
    public async Task A_preview_with_a_mandatory_violation_exits_1_and_prints_it()
    {
        _deployer.Setup(d => d.PreviewAsync(It.IsAny<DeploymentRequest>(), It.IsAny<string?>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync(new PreviewResult(false, "preview failed", ["auditinfra/rule-enabled [mandatory] urn: rule must be enabled"]));

        var exit = await RunAsync("rollout", "--account", "333333333333", "--preview", "--policy-pack", Pack);

        Assert.Equal(1, exit);
        Assert.Contains("  auditinfra/rule-enabled [mandatory] urn: rule must be enabled", _out.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Secrets_provider_backend_and_lease_reach_the_deployer()
    {
        _deployer.Setup(d => d.DeployAsync(It.IsAny<DeploymentRequest>(), It.IsAny<CancellationToken>())).ReturnsAsync(new DeploymentResult("same"));

        var exit = await RunAsync("rollout", "--account", "333333333333", "--backend", "s3://state-bucket/auditinfra", "--secrets-provider", "awskms://alias/auditinfra-state?region=us-east-1");

        Assert.Equal(0, exit);
        var options = Assert.Single(_options);
        Assert.Equal("awskms://alias/auditinfra-state?region=us-east-1", options.SecretsProvider);
        Assert.Equal("s3://state-bucket/auditinfra", options.BackendUrl);
        Assert.Equal(TimeSpan.FromSeconds(600), options.StaleLockAfter); // auditinfra:rollout leaseSeconds, default
    }

    [Fact]
    public async Task Run_builds_its_deployer_with_the_policy_pack_and_secrets_provider()
    {
        using var stop = new CancellationTokenSource();
        var packs = new List<PulumiDeployerOptions>();
        var exit = await AutomationApp.RunAsync(
            ["run", "--config-dir", _folder.FullName, "--ledger", Path.Combine(_folder.FullName, "ledger.db"), "--accounts-file", Path.Combine(_folder.FullName, "accounts.json"),
             "--policy-pack", Pack, "--secrets-provider", "passphrase", "--concurrency", "1"],
            new AutomationApp.Ports((options, _) =>
            {
                packs.Add(options);
                stop.Cancel();
                return _deployer.Object;
            }),
            stop.Token);

        var options = Assert.Single(packs);
        Assert.Equal([Pack], options.PolicyPacks);
        Assert.Equal("passphrase", options.SecretsProvider);
        Assert.Equal(0, exit); // a stop request is a clean shutdown
    }

    [Theory]
    [InlineData("--policy-pack", "missing-folder", "--policy-pack")]
    [InlineData("--secrets-provider", "kms:alias/x", "--secrets-provider kms:alias/x")]
    [InlineData("--policy-pack-config", "policy-config.json", "--policy-pack-config")]
    public async Task Unusable_options_exit_2_with_a_one_line_error(string option, string value, string named)
    {
        var path = option == "--secrets-provider" ? value : Path.Combine(_folder.FullName, value);

        var exit = await RunAsync("rollout", "--all", option, path);

        Assert.Equal(2, exit);
        var error = _error.ToString().Trim();
        Assert.Single(error.Split('\n'));
        Assert.Contains(named, error, StringComparison.Ordinal);
        Assert.Empty(_options);
    }

    [Fact]
    public async Task An_unknown_option_is_a_usage_error_exit_2()
    {
        var exit = await RunAsync("rollout", "--all", "--no-such-option");

        Assert.Equal(2, exit);
        Assert.Contains("--no-such-option", _error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_accounts_file_is_one_line_and_exit_2_not_a_stack_trace()
    {
        File.Delete(Path.Combine(_folder.FullName, "accounts.json"));

        var exit = await RunAsync("rollout", "--all");

        Assert.Equal(2, exit);
        var error = _error.ToString().Trim();
        Assert.Single(error.Split('\n'));
        Assert.Contains("accounts.json", error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
    }
}

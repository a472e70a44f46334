using AuditInfra.Core.Documentation;
using AuditInfra.Core.Rollout;
using AuditInfra.Core.Tests.Support;
using Moq;

namespace AuditInfra.Core.Tests.Documentation;

public class DocumentingDeployerTests
{
    private static readonly AuditInfra.Core.Configuration.AuditConfig Config = Samples.Config("prod");

    private static DeploymentRequest Request(string account) =>
        new(new RolloutTarget(Config, Config.Rollout, "1.0.0").InputsFor(account), "1.0.0+abc123");

    [Fact]
    public async Task A_deployment_rewrites_its_accounts_page_with_the_deployed_version()
    {
        var docs = Directory.CreateTempSubdirectory("auditinfra-docs").FullName;
        var inner = new Mock<IStackDeployer>();
        inner.Setup(d => d.DeployAsync(It.IsAny<DeploymentRequest>(), It.IsAny<CancellationToken>())).ReturnsAsync(new DeploymentResult("ok"));
        var deployer = new DocumentingDeployer(inner.Object, Config, docs, () => new DateTimeOffset(2026, 11, 25, 3, 0, 0, TimeSpan.Zero));

        var result = await deployer.DeployAsync(Request("333333333333"), CancellationToken.None);

        Assert.Equal("ok", result.Summary);
        var md = await File.ReadAllTextAsync(Path.Combine(docs, "accounts", "333333333333.md"));
        Assert.Contains("stack account-333333333333, version 1.0.0+abc123, deployed 2026-11-25 03:00 UTC", md);
        Assert.True(File.Exists(Path.Combine(docs, "accounts", "333333333333.html")));
        Assert.Empty(Directory.GetFiles(docs, "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task A_failed_deployment_leaves_the_page_as_it_was()
    {
        var docs = Directory.CreateTempSubdirectory("auditinfra-docs").FullName;
        Directory.CreateDirectory(Path.Combine(docs, "accounts"));
        var page = Path.Combine(docs, "accounts", "333333333333.md");
        await File.WriteAllTextAsync(page, "previous page");
        var inner = new Mock<IStackDeployer>();
        inner.Setup(d => d.DeployAsync(It.IsAny<DeploymentRequest>(), It.IsAny<CancellationToken>())).ThrowsAsync(new DeploymentException("role cannot be assumed", DeploymentFailureKind.Permanent));

        await Assert.ThrowsAsync<DeploymentException>(() => new DocumentingDeployer(inner.Object, Config, docs).DeployAsync(Request("333333333333"), CancellationToken.None));
        Assert.Equal("previous page", await File.ReadAllTextAsync(page));
    }
}

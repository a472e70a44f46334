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

    [Fact]
    public async Task A_page_written_after_a_rollout_is_the_sites_own_for_the_next_docs_run()
    {
        var docs = Path.Combine(Directory.CreateTempSubdirectory("auditinfra-docs").FullName, "site");
        var inner = new Mock<IStackDeployer>();
        inner.Setup(d => d.DeployAsync(It.IsAny<DeploymentRequest>(), It.IsAny<CancellationToken>())).ReturnsAsync(new DeploymentResult("ok"));
        await new DocumentingDeployer(inner.Object, Config, docs).DeployAsync(Request("333333333333"), CancellationToken.None);

        var files = SiteWriter.Write(DocumentationGenerator.Build(Config), docs);

        Assert.False(File.Exists(Path.Combine(docs, "accounts", "333333333333.md")), "the rollout's page of an account the site no longer lists stays");
        Assert.Equal([.. files.Append(SiteWriter.MarkerFileName).Order(StringComparer.Ordinal)], Directory.EnumerateFiles(docs, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(docs, f)).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_rollout_never_overwrites_a_page_file_the_site_did_not_write()
    {
        var docs = Directory.CreateTempSubdirectory("auditinfra-docs").FullName;
        Directory.CreateDirectory(Path.Combine(docs, "accounts"));
        var page = Path.Combine(docs, "accounts", "333333333333.md");
        await File.WriteAllTextAsync(page, "an auditor's own notes");
        var inner = new Mock<IStackDeployer>();
        inner.Setup(d => d.DeployAsync(It.IsAny<DeploymentRequest>(), It.IsAny<CancellationToken>())).ReturnsAsync(new DeploymentResult("ok"));

        await Assert.ThrowsAsync<SiteOutputException>(() => new DocumentingDeployer(inner.Object, Config, docs).DeployAsync(Request("333333333333"), CancellationToken.None));

        Assert.Equal("an auditor's own notes", await File.ReadAllTextAsync(page));
    }
}

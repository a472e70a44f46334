using AuditInfra.Core.Configuration;
using AuditInfra.Core.Rollout;

namespace AuditInfra.Core.Documentation;

/// <summary>
/// Decorates the rollout's deployer: after an account's baseline is deployed, that account's
/// documentation page is rewritten (Markdown and HTML, each replaced atomically) with the
/// version now deployed, so the docs follow the fleet without a separate run.
/// </summary>
public sealed class DocumentingDeployer(IStackDeployer inner, AuditConfig config, string docsDirectory, Func<DateTimeOffset>? now = null) : IStackDeployer
{
    public async Task<DeploymentResult> DeployAsync(DeploymentRequest request, CancellationToken cancellationToken)
    {
        var result = await inner.DeployAsync(request, cancellationToken).ConfigureAwait(false);
        var page = DocumentationGenerator.AccountPageAfterRollout(config, new OrgAccount(request.AccountId, "", "ACTIVE"), request.Version, (now ?? (() => DateTimeOffset.UtcNow))());
        AtomicFile.WriteAllText(Path.Combine(docsDirectory, page.Path + ".md"), Renderers.Markdown(page));
        AtomicFile.WriteAllText(Path.Combine(docsDirectory, page.Path + ".html"), Renderers.Html(page));
        return result;
    }

    public Task<PreviewResult> PreviewAsync(DeploymentRequest request, string? policyPackDirectory, CancellationToken cancellationToken) =>
        inner.PreviewAsync(request, policyPackDirectory, cancellationToken);

    public Task<RefreshResult> RefreshAsync(DeploymentRequest request, CancellationToken cancellationToken) =>
        inner.RefreshAsync(request, cancellationToken);
}

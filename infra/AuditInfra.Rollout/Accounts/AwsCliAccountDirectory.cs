using AuditInfra.Core.Aws;
using AuditInfra.Core.Rollout;

namespace AuditInfra.Rollout.Accounts;

/// <summary>
/// The organization's accounts from the AWS CLI (<c>aws organizations list-accounts --output json</c>,
/// which pages through every account), run with the host's credentials (management account or a
/// delegated administrator). AWSSDK.Organizations is not used so the host needs no extra package.
/// </summary>
public sealed class AwsCliAccountDirectory(string awsExecutable = "aws", string? profile = null) : IAccountDirectory
{
    private readonly AwsCli cli = new() { Executable = awsExecutable, Profile = profile };

    public async Task<IReadOnlyList<OrganizationAccount>> ListAccountsAsync(CancellationToken cancellationToken) =>
        OrganizationsJson.ParseListAccounts(await cli.RunAsync(["organizations", "list-accounts"], cancellationToken), "aws organizations list-accounts");
}

/// <summary>The organization's accounts from an exported <c>list-accounts</c> JSON file (offline runs, CI previews, simulations).</summary>
public sealed class FileAccountDirectory(string path) : IAccountDirectory
{
    public Task<IReadOnlyList<OrganizationAccount>> ListAccountsAsync(CancellationToken cancellationToken)
    {
        string text;
        try
        {
            // Bounded, and never opened when it is a FIFO or a device (which would block the host for ever).
            text = Core.InputFile.ReadAllText(path);
        }
        catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException)
        {
            throw new FormatException($"{path}: cannot be read ({e.Message})", e);
        }

        return Task.FromResult(OrganizationsJson.ParseListAccounts(text, path));
    }
}

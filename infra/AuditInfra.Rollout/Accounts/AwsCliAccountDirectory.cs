using System.Diagnostics;
using AuditInfra.Core.Rollout;

namespace AuditInfra.Rollout.Accounts;

/// <summary>
/// The organization's accounts from the AWS CLI (<c>aws organizations list-accounts --output json</c>,
/// which pages through every account), run with the host's credentials (management account or a
/// delegated administrator). AWSSDK.Organizations is not used so the host needs no extra package.
/// </summary>
public sealed class AwsCliAccountDirectory(string awsExecutable = "aws", string? profile = null) : IAccountDirectory
{
    public async Task<IReadOnlyList<OrganizationAccount>> ListAccountsAsync(CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(awsExecutable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "organizations", "list-accounts", "--output", "json" })
        {
            start.ArgumentList.Add(arg);
        }

        if (profile is not null)
        {
            start.ArgumentList.Add("--profile");
            start.ArgumentList.Add(profile);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start '{awsExecutable}'");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"'{awsExecutable} organizations list-accounts' failed (exit {process.ExitCode}): {(await stderr).Trim()}");
        }

        return OrganizationsJson.ParseListAccounts(await stdout, "aws organizations list-accounts");
    }
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

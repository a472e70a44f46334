using AuditInfra.Core.Configuration;
using Pulumi;

namespace AuditInfra.Configuration;

/// <summary>
/// Reads the stack's configuration through Pulumi and validates it with the same binder as the
/// CLI, so `pulumi up` fails fast naming the same keys `auditinfra plan` names. Pulumi resolves
/// what a file read would miss: `secure:` values, ESC environment imports, `--config-file`.
/// </summary>
public static class PulumiStackConfig
{
    /// <summary>Loads the running stack's configuration; an invalid one stops the program with the full report.</summary>
    public static AuditConfig Load()
    {
        var stack = Deployment.Instance.StackName;
        try
        {
            return AuditConfigBinder.BindOrThrow(FromPulumiConfig(stack));
        }
        catch (ConfigValidationException ex)
        {
            // RunException prints its message without a stack trace: the report is the whole story.
            throw new RunException(ex.Message);
        }
    }

    /// <summary>
    /// Every key the binder knows, read from Pulumi's config; structured values (lists, maps)
    /// arrive as their JSON text. Pulumi cannot list the keys it holds, so a misspelt key is
    /// invisible here: `auditinfra plan` reads the stack file and reports it.
    /// </summary>
    public static RawConfig FromPulumiConfig(string stack)
    {
        var config = new Config(RawConfig.Namespace);
        var aws = new Config("aws");
        var keys = AuditConfigBinder.TopLevelKeys().Select(k => $"{RawConfig.Namespace}:{k}").Append("aws:region");
        return RawConfig.FromLookup($"Pulumi config of stack '{stack}'", stack, keys, qualified =>
        {
            var colon = qualified.IndexOf(':');
            var (ns, key) = (qualified[..colon], qualified[(colon + 1)..]);
            return ns == "aws" ? aws.Get(key) : config.Get(key);
        });
    }
}

using AuditInfra.Core.Configuration;
using Pulumi;

namespace AuditInfra.Configuration;

/// <summary>
/// Reads the stack's configuration for the Pulumi program and validates it with the same binder
/// as the CLI, so `pulumi up` fails fast with exactly the messages `auditinfra plan` prints.
/// </summary>
public static class PulumiStackConfig
{
    /// <summary>Loads the running stack's configuration; an invalid one stops the program with the full report.</summary>
    public static AuditConfig Load()
    {
        try
        {
            return LoadOrThrow(Deployment.Instance.StackName);
        }
        catch (ConfigValidationException ex)
        {
            // RunException prints its message without a stack trace: the report is the whole story.
            throw new RunException(ex.Message);
        }
    }

    private static AuditConfig LoadOrThrow(string stack)
    {

        // The stack file gives line numbers and sees keys Pulumi would pass silently (typos);
        // without one (Automation API, config from an environment), read Pulumi's config key by key.
        if (FindStackFile(stack) is { } path)
        {
            var (raw, error) = RawConfig.Load(path, stack);
            if (raw is null)
            {
                throw new ConfigValidationException(new ValidationReport([error!]));
            }

            return AuditConfigBinder.BindOrThrow(raw);
        }

        return AuditConfigBinder.BindOrThrow(FromPulumiConfig(stack));
    }

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

    private static string? FindStackFile(string stack)
    {
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Pulumi.yaml")))
            {
                var path = Path.Combine(dir.FullName, $"Pulumi.{stack}.yaml");
                return File.Exists(path) ? path : null;
            }
        }

        return null;
    }
}

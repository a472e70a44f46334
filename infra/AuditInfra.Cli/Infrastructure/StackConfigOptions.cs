using System.CommandLine;
using System.Reflection;
using AuditInfra.Core.Configuration;

namespace AuditInfra.Cli.Infrastructure;

/// <summary>
/// The options every stack-reading command shares (--stack, --config-dir, --sample) and the one
/// way they load configuration: the same binder the Pulumi program uses.
/// </summary>
public sealed class StackConfigOptions
{
    public Option<string> Stack { get; } = new("--stack")
    {
        Description = "The stack to read: audit or prod (reads Pulumi.<stack>.yaml)",
        Required = true,
    };

    public Option<DirectoryInfo> ConfigDir { get; } = new("--config-dir")
    {
        Description = "The folder holding Pulumi.<stack>.yaml",
        DefaultValueFactory = _ => new DirectoryInfo("."),
    };

    public Option<bool> Sample { get; } = new("--sample")
    {
        Description = "Use the sample configuration embedded in this tool instead of a folder",
    };

    public StackConfigOptions(params string[] stacks)
    {
        if (stacks.Length > 0)
        {
            Stack.AcceptOnlyFromAmong(stacks);
        }
    }

    public void AddTo(Command command)
    {
        command.Options.Add(Stack);
        command.Options.Add(ConfigDir);
        command.Options.Add(Sample);
    }

    /// <summary>Loads and validates; on failure writes the full report to stderr and returns null.</summary>
    public (AuditConfig? Config, ValidationReport Report) Load(ParseResult parse, CliIo io)
    {
        var stack = parse.GetValue(Stack)!;
        (AuditConfig? Config, ValidationReport Report) result;
        if (parse.GetValue(Sample))
        {
            var (raw, error) = RawConfig.ParseYaml(SampleConfig.Read(stack), $"(embedded sample) Pulumi.{stack}.yaml", stack);
            result = raw is null ? (null, new ValidationReport([error!])) : AuditConfigBinder.Bind(raw);
        }
        else
        {
            result = AuditConfigBinder.Load(parse.GetValue(ConfigDir)!.FullName, stack);
        }

        if (result.Config is null)
        {
            io.Err.WriteLine($"The configuration of stack '{stack}' is not valid ({result.Report.Errors.Count()} error(s)):");
            foreach (var issue in result.Report.Issues)
            {
                io.Err.WriteLine("  " + issue);
            }
        }

        return result;
    }
}

/// <summary>The shipped Pulumi.audit.yaml and Pulumi.prod.yaml, embedded so the tool runs anywhere.</summary>
public static class SampleConfig
{
    public static string Read(string stack)
    {
        var name = $"samples/Pulumi.{stack}.yaml";
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"no embedded sample named {name}");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}

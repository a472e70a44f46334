namespace AuditInfra.Cli.Tests.Support;

public sealed record CliResult(int ExitCode, string Out, string Err);

/// <summary>Runs the real command line in-process with captured (non-terminal) output.</summary>
public static class CliRunner
{
    public static async Task<CliResult> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await CliApp.RunAsync(args, CliIo.Capture(output, error));
        return new CliResult(code, output.ToString(), error.ToString());
    }

    public static string TempDir()
    {
        var dir = Path.Combine(Path.GetTempPath(), "auditinfra-cli-tests", Guid.NewGuid().ToString("n"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>A config folder holding the embedded sample for a stack, optionally edited.</summary>
    public static string ConfigDir(string stack, Func<string, string>? edit = null)
    {
        var dir = TempDir();
        var text = AuditInfra.Cli.Infrastructure.SampleConfig.Read(stack);
        File.WriteAllText(Path.Combine(dir, $"Pulumi.{stack}.yaml"), edit is null ? text : edit(text));
        return dir;
    }
}

using AuditInfra.Cli.Tests.Support;

namespace AuditInfra.Cli.Tests;

/// <summary>Usage hints name the full command; every command's help states its exit codes.</summary>
public class CommandHelpTests
{
    [Theory]
    [InlineData("auditinfra rules test --help", "rules", "test", "--stack", "staging", "events.json")]
    [InlineData("auditinfra rollout status --help", "rollout", "status", "--no-such-option")]
    [InlineData("auditinfra query --help", "query", "--no-such-option")]
    [InlineData("auditinfra --help", "--no-such-option")]
    public async Task A_parse_error_names_the_full_command_path_in_its_hint(string hint, params string[] args)
    {
        var result = await CliRunner.RunAsync(args);
        Assert.Equal(2, result.ExitCode);
        var line = Assert.Single(result.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.EndsWith($" (run '{hint}' for usage)", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Several_parse_errors_are_one_line_first_error_first()
    {
        var result = await CliRunner.RunAsync("query", "--no-such-option", "--other-unknown");
        Assert.Equal(2, result.ExitCode);
        var line = Assert.Single(result.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.Matches("^[^;]*--no-such-option[^;]*; .*--other-unknown.* \\(run 'auditinfra query --help' for usage\\)$", line);
    }

    [Fact]
    public void Every_command_states_its_own_exit_codes_in_its_help()
    {
        var root = CliApp.BuildRoot(CliIo.Capture(new StringWriter(), new StringWriter()));
        var paths = CommandHelp.Paths(root).ToList();
        Assert.Contains("rules test", paths);
        Assert.All(paths, path => Assert.True(CommandHelp.IsStated(path), $"'{path}' has no entry saying what exit code 1 means for it (CommandHelp.Findings)"));
    }

    [Theory]
    [InlineData(new[] { "check" }, "1 an invariant is violated")]
    [InlineData(new[] { "rules", "test" }, "1 a detection fired")]
    [InlineData(new[] { "verify" }, "1 an integrity finding")]
    [InlineData(new[] { "query" }, "1 is not used")]
    [InlineData(new[] { "query" }, "3 needs restore (logs asked for from an s3:// source are in Glacier Flexible Retrieval, Deep Archive or an Intelligent-Tiering archive tier and not restored: see --restore)")]
    public async Task Help_shows_the_exit_codes(string[] command, string meaning)
    {
        var result = await CliRunner.RunAsync([.. command, "--help"]);
        Assert.Equal(0, result.ExitCode);
        var help = string.Join(' ', result.Out.Split((char[])['\n', '\r', ' '], StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("Exit codes: 0 success,", help);
        Assert.Contains(meaning, help);
        Assert.Contains("2 bad usage or input", help);
    }
}

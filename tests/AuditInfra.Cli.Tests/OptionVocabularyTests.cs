using System.CommandLine;
using System.Text.Json;
using AuditInfra.Cli.Tests.Support;

namespace AuditInfra.Cli.Tests;

/// <summary>One option vocabulary across commands, because scripts depend on it.</summary>
public class OptionVocabularyTests
{
    private static IEnumerable<Command> AllCommands(Command command) => [command, .. command.Subcommands.SelectMany(AllCommands)];

    private static readonly Command Root = CliApp.BuildRoot(CliIo.Capture(new StringWriter(), new StringWriter()));

    [Fact]
    public void Every_json_option_works_as_a_flag_and_folders_are_written_with_out()
    {
        foreach (var command in AllCommands(Root))
        {
            foreach (var option in command.Options)
            {
                if (option.Name == "--json")
                {
                    Assert.True(option.Arity.MinimumNumberOfValues == 0, $"{command.Name} --json takes a value: it must be a flag (machine-readable output on stdout)");
                }

                Assert.DoesNotContain(option.Name, new[] { "--dest", "--output", "--output-dir", "--dir" });
            }
        }

        foreach (var name in new[] { "verify", "pull" })
        {
            Assert.Contains(Root.Subcommands.Single(c => c.Name == name).Options, o => o.Name == "--source");
        }

        Assert.Contains(Root.Subcommands.Single(c => c.Name == "pull").Options, o => o.Name == "--out" && o.Aliases.Contains("--dest"));
    }

    [Fact]
    public async Task Pull_takes_source_and_out_and_verify_json_prints_the_report_while_report_writes_it_to_a_file()
    {
        var dir = Path.Combine(CliRunner.TempDir(), "corpus");
        Assert.Equal(0, (await CliRunner.RunAsync("sample", "--out", dir, "--hours", "3", "--events-per-log", "1", "--no-restart", "--no-backfill")).ExitCode);
        var copy = Path.Combine(CliRunner.TempDir(), "copy");
        var keys = Path.Combine(dir, "public-keys.json");

        var pull = await CliRunner.RunAsync("pull", "--source", dir, "--out", copy, "--json");
        Assert.True(pull.ExitCode == 0, pull.Err);
        Assert.True(JsonDocument.Parse(pull.Out).RootElement.GetProperty("downloaded").GetInt32() > 0);

        var report = Path.Combine(CliRunner.TempDir(), "report.json");
        var both = await CliRunner.RunAsync("verify", "--source", copy, "--public-keys", keys, "--json", "--report", report);
        Assert.True(both.ExitCode == 0, both.Err);
        Assert.Equal(JsonDocument.Parse(both.Out).RootElement.GetProperty("summaries").GetArrayLength(), JsonDocument.Parse(File.ReadAllText(report)).RootElement.GetProperty("summaries").GetArrayLength());

        var fileOnly = Path.Combine(CliRunner.TempDir(), "only.json");
        var human = await CliRunner.RunAsync("verify", "--source", copy, "--public-keys", keys, "--report", fileOnly);
        Assert.Equal(0, human.ExitCode);
        Assert.Contains("Verified", human.Out, StringComparison.Ordinal);
        Assert.True(File.Exists(fileOnly));

        var legacy = await CliRunner.RunAsync("verify", "--source", copy, "--public-keys", keys, "--json", Path.Combine(CliRunner.TempDir(), "old.json"));
        Assert.Equal(2, legacy.ExitCode);
        Assert.Single(legacy.Err.Trim().Split('\n'));
        Assert.Contains("--report", legacy.Err, StringComparison.Ordinal);
    }
}

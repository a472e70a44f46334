using System.Runtime.InteropServices;
using AuditInfra.Cli.Tests.Support;

namespace AuditInfra.Cli.Tests.Inputs;

/// <summary>
/// An option naming a FIFO (or a link to one) blocked for ever on open: every small input file is refused
/// before it is opened unless it is a regular file, in one line with exit 2.
/// </summary>
public class SpecialInputFileTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(20);

    [DllImport("libc", EntryPoint = "mkfifo", SetLastError = true)]
    private static extern int MakeFifo([MarshalAs(UnmanagedType.LPUTF8Str)] string path, uint mode);

    private static string Fifo(string dir, string name)
    {
        var path = Path.Combine(dir, name);
        Assert.Equal(0, MakeFifo(path, Convert.ToUInt32("600", 8)));
        return path;
    }

    /// <summary>Runs the command with a time limit; on a hang, a writer opens the FIFO once so the blocked reader (and the test run) can end.</summary>
    private static async Task<CliResult> RunBounded(string fifo, params string[] args)
    {
        var run = Task.Run(() => CliRunner.RunAsync(args));
        if (await Task.WhenAny(run, Task.Delay(Limit)) != run)
        {
            using (new FileStream(fifo, FileMode.Open, FileAccess.Write))
            {
            }

            Assert.Fail($"'{string.Join(' ', args)}' blocked on the FIFO {fifo} for {Limit}");
        }

        return await run;
    }

    public static TheoryData<string> Options => new() { "--plan", "--accounts", "--verify-report", "--public-keys", "rules test" };

    [SkippableTheory]
    [MemberData(nameof(Options))]
    public async Task A_fifo_or_a_link_to_one_given_as_an_input_file_is_refused_in_one_line_without_opening_it(string option)
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "FIFOs are told from files by statx, on Linux only");
        var dir = CliRunner.TempDir();
        var fifo = Fifo(dir, "input.json");
        var link = Path.Combine(dir, "link.json");
        File.CreateSymbolicLink(link, "input.json");
        string corpus = string.Empty;
        if (option == "--public-keys")
        {
            corpus = Path.Combine(dir, "corpus");
            Assert.Equal(0, (await CliRunner.RunAsync("sample", "--out", corpus, "--hours", "6", "--events-per-log", "1", "--account", "111111111111", "--region", "us-east-1")).ExitCode);
        }

        foreach (var path in new[] { fifo, link })
        {
            string[] args = option switch
            {
                "--plan" => ["check", "--plan", path],
                "rules test" => ["rules", "test", path, "--sample"],
                "--public-keys" => ["verify", "--source", corpus, "--public-keys", path],
                _ => ["docs", "--stack", "audit", "--sample", option, path, "--out", Path.Combine(dir, "site")],
            };

            var result = await RunBounded(fifo, args);

            InputAssert.OneLineError(result, path, "FIFO (named pipe)", "not a regular file");
        }
    }

    [SkippableFact]
    public async Task A_stack_file_that_is_a_fifo_is_refused_without_opening_it()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "FIFOs are told from files by statx, on Linux only");
        var dir = CliRunner.TempDir();
        var fifo = Fifo(dir, "Pulumi.audit.yaml");

        var result = await RunBounded(fifo, "plan", "--stack", "audit", "--config-dir", dir);

        Assert.Equal(2, result.ExitCode);
        InputAssert.NoTrace(result);
        Assert.Contains(InputAssert.Lines(result.Err), line => line.Contains(fifo, StringComparison.Ordinal) && line.Contains("FIFO (named pipe), not a regular file", StringComparison.Ordinal));
    }
}

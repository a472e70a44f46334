using AuditInfra.Cli.Query;
using AuditInfra.Cli.Tests.Support;

namespace AuditInfra.Cli.Tests.Query;

/// <summary>The folders a run keeps in memory-backed /dev/shm: a killed run's folder is removed by the next run, nothing else is.</summary>
public sealed class MemoryScratchTests
{
    [Fact]
    public void Only_this_tools_folders_of_runs_that_are_gone_are_swept()
    {
        var root = CliRunner.TempDir();
        using var ended = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("true") { UseShellExecute = false })!;
        ended.WaitForExit();
        var random = new string('a', 32);
        var abandoned = Directory.CreateDirectory(Path.Combine(root, $"auditinfra-query-{ended.Id}-{random}")).FullName;
        File.WriteAllText(Path.Combine(abandoned, "log.json.gz"), "x");
        var running = Directory.CreateDirectory(Path.Combine(root, $"auditinfra-query-{Environment.ProcessId}-{random}")).FullName;
        var otherShape = Directory.CreateDirectory(Path.Combine(root, $"auditinfra-query-{ended.Id}-not-ours")).FullName;
        var upperCase = Directory.CreateDirectory(Path.Combine(root, $"auditinfra-query-{ended.Id}-{new string('A', 32)}")).FullName;
        var target = CliRunner.TempDir();
        File.WriteAllText(Path.Combine(target, "keep.txt"), "keep");
        var link = Path.Combine(root, $"auditinfra-query-{ended.Id}-{new string('b', 32)}");
        Directory.CreateSymbolicLink(link, target);

        MemoryScratch.SweepAbandoned(root);

        Assert.False(Directory.Exists(abandoned));
        Assert.True(Directory.Exists(running));
        Assert.True(Directory.Exists(otherShape));
        Assert.True(Directory.Exists(upperCase));
        Assert.NotNull(new DirectoryInfo(link).LinkTarget);
        Assert.True(File.Exists(Path.Combine(target, "keep.txt")));
    }

    [SkippableFact]
    public void A_new_folder_names_its_process_and_is_readable_by_its_owner_only()
    {
        var folder = MemoryScratch.TryCreate(1);
        Skip.If(folder is null, "no memory-backed /dev/shm here");
        try
        {
            Assert.StartsWith($"/dev/shm/auditinfra-query-{Environment.ProcessId}-", folder, StringComparison.Ordinal);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, OperatingSystem.IsWindows() ? default : File.GetUnixFileMode(folder));
        }
        finally
        {
            Directory.Delete(folder);
        }
    }
}

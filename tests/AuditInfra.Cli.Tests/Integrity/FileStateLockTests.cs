using System.Diagnostics;
using System.Text.Json;
using AuditInfra.Cli.Tests.Support;
using AuditInfra.Core.Integrity;

namespace AuditInfra.Cli.Tests.Integrity;

/// <summary>
/// <c>verify --state FILE</c> with runs at once: the compare-and-replace of the state file is exclusive (a lock file
/// beside it), so two runs never both replace the state they read; shards merge, runs advancing the same chains
/// end with one line and exit 2; a lock file left behind is reported, never removed.
/// </summary>
public sealed class FileStateLockTests
{
    private static readonly VerifyState Empty = new("/source/", new Dictionary<string, ChainCheckpoint>());

    private static async Task<(string Corpus, string Keys)> SampleAsync()
    {
        var dir = Path.Combine(CliRunner.TempDir(), "corpus");
        var result = await CliRunner.RunAsync("sample", "--out", dir, "--events-per-log", "2", "--hours", "8");
        Assert.True(result.ExitCode == 0, result.Err);
        return (dir, Path.Combine(dir, "public-keys.json"));
    }

    /// <summary>A lock file as a live run of this host writes it (this test process is that run).</summary>
    private static void HoldLock(string lockPath, int? pid = null) =>
        File.WriteAllText(lockPath, JsonSerializer.Serialize(new { Pid = pid ?? Environment.ProcessId, Host = Environment.MachineName, Time = DateTimeOffset.UtcNow, Token = "held-by-the-test" }));

    [Fact]
    public async Task Writers_from_one_read_of_a_state_file_never_both_win()
    {
        const int Writers = 8;
        for (var round = 0; round < 20; round++)
        {
            var path = Path.Combine(CliRunner.TempDir(), "state.json");
            await new FileStateStore(path).SaveAsync(Empty, null, CancellationToken.None);
            var (_, version) = await new FileStateStore(path).LoadAsync(CancellationToken.None);
            using var start = new Barrier(Writers);
            var won = new bool[Writers];
            var threads = Enumerable.Range(0, Writers).Select(i => new Thread(() =>
            {
                var store = new FileStateStore(path);
                start.SignalAndWait();
                try
                {
                    store.SaveAsync(Empty with { Source = $"/writer-{i}/" }, version, CancellationToken.None).GetAwaiter().GetResult();
                    won[i] = true;
                }
                catch (StateConflictException)
                {
                }
            })).ToList();
            threads.ForEach(t => t.Start());
            threads.ForEach(t => t.Join());

            Assert.True(won.Count(w => w) == 1, $"round {round}: {won.Count(w => w)} writers replaced the state they read");
            Assert.Equal($"/writer-{Array.IndexOf(won, true)}/", VerifyState.Parse(File.ReadAllText(path)).Source);
            Assert.False(File.Exists(path + ".lock"));
        }
    }

    [Fact]
    public async Task The_first_write_of_a_state_in_a_new_folder_creates_it_and_leaves_no_lock()
    {
        var path = Path.Combine(CliRunner.TempDir(), "monitor", "state.json");

        await new FileStateStore(path).SaveAsync(Empty, null, CancellationToken.None);

        Assert.Equal(Empty.Source, VerifyState.Parse(File.ReadAllText(path)).Source);
        Assert.Equal(["state.json"], Directory.EnumerateFileSystemEntries(Path.GetDirectoryName(path)!).Select(Path.GetFileName));
    }

    [Fact]
    public async Task A_live_runs_lock_is_waited_for_and_not_removed()
    {
        var path = Path.Combine(CliRunner.TempDir(), "state.json");
        var store = new FileStateStore(path);
        HoldLock(store.LockPath);

        var save = store.SaveAsync(Empty, null, CancellationToken.None);
        await Task.Delay(TimeSpan.FromMilliseconds(500));

        Assert.False(save.IsCompleted, "the write did not wait for the lock");
        Assert.False(File.Exists(path));
        Assert.Contains("held-by-the-test", File.ReadAllText(store.LockPath), StringComparison.Ordinal);
        File.Delete(store.LockPath);
        await save.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(Empty.Source, VerifyState.Parse(File.ReadAllText(path)).Source);
        Assert.False(File.Exists(store.LockPath));
    }

    [Fact]
    public async Task A_lock_that_never_ages_is_waited_for_only_so_long_and_left_in_place()
    {
        var path = Path.Combine(CliRunner.TempDir(), "state.json");
        var store = new FileStateStore(path, staleLockAfter: TimeSpan.FromSeconds(1));
        HoldLock(store.LockPath);
        // Written by a host whose clock is a day ahead: by its time alone it would never be stale.
        File.SetLastWriteTimeUtc(store.LockPath, DateTime.UtcNow.AddDays(1));

        var error = await Assert.ThrowsAsync<IntegrityInputException>(() => store.SaveAsync(Empty, null, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(20)));

        Assert.Contains("held for more than", error.Message, StringComparison.Ordinal);
        Assert.Contains(store.LockPath, error.Message, StringComparison.Ordinal);
        Assert.Contains("held-by-the-test", File.ReadAllText(store.LockPath), StringComparison.Ordinal);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public async Task Two_runs_at_once_advancing_the_same_chains_one_writes_the_other_exits_two_in_one_line()
    {
        var (corpus, keys) = await SampleAsync();
        var state = Path.Combine(CliRunner.TempDir(), "state.json");
        // Both runs read the (absent) state at their start; the lock keeps either from writing until both have.
        HoldLock(state + ".lock");

        var runs = Enumerable.Range(0, 2).Select(_ => Task.Run(() => CliRunner.RunAsync("verify", "--source", corpus, "--public-keys", keys, "--state", state))).ToList();
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.DoesNotContain(runs, r => r.IsCompleted);
        File.Delete(state + ".lock");
        var results = await Task.WhenAll(runs);

        Assert.Equal([0, 2], results.Select(r => r.ExitCode).Order());
        var lost = results.Single(r => r.ExitCode == 2);
        Assert.Single(lost.Err.Trim().Split('\n'));
        Assert.Contains("nothing written", lost.Err, StringComparison.Ordinal);
        Assert.Equal(6, VerifyState.Parse(File.ReadAllText(state)).Chains.Count);
        Assert.False(File.Exists(state + ".lock"));
    }

    [Fact]
    public async Task Two_shards_at_once_on_one_state_file_merge_their_chains()
    {
        var (corpus, keys) = await SampleAsync();
        var state = Path.Combine(CliRunner.TempDir(), "state.json");
        HoldLock(state + ".lock");

        var runs = Enumerable.Range(0, 2).Select(k => Task.Run(() => CliRunner.RunAsync("verify", "--source", corpus, "--public-keys", keys, "--state", state, "--shard", $"{k}/2"))).ToList();
        await Task.Delay(TimeSpan.FromSeconds(3));
        File.Delete(state + ".lock");
        var results = await Task.WhenAll(runs);

        Assert.All(results, r => Assert.True(r.ExitCode == 0, r.Err));
        Assert.Equal(6, VerifyState.Parse(File.ReadAllText(state)).Chains.Count);
        Assert.False(File.Exists(state + ".lock"));
    }

    [Fact]
    public async Task A_stale_lock_file_is_one_line_naming_it_exit_two_and_left_in_place()
    {
        var (corpus, keys) = await SampleAsync();
        var state = Path.Combine(CliRunner.TempDir(), "state.json");
        var lockPath = state + ".lock";
        File.WriteAllText(lockPath, "not ours");
        File.SetLastWriteTimeUtc(lockPath, DateTime.UtcNow.AddHours(-1));

        var result = await CliRunner.RunAsync("verify", "--source", corpus, "--public-keys", keys, "--state", state);

        Assert.Equal(2, result.ExitCode);
        Assert.Single(result.Err.Trim().Split('\n'));
        Assert.Contains(lockPath, result.Err, StringComparison.Ordinal);
        Assert.Contains("rm ", result.Err, StringComparison.Ordinal);
        Assert.Equal("not ours", File.ReadAllText(lockPath));
        Assert.False(File.Exists(state));
    }

    [Fact]
    public async Task A_lock_file_of_a_process_gone_from_this_host_is_reported_at_once()
    {
        var (corpus, keys) = await SampleAsync();
        var state = Path.Combine(CliRunner.TempDir(), "state.json");
        using var gone = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        await gone.WaitForExitAsync();
        HoldLock(state + ".lock", gone.Id);
        var before = File.ReadAllText(state + ".lock");

        var clock = Stopwatch.StartNew();
        var result = await CliRunner.RunAsync("verify", "--source", corpus, "--public-keys", keys, "--state", state);

        Assert.Equal(2, result.ExitCode);
        Assert.True(clock.Elapsed < FileStateStore.DefaultStaleLockAfter / 2, $"took {clock.Elapsed}");
        Assert.Single(result.Err.Trim().Split('\n'));
        Assert.Contains($"pid {gone.Id}", result.Err, StringComparison.Ordinal);
        Assert.Contains("no longer running", result.Err, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllText(state + ".lock"));
    }
}

using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using AuditInfra.Cli.Tests.Support;
using AuditInfra.Core.Integrity;

namespace AuditInfra.Cli.Tests.Integrity;

/// <summary>
/// <c>pull</c> and <c>sample</c> against hostile names: keys that climb out of the destination, links inside it,
/// and local evidence changed in place after a pull.
/// </summary>
public class PullSafetyTests
{
    private const string Log = "AWSLogs/o-a1b2c3d4e5/111111111111/CloudTrail/us-east-1/2026/11/20/111111111111_CloudTrail_us-east-1_20261120T0005Z_abc.json.gz";

    [Fact]
    public async Task Keys_that_would_land_outside_the_destination_are_rejected_each_named_and_the_rest_is_pulled()
    {
        var root = CliRunner.TempDir();
        var destination = Path.Combine(root, "a", "b", "copy");
        var hostile = new[]
        {
            "../../" + Log.Replace("abc", "up2", StringComparison.Ordinal),
            "x/../../../../" + Log.Replace("abc", "mid", StringComparison.Ordinal),
            "/" + Log.Replace("abc", "abs", StringComparison.Ordinal),
            "a\\b/" + Log.Replace("abc", "bsl", StringComparison.Ordinal),
            "x//" + Log.Replace("abc", "dbl", StringComparison.Ordinal),
            "./" + Log.Replace("abc", "dot", StringComparison.Ordinal),
        };
        var store = new MemoryStore([Log, .. hostile]);

        var report = await new CopyPuller(store, destination).PullAsync(new VerifyOptions());

        var written = Directory.EnumerateFiles(root, "*.json.gz", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(root, f).Replace('\\', '/')).ToList();
        Assert.Equal(["a/b/copy/" + Log], written);
        Assert.Equal(1, report.Downloaded);
        Assert.False(report.Complete);
        var rejected = JsonDocument.Parse(report.ToJson()).RootElement.GetProperty("rejected").EnumerateArray().Select(r => r.GetProperty("key").GetString()).ToList();
        Assert.Equal(hostile.Order(StringComparer.Ordinal), rejected);
    }

    [Fact]
    public async Task A_link_inside_the_destination_is_never_written_through()
    {
        var root = CliRunner.TempDir();
        var destination = Path.Combine(root, "copy");
        var elsewhere = Path.Combine(root, "elsewhere");
        Directory.CreateDirectory(destination);
        Directory.CreateDirectory(elsewhere);
        Directory.CreateSymbolicLink(Path.Combine(destination, "AWSLogs"), elsewhere);
        var fileLinkTarget = Path.Combine(root, "victim.txt");
        File.WriteAllText(fileLinkTarget, "not the tool's");
        var other = "p/" + Log;
        Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(destination, other))!);
        File.CreateSymbolicLink(Path.Combine(destination, other), fileLinkTarget);

        var report = await new CopyPuller(new MemoryStore([Log, other]), destination).PullAsync(new VerifyOptions());

        Assert.Empty(Directory.EnumerateFileSystemEntries(elsewhere));
        Assert.Equal("not the tool's", File.ReadAllText(fileLinkTarget));
        Assert.Equal(0, report.Downloaded);
        var rejected = JsonDocument.Parse(report.ToJson()).RootElement.GetProperty("rejected").EnumerateArray().ToList();
        Assert.Equal([Log, other], rejected.Select(r => r.GetProperty("key").GetString()).Order(StringComparer.Ordinal));
        Assert.All(rejected, r => Assert.Contains("link", r.GetProperty("message").GetString(), StringComparison.Ordinal));
    }

    [SkippableFact]
    public async Task Links_and_special_files_of_a_local_source_are_each_rejected_never_followed_nor_opened()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "a FIFO is made with mkfifo(3) and told apart with statx(2): Linux only");
        var dir = Path.Combine(CliRunner.TempDir(), "corpus");
        Assert.Equal(0, (await CliRunner.RunAsync("sample", "--out", dir, "--hours", "3", "--events-per-log", "2", "--no-restart", "--no-backfill")).ExitCode);
        var logs = Directory.EnumerateFiles(dir, "*_CloudTrail_*.json.gz", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
        var day = Path.GetDirectoryName(logs[0])!;
        var outside = Path.Combine(CliRunner.TempDir(), "outside.json.gz");
        File.Copy(logs[0], outside);
        var fileLink = Path.Combine(day, Path.GetFileName(logs[0]).Replace(".json.gz", "link.json.gz", StringComparison.Ordinal));
        File.CreateSymbolicLink(fileLink, outside);
        var loop = Path.Combine(day, "loop");
        Directory.CreateSymbolicLink(loop, ".");
        var fifo = Path.Combine(day, Path.GetFileName(logs[0]).Replace(".json.gz", "fifo.json.gz", StringComparison.Ordinal));
        Assert.True(MakeFifo(fifo, Convert.ToUInt32("600", 8)) == 0, $"mkfifo {fifo}");
        var copy = Path.Combine(CliRunner.TempDir(), "copy");

        var run = CliRunner.RunAsync("pull", "--source", dir, "--out", copy, "--json");
        Assert.True(await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(60))) == run, "pull did not finish: it opened the FIFO or walked the link loop");
        var result = await run;

        Assert.Equal(1, result.ExitCode);
        string Key(string path) => Path.GetRelativePath(dir, path).Replace('\\', '/');
        var rejected = JsonDocument.Parse(result.Out).RootElement.GetProperty("rejected").EnumerateArray()
            .Select(r => (Key: r.GetProperty("key").GetString(), Message: r.GetProperty("message").GetString()!)).ToList();
        Assert.Equal(new[] { Key(fileLink), Key(fifo), Key(loop) }.Order(StringComparer.Ordinal), rejected.Select(r => r.Key));
        Assert.Contains("symbolic link", rejected.Single(r => r.Key == Key(loop)).Message, StringComparison.Ordinal);
        Assert.Contains("FIFO", rejected.Single(r => r.Key == Key(fifo)).Message, StringComparison.Ordinal);
        Assert.Equal(logs.Count, Directory.EnumerateFiles(copy, "*_CloudTrail_*.json.gz", SearchOption.AllDirectories).Count());
        Assert.False(Path.Exists(Path.Combine(copy, Key(fileLink))));
        Assert.False(Path.Exists(Path.Combine(copy, Key(fifo))));
        File.Delete(fileLink);
        Directory.Delete(loop);
    }

    [Fact]
    public async Task A_same_size_change_to_a_pulled_log_or_signature_is_a_conflict_and_the_local_file_is_kept()
    {
        var dir = Path.Combine(CliRunner.TempDir(), "corpus");
        Assert.Equal(0, (await CliRunner.RunAsync("sample", "--out", dir, "--hours", "4", "--events-per-log", "2", "--no-restart", "--no-backfill")).ExitCode);
        var copy = Path.Combine(CliRunner.TempDir(), "copy");
        Assert.Equal(0, (await CliRunner.RunAsync("pull", dir, "--dest", copy)).ExitCode);
        var log = Directory.EnumerateFiles(copy, "*_CloudTrail_*.json.gz", SearchOption.AllDirectories).Order(StringComparer.Ordinal).First();
        var signature = Directory.EnumerateFiles(copy, "*.signature", SearchOption.AllDirectories).Order(StringComparer.Ordinal).First();
        var changedLog = File.ReadAllBytes(log);
        changedLog[^10] ^= 0x5a;
        File.WriteAllBytes(log, changedLog);
        var changedSignature = File.ReadAllText(signature).Trim();
        changedSignature = (changedSignature[0] == 'a' ? "b" : "a") + changedSignature[1..];
        File.WriteAllText(signature, changedSignature);

        var result = await CliRunner.RunAsync("pull", dir, "--dest", copy, "--json");

        Assert.True(result.ExitCode == 1, result.Out + result.Err);
        var conflicts = JsonDocument.Parse(result.Out).RootElement.GetProperty("conflicts").EnumerateArray().Select(c => c.GetProperty("key").GetString()).ToList();
        Assert.Contains(Path.GetRelativePath(copy, log).Replace('\\', '/'), conflicts);
        Assert.Contains(Path.GetRelativePath(copy, signature[..^".signature".Length]).Replace('\\', '/'), conflicts);
        Assert.Equal(changedLog, File.ReadAllBytes(log));
        Assert.Equal(changedSignature, File.ReadAllText(signature));
    }

    [Fact]
    public async Task A_fifo_in_place_of_a_pulled_log_or_signature_is_a_conflict_and_is_never_opened()
    {
        Assert.False(OperatingSystem.IsWindows(), "FIFOs are a Unix matter");
        var dir = Path.Combine(CliRunner.TempDir(), "corpus");
        Assert.Equal(0, (await CliRunner.RunAsync("sample", "--out", dir, "--hours", "3", "--events-per-log", "1", "--no-restart", "--no-backfill")).ExitCode);
        var copy = Path.Combine(CliRunner.TempDir(), "copy");
        Assert.Equal(0, (await CliRunner.RunAsync("pull", "--source", dir, "--out", copy)).ExitCode);
        var log = Directory.EnumerateFiles(copy, "*_CloudTrail_*.json.gz", SearchOption.AllDirectories).Order(StringComparer.Ordinal).First();
        var signature = Directory.EnumerateFiles(copy, "*.signature", SearchOption.AllDirectories).Order(StringComparer.Ordinal).First();
        foreach (var path in new[] { log, signature })
        {
            File.Delete(path);
            Assert.Equal(0, MakeFifo(path, Convert.ToUInt32("644", 8)));
        }

        // Without a manifest every file is compared with the source, as on a first pull into an existing copy.
        File.Delete(Path.Combine(copy, CopyPuller.ManifestFileName));
        var run = CliRunner.RunAsync("pull", "--source", dir, "--out", copy, "--json");
        var finished = await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(60)));

        Assert.True(finished == run, "pull blocked on a FIFO");
        var result = await run;
        Assert.True(result.ExitCode == 1, result.Out + result.Err);
        var conflicts = JsonDocument.Parse(result.Out).RootElement.GetProperty("conflicts").EnumerateArray().Select(c => c.GetProperty("key").GetString()).ToList();
        Assert.Contains(Path.GetRelativePath(copy, log).Replace('\\', '/'), conflicts);
        Assert.Contains(Path.GetRelativePath(copy, signature[..^".signature".Length]).Replace('\\', '/'), conflicts);
        Assert.Equal(0, new FileInfo(log).Length);
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "mkfifo", SetLastError = true)]
    private static extern int MakeFifo(string path, uint mode);

    [Theory]
    [InlineData("../../x")]
    [InlineData("/abs")]
    [InlineData("a/../../b")]
    [InlineData("a\\b")]
    public async Task Sample_refuses_a_key_prefix_that_leaves_out_and_writes_nothing(string prefix)
    {
        var root = CliRunner.TempDir();
        var output = Path.Combine(root, "deep", "down", "corpus");

        var result = await CliRunner.RunAsync("sample", "--out", output, "--hours", "3", "--events-per-log", "1", "--key-prefix", prefix);

        Assert.True(result.ExitCode == 2, result.Out + result.Err);
        Assert.Single(result.Err.Trim().Split('\n'));
        Assert.Contains("--key-prefix", result.Err, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories));
        Assert.False(Directory.Exists(Path.Combine("/", "abs", "AWSLogs")));
    }

    /// <summary>A bucket whose keys the test chooses, hostile ones included; every object is a small gzip.</summary>
    private sealed class MemoryStore(IEnumerable<string> keys) : IObjectStore
    {
        private static readonly byte[] Content = Encoding.UTF8.GetBytes("{\"Records\":[]}");

        public string Description => "memory://hostile";

        public string? Bucket => "hostile";

        public string Prefix => string.Empty;

        public bool IsLocal => false;

        public async IAsyncEnumerable<ObjectEntry> ListAsync(string subPrefix, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            foreach (var key in keys.Order(StringComparer.Ordinal))
            {
                yield return new ObjectEntry(key, Content.Length);
            }

            await Task.CompletedTask;
        }

        public async IAsyncEnumerable<string> ListFoldersAsync(string subPrefix, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            await Task.CompletedTask;
            yield break;
        }

        public Task<StoredObject> OpenAsync(string key, bool withSignature, CancellationToken cancellationToken) =>
            Task.FromResult(new StoredObject(new MemoryStream(Content), null));
    }
}

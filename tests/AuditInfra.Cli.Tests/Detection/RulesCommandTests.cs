using System.Text.Json.Nodes;
using AuditInfra.Cli.Tests.Support;

namespace AuditInfra.Cli.Tests.Detection;

public class RulesCommandTests
{
    private static string Sample(string pattern) => Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "samples"), pattern).Single();

    [Fact]
    public async Task Rules_test_flags_the_right_events_in_a_recorded_cloudtrail_file()
    {
        var result = await CliRunner.RunAsync("rules", "test", Sample("*.json.gz"), "--sample", "--json");
        Assert.Equal(1, result.ExitCode);
        var node = JsonNode.Parse(result.Out)!;
        Assert.Equal(6, (int)node["events"]!);
        var fired = node["detections"]!.AsArray().Select(d => ((string)d!["detection"]!, (int)d["index"]!)).ToArray();
        Assert.Equal(
            [("iam-policy-changes", 1), ("unauthorized-api-calls", 3), ("console-login-without-mfa", 4), ("cloudtrail-changes", 5), ("audit-trail-tampering", 5)],
            fired);
    }

    [Fact]
    public async Task Rules_test_fires_the_canary_and_the_tamper_routes_of_issue_19_on_recorded_envelopes()
    {
        var result = await CliRunner.RunAsync("rules", "test", Sample("canary-and-tamper-events.json"), "--sample", "--json");
        Assert.Equal(1, result.ExitCode);
        var node = JsonNode.Parse(result.Out)!;
        Assert.Equal(8, (int)node["events"]!);
        var fired = node["detections"]!.AsArray().Select(d => ((string)d!["detection"]!, (int)d["index"]!)).ToArray();
        Assert.Equal(
            [("detection-canary", 0), ("detection-forwarding-tampering", 1), ("detection-forwarding-tampering", 2), ("detection-forwarding-tampering", 3),
             ("detection-forwarding-tampering", 4), ("audit-trail-tampering", 5), ("audit-log-bucket-tampering", 7)],
            fired);
    }

    [Fact]
    public async Task Quiet_events_exit_0()
    {
        var result = await CliRunner.RunAsync("rules", "test", Sample("quiet-records.json"), "--sample");
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("2 events, 0 detection(s) fired", result.Out);
    }

    [Fact]
    public async Task A_bad_file_is_named_and_exits_2()
    {
        var dir = CliRunner.TempDir();
        var bad = Path.Combine(dir, "bad.json");
        await File.WriteAllTextAsync(bad, "{\"Records\": [1, 2]}");
        var result = await CliRunner.RunAsync("rules", "test", bad, "--sample");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"{bad}: item 0 is not a JSON object", result.Err);
    }

    private static byte[] GzipMember(ReadOnlySpan<byte> plain)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new System.IO.Compression.GZipStream(buffer, System.IO.Compression.CompressionLevel.Optimal, leaveOpen: true))
        {
            gzip.Write(plain);
        }

        return buffer.ToArray();
    }

    [Fact]
    public async Task A_recorded_file_rewritten_as_two_gzip_members_gives_the_same_result_and_trailing_bytes_are_named()
    {
        using var plain = new MemoryStream();
        using (var gzip = new System.IO.Compression.GZipStream(File.OpenRead(Sample("*.json.gz")), System.IO.Compression.CompressionMode.Decompress))
        {
            gzip.CopyTo(plain);
        }

        var bytes = plain.ToArray();
        var dir = CliRunner.TempDir();
        var twoMembers = Path.Combine(dir, "two-members.json.gz");
        await File.WriteAllBytesAsync(twoMembers, [.. GzipMember(bytes.AsSpan(0, bytes.Length / 2)), .. GzipMember(bytes.AsSpan(bytes.Length / 2))]);
        var trailing = Path.Combine(dir, "trailing.json.gz");
        await File.WriteAllBytesAsync(trailing, [.. GzipMember(bytes), .. "garbage"u8.ToArray()]);

        var original = await CliRunner.RunAsync("rules", "test", Sample("*.json.gz"), "--sample", "--json");
        var split = await CliRunner.RunAsync("rules", "test", twoMembers, "--sample", "--json");
        var appended = await CliRunner.RunAsync("rules", "test", trailing, "--sample");

        Assert.True(split.ExitCode == 1, split.Err);
        static string[] Fired(string json) => [.. JsonNode.Parse(json)!["detections"]!.AsArray().Select(d => $"{d!["detection"]} {d["index"]}")];
        Assert.Equal(Fired(original.Out), Fired(split.Out));
        Assert.Equal(6, (int)JsonNode.Parse(split.Out)!["events"]!);
        Assert.Equal(2, appended.ExitCode);
        Assert.Contains($"{trailing}: trailing bytes after the last gzip member: 7 bytes follow member 1", appended.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rules_list_prints_the_catalog_with_patterns()
    {
        var table = await CliRunner.RunAsync("rules", "list", "--sample");
        Assert.Equal(0, table.ExitCode);
        Assert.Contains("21 detections, catalog", table.Out);
        var json = JsonNode.Parse((await CliRunner.RunAsync("rules", "list", "--sample", "--json")).Out)!;
        var root = json["detections"]!.AsArray().Single(d => (string)d!["id"]! == "root-account-use")!;
        Assert.Equal("critical", (string?)root["severity"]);
        Assert.Equal("Root", (string?)root["pattern"]!["detail"]!["userIdentity"]!["type"]![0]);
    }

    [Fact]
    public async Task On_an_80_column_terminal_detection_ids_and_file_names_stay_whole()
    {
        var file = Sample("*.json.gz");
        var (code, output) = await TerminalOutput.RunAsync(80, "rules", "test", file, "--sample");
        Assert.Equal(1, code);
        TerminalOutput.AssertWhole(output, $"{Path.GetFileName(file)} #5", "console-login-without-mfa", "audit-trail-tampering");
    }
}

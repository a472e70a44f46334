using System.IO.Compression;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using AuditInfra.Cli.Tests.Support;
using AuditInfra.Core.Query;
using DuckDB.NET.Data;

namespace AuditInfra.Cli.Tests.Query;

/// <summary>`--ip` is a predicate of the SQL itself: the timeline, its limit and the summary all see only the block's callers.</summary>
public class QueryAddressFilterTests
{
    private const string Account = "333333333333";

    private static readonly string[] Addresses =
    [
        "10.0.0.1", "10.255.255.255", "9.255.255.255", "11.0.0.0", "198.51.100.9", "10.1.2.300", "010.1.2.3", "10.1.2", "1.2.3.4.5",
        "iam.amazonaws.com", "AWS Internal", "", "::1", "::", "2001:db8::1", "2001:DB8:0:0:0:0:0:ffff", "2001:db9::1", "2001:db8::1::2",
        "2001:db8:0:0:0:0:0:0:1", "fe80::1%eth0", "::ffff:10.1.2.3", "2001:0db8:85a3:0000:0000:8a2e:0370:7334", "12345::1", "2001:db8:::1",
    ];

    public static readonly TheoryData<string> Networks = new() { "10.0.0.0/8", "198.51.100.9/32", "0.0.0.0/0", "2001:db8::/32", "::/0", "::1/128", "2001:db8:85a3::/48" };

    /// <summary>Whether .NET, which parses the address, says it lies in the block; only the forms CloudTrail writes are parsed.</summary>
    private static bool Expected(IPNetwork network, string address) =>
        !address.Contains('%') && !address.Contains('.') == address.Contains(':') && IPAddress.TryParse(address, out var parsed)
        && (parsed.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork || address.Split('.') is { Length: 4 } octets && octets.All(o => o.Length == 1 || o[0] != '0'))
        && network.Contains(parsed);

    [Theory]
    [MemberData(nameof(Networks))]
    public void DuckDb_matches_exactly_the_addresses_in_the_block_and_never_errs_on_a_name(string cidr)
    {
        var network = IPNetwork.Parse(cidr);
        using var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        var values = string.Join(", ", Addresses.Select(a => $"({TimelineSql.Literal(a)})"));
        command.CommandText = $"SELECT source_ip FROM (VALUES {values}) AS t(source_ip) WHERE {QueryFilters.LocalAddressIn(network, "source_ip")} ORDER BY 1";
        var matched = new List<string>();
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                matched.Add(reader.GetString(0));
            }
        }

        Assert.Equal(Addresses.Where(a => Expected(network, a)).Order(StringComparer.Ordinal), matched.Order(StringComparer.Ordinal));
    }

    private static JsonObject Record(string time, string name, string address) => new()
    {
        ["eventVersion"] = "1.09",
        ["userIdentity"] = new JsonObject { ["type"] = "IAMUser", ["arn"] = $"arn:aws:iam::{Account}:user/u-{name}", ["accountId"] = Account },
        ["eventTime"] = time,
        ["eventSource"] = "iam.amazonaws.com",
        ["eventName"] = name,
        ["awsRegion"] = "us-east-1",
        ["sourceIPAddress"] = address,
        ["requestID"] = $"req-{name}",
        ["eventID"] = $"00000000-0000-0000-0000-{name.Length:x12}{name}"[..36],
        ["eventType"] = "AwsApiCall",
        ["recipientAccountId"] = Account,
    };

    internal static string Corpus(params JsonObject[] records)
    {
        var root = CliRunner.TempDir();
        var dir = Path.Combine(root, "AWSLogs", "o-a1b2c3d4e5", Account, "CloudTrail", "us-east-1", "2026", "11", "20");
        Directory.CreateDirectory(dir);
        using var gz = new GZipStream(File.Create(Path.Combine(dir, $"{Account}_CloudTrail_us-east-1_20261120T1000Z_a1b2c3d4e5f6g7h8.json.gz")), CompressionLevel.Fastest);
        gz.Write(Encoding.UTF8.GetBytes(new JsonObject { ["Records"] = new JsonArray([.. records]) }.ToJsonString()));
        return root;
    }

    private static string MixedCorpus() => Corpus(
        Record("2026-11-20T09:00:00Z", "A", "10.1.2.3"),
        Record("2026-11-20T09:01:00Z", "B", "iam.amazonaws.com"),
        Record("2026-11-20T09:02:00Z", "C", "198.51.100.9"),
        Record("2026-11-20T09:03:00Z", "D", "10.9.9.9"),
        Record("2026-11-20T09:04:00Z", "E", "2001:db8::7"),
        Record("2026-11-20T09:05:00Z", "F", "10.1.2.3"));

    [Fact]
    public async Task The_timeline_and_its_limit_hold_exactly_the_callers_in_the_block()
    {
        var corpus = MixedCorpus();
        var result = await CliRunner.RunAsync("query", "--source", corpus, "--account", Account, "--start", "2026-11-20", "--ip", "10.0.0.0/8", "--format", "json");
        Assert.True(result.ExitCode == 0, result.Err);
        Assert.Equal(["A", "D", "F"], JsonNode.Parse(result.Out)!.AsArray().Select(r => (string)r!["event_name"]!).ToArray());

        // The limit counts rows in the block, not rows before the filter.
        var limited = await CliRunner.RunAsync("query", "--source", corpus, "--account", Account, "--start", "2026-11-20", "--ip", "10.0.0.0/8", "--limit", "2", "--format", "json");
        Assert.Equal(["A", "D"], JsonNode.Parse(limited.Out)!.AsArray().Select(r => (string)r!["event_name"]!).ToArray());

        var v6 = await CliRunner.RunAsync("query", "--source", corpus, "--account", Account, "--start", "2026-11-20", "--ip", "2001:db8::/32", "--format", "json");
        Assert.Equal(["E"], JsonNode.Parse(v6.Out)!.AsArray().Select(r => (string)r!["event_name"]!).ToArray());
    }

    [Fact]
    public async Task The_summary_counts_only_the_callers_in_the_block()
    {
        var result = await CliRunner.RunAsync("query", "--source", MixedCorpus(), "--account", Account, "--start", "2026-11-20", "--ip", "10.0.0.0/8", "--summary", "--format", "json");
        Assert.True(result.ExitCode == 0, result.Err);
        var summary = JsonNode.Parse(result.Out)!;
        var bySource = summary["source_ip"]!.AsArray().Select(r => ((string)r!["value"]!, (long)r["events"]!)).ToArray();
        Assert.Equal([("10.1.2.3", 2L), ("10.9.9.9", 1L)], bySource);
        Assert.Equal(3, summary["event_name"]!.AsArray().Sum(r => (long)r!["events"]!));
    }
}

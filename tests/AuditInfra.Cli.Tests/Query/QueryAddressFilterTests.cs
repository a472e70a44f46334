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
        "iam.amazonaws.com", "cloudtrail.amazonaws.com", "AWS Internal", "", "::1", "::", "2001:db8::1", "2001:DB8:0:0:0:0:0:ffff", "2001:db9::1",
        "2001:db8::1::2", "2001:db8:0:0:0:0:0:0:1", "2001:0db8:85a3:0000:0000:8a2e:0370:7334", "12345::1", "2001:db8:::1",
        // IPv4-mapped IPv6 addresses are their IPv4 addresses, however written; IPv4-compatible and other embedded forms are IPv6.
        "::ffff:10.1.2.3", "::FFFF:10.1.2.3", "0:0:0:0:0:ffff:10.1.2.3", "::ffff:a01:203", "::ffff:9.255.255.255", "::ffff:198.51.100.9",
        "::ffff:010.1.2.3", "::ffff:10.1.2.300", "::ffff:10.1.2", "::10.1.2.3", "2001:db8::10.1.2.3", "1:2:3:4:5:6:7:10.1.2.3",
        // A zone names the link, not the address; only an IPv6 address has one.
        "fe80::1%eth0", "FE80::1%ETH0", "fe80::1%", "2001:DB8::1%2", "10.0.0.1%eth0", "fe80::1%a%b",
    ];

    public static readonly TheoryData<string> Networks = new()
    {
        "10.0.0.0/8", "198.51.100.9/32", "0.0.0.0/0", "2001:db8::/32", "::/0", "::1/128", "2001:db8:85a3::/48", "fe80::/10",
        "::ffff:10.0.0.0/104", "::ffff:198.51.100.9/128", "::ffff:0:0/96", "::/96",
    };

    /// <summary>
    /// The address as CloudTrail and Athena read the text, parsed by .NET: four decimal octets without leading zeros
    /// (.NET also reads 10.1.2 and octal 010.1.2.3), any zone left out, an IPv4-mapped address as its IPv4 address.
    /// </summary>
    private static IPAddress? Parsed(string text)
    {
        if (text.IndexOf('%') is var zone and >= 0 && text[..zone].Contains(':'))
        {
            text = text[..zone];
        }

        var dotted = text[(text.LastIndexOf(':') + 1)..];
        if (!text.Contains(':') && !text.Contains('.') || dotted.Contains('.') && !(dotted.Split('.') is { Length: 4 } octets && octets.All(o => o.Length == 1 || o[0] != '0')))
        {
            return null;
        }

        return IPAddress.TryParse(text, out var parsed) ? parsed.IsIPv4MappedToIPv6 ? parsed.MapToIPv4() : parsed : null;
    }

    /// <summary>Whether .NET says the address lies in the block, a mapped block being its IPv4 block.</summary>
    private static bool Expected(IPNetwork network, string address)
    {
        if (network.BaseAddress.IsIPv4MappedToIPv6)
        {
            network = new IPNetwork(network.BaseAddress.MapToIPv4(), network.PrefixLength - 96);
        }

        return Parsed(address) is { } parsed && network.Contains(parsed);
    }

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

    /// <summary>Callers as CloudTrail can write them: plain and IPv4-mapped, upper and lower case, with a zone, and services.</summary>
    private static string WrittenFormsCorpus() => Corpus(
        Record("2026-11-20T09:00:00Z", "A", "203.0.113.5"),
        Record("2026-11-20T09:01:00Z", "B", "::ffff:203.0.113.5"),
        Record("2026-11-20T09:02:00Z", "C", "::FFFF:203.0.113.9"),
        Record("2026-11-20T09:03:00Z", "D", "cloudtrail.amazonaws.com"),
        Record("2026-11-20T09:04:00Z", "E", "AWS Internal"),
        Record("2026-11-20T09:05:00Z", "F", "203.0.114.1"),
        Record("2026-11-20T09:06:00Z", "G", "FE80::1%ETH0"),
        Record("2026-11-20T09:07:00Z", "H", "2001:DB8::7"),
        Record("2026-11-20T09:08:00Z", "I", "0:0:0:0:0:FFFF:CB00:7105"));

    public static readonly TheoryData<string, string[]> WrittenForms = new()
    {
        { "203.0.113.0/24", ["A", "B", "C", "I"] },
        { "203.0.113.5", ["A", "B", "I"] },
        { "203.0.113.5/32", ["A", "B", "I"] },
        { "::ffff:203.0.113.5", ["A", "B", "I"] },
        { "::FFFF:cb00:7105", ["A", "B", "I"] },
        { "::ffff:203.0.113.0/120", ["A", "B", "C", "I"] },
        { "0.0.0.0/0", ["A", "B", "C", "F", "I"] },
        { "fe80::/10", ["G"] },
        { "fe80::1", ["G"] },
        { "2001:db8::/32", ["H"] },
        { "::/0", ["G", "H"] },
        { "198.51.100.0/24", [] },
    };

    [Theory]
    [MemberData(nameof(WrittenForms))]
    public async Task A_mapped_address_is_its_IPv4_address_both_ways_and_a_service_never_matches(string ip, string[] expected)
    {
        var result = await CliRunner.RunAsync("query", "--source", WrittenFormsCorpus(), "--account", Account, "--start", "2026-11-20", "--ip", ip, "--format", "json");
        Assert.True(result.ExitCode == 0, result.Err);
        Assert.Equal("", result.Err);
        Assert.Equal(expected, JsonNode.Parse(result.Out)!.AsArray().Select(r => (string)r!["event_name"]!).ToArray());
    }

    [Theory]
    [InlineData("::ffff:203.0.113.0/120", "contains('203.0.113.0/24', ")]
    [InlineData("::ffff:203.0.113.5", "contains('203.0.113.5/32', ")]
    [InlineData("203.0.113.5", "contains('203.0.113.5/32', ")]
    [InlineData("2001:DB8::/32", "contains('2001:db8::/32', ")]
    public async Task Athena_is_given_the_block_as_its_contains_reads_it(string ip, string expected)
    {
        // Athena keeps an IPv4 address (plain or mapped) as its IPv4 address in `contains`, and refuses a prefix past 32 on
        // an IPv4 block: a mapped block is given as its IPv4 block. The record's zone is left out before the cast.
        var result = await CliRunner.RunAsync("query", "--athena", "--account", Account, "--start", "2026-11-20", "--ip", ip);
        Assert.True(result.ExitCode == 0, result.Err);
        Assert.Contains(expected + @"TRY_CAST(regexp_replace(sourceipaddress, '\A([^%]*:[^%]*)%[\s\S]*\z', '$1') AS IPADDRESS))", result.Out);
    }

    [Theory]
    [InlineData("300.1.1.1")]
    [InlineData("::g")]
    [InlineData("10.0.0.0/33")]
    [InlineData("::/129")]
    [InlineData("10.1.2.3/8")]
    [InlineData("010.0.0.0/8")]
    [InlineData("0x0a.0.0.0/8")]
    [InlineData("10.1")]
    [InlineData("1/32")]
    [InlineData("10.0.0.0/08")]
    [InlineData("10.0.0.0/")]
    [InlineData("/8")]
    [InlineData("10.0.0.0/8/8")]
    [InlineData("fe80::%eth0/64")]
    [InlineData(" 10.0.0.0/8")]
    [InlineData("iam.amazonaws.com")]
    [InlineData("")]
    public async Task A_malformed_block_is_one_line_naming_ip(string ip)
    {
        foreach (var source in new[] { new[] { "--source", MixedCorpus() }, ["--athena"] })
        {
            var result = await CliRunner.RunAsync(["query", .. source, "--account", Account, "--start", "2026-11-20", "--ip", ip]);
            Assert.Equal(2, result.ExitCode);
            Assert.Equal("", result.Out);
            var line = Assert.Single(result.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.StartsWith("--ip: ", line);
            Assert.Contains(ip, line);
        }
    }
}

using System.Net;
using AuditInfra.Core.Query;

namespace AuditInfra.Core.Tests.Query;

/// <summary>Every option of the question filters the local SQL and the Athena SQL alike, timeline and summary.</summary>
public class QueryFilterParityTests
{
    private static readonly TimelineQuery Bare = new("333333333333", new DateOnly(2026, 11, 20), new DateOnly(2026, 11, 21), [], null, [], [], ErrorsOnly: false, Limit: null);

    /// <summary>Each option, the question with it set, and the predicate each engine must then apply.</summary>
    public static readonly TheoryData<string, string, string> Options = new()
    {
        { "Account", "account = '333333333333'", "account = '333333333333'" },
        { "From", "event_time >= '2026-11-20'", "eventtime >= '2026-11-20'" },
        { "To", "left(event_time, 10) <= '2026-11-21'", "substr(eventtime, 1, 10) <= '2026-11-21'" },
        { "Regions", "region IN ('eu-west-1', 'us-east-1')", "region IN ('eu-west-1', 'us-east-1')" },
        { "Principal", "(principal_arn ILIKE '%Deployer%' OR session_issuer ILIKE '%Deployer%')", "(lower(useridentity.arn) LIKE '%deployer%' OR lower(useridentity.sessioncontext.sessionissuer.arn) LIKE '%deployer%')" },
        { "EventNames", "event_name IN ('ConsoleLogin')", "eventname IN ('ConsoleLogin')" },
        { "EventSources", "event_source IN ('iam.amazonaws.com')", "eventsource IN ('iam.amazonaws.com')" },
        { "ErrorsOnly", "error_code IS NOT NULL", "errorcode IS NOT NULL" },
        { "SourceNetwork", "BETWEEN '40a000000' AND '40affffff'", "contains('10.0.0.0/8', TRY_CAST(regexp_replace(sourceipaddress, '\\A([^%]*:[^%]*)%[\\s\\S]*\\z', '$1') AS IPADDRESS))" },
        { "Limit", "LIMIT 7", "LIMIT 7" },
    };

    private static TimelineQuery With(string option) => option switch
    {
        "Account" or "From" or "To" => Bare,
        "Regions" => Bare with { Regions = ["eu-west-1", "us-east-1"] },
        "Principal" => Bare with { Principal = "Deployer" },
        "EventNames" => Bare with { EventNames = ["ConsoleLogin"] },
        "EventSources" => Bare with { EventSources = ["iam.amazonaws.com"] },
        "ErrorsOnly" => Bare with { ErrorsOnly = true },
        "SourceNetwork" => Bare with { SourceNetwork = IPNetwork.Parse("10.0.0.0/8") },
        "Limit" => Bare with { Limit = 7 },
        _ => throw new ArgumentException($"no question for option {option}"),
    };

    [Theory]
    [MemberData(nameof(Options))]
    public void Both_generators_apply_the_option(string option, string local, string athena)
    {
        var question = With(option);
        Assert.Contains(local, TimelineSql.Timeline(question));
        Assert.Contains(athena, AthenaSql.Timeline(question, "db", "cloudtrail"));
        var sqlViews = string.Join("\n", TimelineSql.FilterViews(question, sourced: false).Concat(TimelineSql.FilterViews(question, sourced: true)));
        if (option is "Limit")
        {
            // A summary counts every matching row: the limit is the timeline's only. With --sql it caps the answer's rows
            // (QueryCommand), never the rows the user's SQL reads.
            Assert.DoesNotContain("LIMIT", TimelineSql.Summary(question, "source_ip"));
            Assert.DoesNotContain("LIMIT", AthenaSql.Summary(question, "source_ip", "db", "cloudtrail"));
            Assert.DoesNotContain("LIMIT", sqlViews);
            return;
        }

        // The views a user's --sql reads hold only the rows the option selects.
        Assert.Contains(local, sqlViews);

        Assert.Contains(local, TimelineSql.Summary(question, "source_ip"));
        Assert.Contains(athena, AthenaSql.Summary(question, "source_ip", "db", "cloudtrail"));
        if (option is not ("Account" or "From" or "To"))
        {
            // Without the option, neither engine filters on it.
            Assert.DoesNotContain(local, TimelineSql.Timeline(Bare));
            Assert.DoesNotContain(athena, AthenaSql.Timeline(Bare, "db", "cloudtrail"));
        }
    }

    [Fact]
    public void Every_property_of_the_question_is_in_the_table()
    {
        // A new filter added to the question without a row here (and so without both predicates) fails this test.
        var covered = Options.Select(row => (string)row[0]).ToHashSet();
        var properties = typeof(TimelineQuery).GetProperties().Where(p => p.Name != "EqualityContract").Select(p => p.Name).ToHashSet();
        Assert.Equal(properties.Order(), covered.Order());
    }

    [Fact]
    public void Every_filter_is_one_predicate_in_each_engine()
    {
        var all = Bare with { Regions = ["us-east-1"], Principal = "x", EventNames = ["A"], EventSources = ["s"], ErrorsOnly = true, SourceNetwork = IPNetwork.Parse("2001:db8::/32") };
        var predicates = QueryFilters.For(all);
        Assert.Equal(["--account", "--start", "--end", "--region", "--principal", "--event-name", "--event-source", "--errors-only", "--ip"], predicates.Select(p => p.Option).ToArray());
        var local = TimelineSql.Timeline(all);
        var athena = AthenaSql.Timeline(all, "db", "cloudtrail");
        Assert.All(predicates, p => Assert.Contains(p.Local, local));
        Assert.All(predicates, p => Assert.Contains(p.Athena, athena));
        Assert.Contains("BETWEEN '620010db8000000000000000000000000' AND '620010db8ffffffffffffffffffffffff'", local);
        Assert.Contains("contains('2001:db8::/32', TRY_CAST(regexp_replace(sourceipaddress, '\\A([^%]*:[^%]*)%[\\s\\S]*\\z', '$1') AS IPADDRESS))", athena);
        foreach (var sourced in new[] { false, true })
        {
            var views = TimelineSql.FilterViews(all, sourced);
            Assert.All(predicates, p => Assert.Contains(p.Local, views[^1]));
        }
    }

    [Fact]
    public void The_views_of_user_sql_keep_their_names_over_the_rows_as_read()
    {
        var question = Bare with { EventNames = ["ConsoleLogin"] };
        Assert.Equal(
            ["ALTER VIEW cloudtrail RENAME TO cloudtrail_unfiltered", $"CREATE VIEW cloudtrail AS SELECT * FROM cloudtrail_unfiltered WHERE {string.Join(" AND ", QueryFilters.For(question).Select(p => p.Local))}"],
            TimelineSql.FilterViews(question, sourced: false));
        Assert.Equal(
            ["ALTER VIEW cloudtrail_sources RENAME TO cloudtrail_sources_unfiltered", $"CREATE VIEW cloudtrail_sources AS SELECT * FROM cloudtrail_sources_unfiltered WHERE {string.Join(" AND ", QueryFilters.For(question).Select(p => p.Local))}"],
            TimelineSql.FilterViews(question, sourced: true));
    }

    [Theory]
    [InlineData("::ffff:10.0.0.0/104", "10.0.0.0/8")]
    [InlineData("::ffff:198.51.100.9/128", "198.51.100.9/32")]
    [InlineData("::ffff:0:0/96", "0.0.0.0/0")]
    public void A_mapped_block_is_its_IPv4_block_in_both_engines(string mapped, string ipv4)
    {
        var fromMapped = QueryFilters.For(Bare with { SourceNetwork = IPNetwork.Parse(mapped) }).Single(p => p.Option == "--ip");
        var fromIpv4 = QueryFilters.For(Bare with { SourceNetwork = IPNetwork.Parse(ipv4) }).Single(p => p.Option == "--ip");
        Assert.Equal(fromIpv4, fromMapped);
        Assert.Contains($"contains('{ipv4}', ", fromMapped.Athena);
    }
}

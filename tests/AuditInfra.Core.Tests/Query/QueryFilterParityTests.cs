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
        { "SourceNetwork", "BETWEEN 167772160 AND 184549375", "contains('10.0.0.0/8', TRY_CAST(sourceipaddress AS IPADDRESS))" },
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
        if (option is "Limit")
        {
            // A summary counts every matching row: the limit is the timeline's only.
            Assert.DoesNotContain("LIMIT", TimelineSql.Summary(question, "source_ip"));
            Assert.DoesNotContain("LIMIT", AthenaSql.Summary(question, "source_ip", "db", "cloudtrail"));
            return;
        }

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
        Assert.Contains("BETWEEN '20010db8000000000000000000000000' AND '20010db8ffffffffffffffffffffffff'", local);
        Assert.Contains("contains('2001:db8::/32', TRY_CAST(sourceipaddress AS IPADDRESS))", athena);
    }
}

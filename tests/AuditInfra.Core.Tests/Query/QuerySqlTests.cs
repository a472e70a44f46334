using System.Text.RegularExpressions;
using AuditInfra.Core.Query;

namespace AuditInfra.Core.Tests.Query;

public class QuerySqlTests
{
    private static readonly TimelineQuery Question = new("333333333333", new DateOnly(2026, 11, 20), new DateOnly(2026, 11, 21), ["us-east-1"], "O'Brien", ["ConsoleLogin"], [], ErrorsOnly: true, Limit: 50);

    [Fact]
    public void Athena_sql_for_the_question_is_exactly_this()
    {
        Assert.Equal(
            """
            SELECT eventtime AS event_time, useridentity.type AS principal_type, useridentity.arn AS principal_arn, useridentity.sessioncontext.sessionissuer.arn AS session_issuer, useridentity.sessioncontext.attributes.mfaauthenticated AS mfa, sourceipaddress AS source_ip, eventsource AS event_source, eventname AS event_name, errorcode AS error_code, nullif(array_join(transform(resources, r -> r.arn), ' '), '') AS resources, requestid AS request_id
            FROM "auditinfra"."cloudtrail"
            WHERE date BETWEEN '2026/11/20' AND '2026/11/21'
              AND account = '333333333333'
              AND eventtime >= '2026-11-20'
              AND substr(eventtime, 1, 10) <= '2026-11-21'
              AND region IN ('us-east-1')
              AND (lower(useridentity.arn) LIKE '%o''brien%' OR lower(useridentity.sessioncontext.sessionissuer.arn) LIKE '%o''brien%')
              AND eventname IN ('ConsoleLogin')
              AND errorcode IS NOT NULL
            ORDER BY eventtime, eventid
            LIMIT 50
            """.Replace("\r", ""),
            AthenaSql.Timeline(Question, "auditinfra", "cloudtrail"));
    }

    [Fact]
    public void Local_and_athena_answers_have_the_same_columns_in_the_same_order()
    {
        var athena = Regex.Matches(AthenaSql.Timeline(Question, "db", "t").Split('\n')[0], @" AS (\w+)").Select(m => m.Groups[1].Value).ToArray();
        var local = TimelineSql.Timeline(Question)["SELECT ".Length..TimelineSql.Timeline(Question).IndexOf(" FROM", StringComparison.Ordinal)].Split(", ");
        Assert.Equal(local, athena);
        Assert.Equal(CloudTrailColumns.Timeline.ToArray(), local);
    }

    [Fact]
    public void Quotes_in_user_text_never_escape_the_literal()
    {
        Assert.Equal("'it''s'", TimelineSql.Literal("it's"));
        Assert.Contains("ILIKE '%O''Brien%'", TimelineSql.Timeline(Question));
    }

    [Theory]
    [InlineData("203.0.113.5", "203.0.113.5/32")]
    [InlineData("10.0.0.0/8", "10.0.0.0/8")]
    [InlineData("0.0.0.0/0", "0.0.0.0/0")]
    [InlineData("2001:DB8::1", "2001:db8::1/128")]
    [InlineData("2001:db8::/32", "2001:db8::/32")]
    [InlineData("::ffff:203.0.113.0/120", "::ffff:203.0.113.0/120")]
    public void An_ip_is_an_address_or_a_block(string text, string block)
    {
        Assert.True(QueryFilters.TryParseNetwork(text, out var network, out var error), error);
        Assert.Equal(block, network.ToString());
    }

    [Theory]
    [InlineData("10.1.2.3/8", "--ip: 10.1.2.3/8 has bits set past its /8 prefix: the block is 10.0.0.0/8")]
    [InlineData("10.0.0.0/33", "--ip: the prefix /33 is longer than an IPv4 address (32 bits) (found \"10.0.0.0/33\")")]
    [InlineData("::/129", "--ip: the prefix /129 is longer than an IPv6 address (128 bits) (found \"::/129\")")]
    [InlineData("300.1.1.1", "--ip: expected an address or CIDR block such as 203.0.113.5, 10.0.0.0/8 or 2001:db8::/32 (found \"300.1.1.1\")")]
    [InlineData("::ffff:010.1.2.3", "--ip: expected an address or CIDR block such as 203.0.113.5, 10.0.0.0/8 or 2001:db8::/32 (found \"::ffff:010.1.2.3\")")]
    [InlineData("10.0.0.0/8\n", "--ip: expected an address or CIDR block such as 203.0.113.5, 10.0.0.0/8 or 2001:db8::/32 (found \"10.0.0.0/8\\n\")")]
    public void A_malformed_ip_says_what_is_wrong(string text, string message)
    {
        Assert.False(QueryFilters.TryParseNetwork(text, out _, out var error));
        Assert.Equal(message, error);
    }
}

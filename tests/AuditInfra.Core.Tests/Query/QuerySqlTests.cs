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
}

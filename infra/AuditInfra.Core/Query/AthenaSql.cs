using System.Globalization;
using System.Text;

namespace AuditInfra.Core.Query;

/// <summary>
/// The same question for Athena over the whole bucket: the table's projected partitions
/// (account, region, date as yyyy/MM/dd) restrict the scan to the asked days, and the select list
/// comes from <see cref="CloudTrailColumns"/>, so local and Athena answers have the same columns.
/// </summary>
public static class AthenaSql
{
    public static string Timeline(TimelineQuery q, string database, string table)
    {
        var columns = CloudTrailColumns.Timeline.Select(name => name == "resources"
            ? "array_join(transform(resources, r -> r.arn), ' ') AS resources"
            : $"{CloudTrailColumns.Named(name).AthenaExpression} AS {name}");
        var sql = new StringBuilder("SELECT ").Append(string.Join(", ", columns))
            .Append($"\nFROM \"{database}\".\"{table}\"")
            .Append($"\nWHERE account = {TimelineSql.Literal(q.Account)}")
            .Append($"\n  AND date BETWEEN {TimelineSql.Literal(Day(q.From))} AND {TimelineSql.Literal(Day(q.To))}");
        if (q.Regions.Count > 0)
        {
            sql.Append("\n  AND region IN (").Append(string.Join(", ", q.Regions.Select(TimelineSql.Literal))).Append(')');
        }

        if (q.Principal is { Length: > 0 } principal)
        {
            var like = TimelineSql.Literal($"%{principal.ToLowerInvariant()}%");
            sql.Append($"\n  AND (lower(useridentity.arn) LIKE {like} OR lower(useridentity.sessioncontext.sessionissuer.arn) LIKE {like})");
        }

        if (q.EventNames.Count > 0)
        {
            sql.Append("\n  AND eventname IN (").Append(string.Join(", ", q.EventNames.Select(TimelineSql.Literal))).Append(')');
        }

        if (q.EventSources.Count > 0)
        {
            sql.Append("\n  AND eventsource IN (").Append(string.Join(", ", q.EventSources.Select(TimelineSql.Literal))).Append(')');
        }

        if (q.ErrorsOnly)
        {
            sql.Append("\n  AND errorcode IS NOT NULL");
        }

        sql.Append("\nORDER BY eventtime, eventid");
        if (q.Limit is { } limit)
        {
            sql.Append("\nLIMIT ").Append(limit.ToString(CultureInfo.InvariantCulture));
        }

        return sql.ToString();
    }

    private static string Day(DateOnly day) => day.ToString("yyyy/MM/dd", CultureInfo.InvariantCulture);
}

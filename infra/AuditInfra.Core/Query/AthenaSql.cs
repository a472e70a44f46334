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
        // An empty list of resources is NULL, as in the local view, not an empty string.
        var columns = CloudTrailColumns.Timeline.Select(name => name == "resources"
            ? "nullif(array_join(transform(resources, r -> r.arn), ' '), '') AS resources"
            : $"{CloudTrailColumns.Named(name).AthenaExpression} AS {name}");
        var sql = new StringBuilder("SELECT ").Append(string.Join(", ", columns))
            .Append($"\nFROM \"{database}\".\"{table}\"")
            .Append($"\nWHERE date BETWEEN {TimelineSql.Literal(Day(q.From))} AND {TimelineSql.Literal(Day(q.To))}");
        foreach (var predicate in QueryFilters.For(q))
        {
            sql.Append("\n  AND ").Append(predicate.Athena);
        }

        sql.Append("\nORDER BY eventtime, eventid");
        if (q.Limit is { } limit)
        {
            sql.Append("\nLIMIT ").Append(limit.ToString(CultureInfo.InvariantCulture));
        }

        return sql.ToString();
    }

    /// <summary>Counts by one of the timeline's columns over its rows, as <see cref="TimelineSql.Summary"/> counts locally.</summary>
    public static string Summary(TimelineQuery q, string dimension, string database, string table) =>
        $"SELECT {dimension} AS value, count(*) AS events\nFROM ({Timeline(q with { Limit = null }, database, table)})\nGROUP BY 1\nORDER BY 2 DESC, 1";

    private static string Day(DateOnly day) => day.ToString("yyyy/MM/dd", CultureInfo.InvariantCulture);
}

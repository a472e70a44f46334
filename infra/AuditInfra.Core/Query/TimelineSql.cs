using System.Text;

namespace AuditInfra.Core.Query;

/// <summary>The question "what happened in account X on date Y", with its filters.</summary>
public sealed record TimelineQuery(
    string Account,
    DateOnly From,
    DateOnly To,
    IReadOnlyList<string> Regions,
    string? Principal,
    IReadOnlyList<string> EventNames,
    IReadOnlyList<string> EventSources,
    bool ErrorsOnly,
    int? Limit);

/// <summary>SQL for DuckDB over the selected files: the `cloudtrail` view, the timeline, the summary.</summary>
public static class TimelineSql
{
    /// <summary>The view over Parquet files that hold <see cref="ViewRows"/> already (the query cache).</summary>
    public static string CreateViewOverParquet(IEnumerable<string> files) =>
        $"CREATE OR REPLACE VIEW cloudtrail AS SELECT * FROM read_parquet([{string.Join(", ", files.Select(Literal))}])";

    /// <summary>The rows of the view, from log files: what a cache file stores.</summary>
    public static string ViewRows(IEnumerable<string> files) =>
        CreateView(files)["CREATE OR REPLACE VIEW cloudtrail AS\n".Length..];

    /// <summary>The view every query reads: one row per record, the shared columns plus the raw record.</summary>
    public static string CreateView(IEnumerable<string> files)
    {
        var list = string.Join(", ", files.Select(Literal));
        var columns = string.Join(",\n  ", CloudTrailColumns.All.Select(c => $"json_extract_string(r, {Literal(c.JsonPath)}) AS {c.Name}"));
        return $"""
            CREATE OR REPLACE VIEW cloudtrail AS
            SELECT
              {columns},
              (SELECT string_agg(json_extract_string(x, '$.ARN'), ' ') FROM unnest(CAST(json_extract(r, '$.resources') AS JSON[])) AS t(x)) AS resources,
              r AS raw
            FROM (SELECT unnest(Records) AS r FROM read_json([{list}], columns = {"{"}Records: 'JSON[]'{"}"}, format = 'auto', compression = 'gzip'))
            """;
    }

    public static string Timeline(TimelineQuery q)
    {
        var sql = new StringBuilder("SELECT ").Append(string.Join(", ", CloudTrailColumns.Timeline)).Append(" FROM cloudtrail");
        sql.Append(" WHERE account = ").Append(Literal(q.Account));
        sql.Append(" AND event_time >= ").Append(Literal(q.From.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture)));
        sql.Append(" AND event_time < ").Append(Literal(q.To.AddDays(1).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture)));
        if (q.Regions.Count > 0)
        {
            sql.Append(" AND region IN (").Append(string.Join(", ", q.Regions.Select(Literal))).Append(')');
        }

        if (q.Principal is { Length: > 0 } principal)
        {
            var like = Literal($"%{principal}%");
            sql.Append($" AND (principal_arn ILIKE {like} OR session_issuer ILIKE {like})");
        }

        if (q.EventNames.Count > 0)
        {
            sql.Append(" AND event_name IN (").Append(string.Join(", ", q.EventNames.Select(Literal))).Append(')');
        }

        if (q.EventSources.Count > 0)
        {
            sql.Append(" AND event_source IN (").Append(string.Join(", ", q.EventSources.Select(Literal))).Append(')');
        }

        if (q.ErrorsOnly)
        {
            sql.Append(" AND error_code IS NOT NULL");
        }

        return sql.Append(" ORDER BY event_time, event_id").ToString();
    }

    /// <summary>Counts by principal, event, error and address over the timeline's rows.</summary>
    public static string Summary(TimelineQuery q, string dimension) =>
        $"SELECT {dimension} AS value, count(*) AS events FROM ({Timeline(q with { Limit = null })}) GROUP BY 1 ORDER BY 2 DESC, 1";

    /// <summary>A SQL string literal: quotes doubled, nothing interpolated raw.</summary>
    public static string Literal(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";
}

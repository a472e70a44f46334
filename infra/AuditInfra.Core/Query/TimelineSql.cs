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
    int? Limit)
{
    /// <summary>Only callers whose source address lies in this block (--ip); a service name never does.</summary>
    public System.Net.IPNetwork? SourceNetwork { get; init; }
}

/// <summary>SQL for DuckDB over the selected files: the `cloudtrail` view, the timeline, the summary.</summary>
public static class TimelineSql
{
    /// <summary>
    /// The largest CloudTrail log file (inflated) a query reads. One log file is one JSON document,
    /// and real ones reach hundreds of MB (DuckDB's default limit, 16 MB, refused valid files);
    /// DuckDB holds a document whole, so a hostile file is bounded by this.
    /// </summary>
    public const long MaximumLogFileBytes = 1L << 30;

    /// <summary>DuckDB's own default <c>maximum_object_size</c>, kept when every file is smaller.</summary>
    public const long DefaultObjectBytes = 16L << 20;

    /// <summary>The view over Parquet files that hold <see cref="ViewRows"/> already (the query cache).</summary>
    public static string CreateViewOverParquet(IEnumerable<string> files) =>
        $"CREATE OR REPLACE VIEW cloudtrail AS SELECT * FROM read_parquet([{string.Join(", ", files.Select(Literal))}])";

    /// <summary>The rows of the view, from log files: what a cache file stores.</summary>
    public static string ViewRows(IEnumerable<string> files, long maximumObjectBytes = DefaultObjectBytes) =>
        CreateView(files, maximumObjectBytes)["CREATE OR REPLACE VIEW cloudtrail AS\n".Length..];

    /// <summary>The view every query reads: one row per record, the shared columns plus the raw record.</summary>
    /// <remarks>
    /// <paramref name="maximumObjectBytes"/> must hold the largest file inflated: DuckDB sizes its
    /// read buffers from it (twice the size, per reading thread), so it is chosen per query from
    /// the files rather than set once to the bound.
    /// </remarks>
    public static string CreateView(IEnumerable<string> files, long maximumObjectBytes = DefaultObjectBytes) =>
        $"""
            CREATE OR REPLACE VIEW cloudtrail AS
            SELECT
              {ViewColumns()}
            FROM (SELECT unnest(Records) AS r FROM {ReadLogs(files, maximumObjectBytes)})
            """;

    /// <summary>The view's columns, from a record <c>r</c>.</summary>
    private static string ViewColumns() =>
        string.Join(",\n  ", CloudTrailColumns.All.Select((c, i) => $"{RecordFields}[{i + 1}] AS {c.Name}"))
        + ",\n  list_aggr(json_extract_string(r, '$.resources[*].ARN'), 'string_agg', ' ') AS resources,\n  r AS raw";

    /// <summary>
    /// Every column's field of a record <c>r</c>, as one list that <see cref="ViewColumns"/> takes apart. Written alike in
    /// each column, it is one expression to DuckDB, evaluated once per record: one parse of the record for all the
    /// columns, where a <c>json_extract_string</c> per column parsed each record once per column, most of a query's CPU.
    /// </summary>
    private static readonly string RecordFields =
        $"json_extract_string(r, [{string.Join(", ", CloudTrailColumns.All.Select(c => Literal(c.JsonPath)))}])";

    /// <summary>
    /// The column of <see cref="SourcedView"/> that names the log each row came from: its object key in the bucket.
    /// Not in <c>cloudtrail</c>, so a query's columns are the same from a bucket and from a local copy.
    /// </summary>
    public const string SourceKeyColumn = "log_key";

    /// <summary>The view of a bucket's rows: every column of <c>cloudtrail</c> plus <see cref="SourceKeyColumn"/>.</summary>
    public const string SourcedView = "cloudtrail_sources";

    /// <summary>
    /// The table under <see cref="SourcedView"/>: every column of <c>cloudtrail</c>, computed from each record as a local
    /// copy's view computes them, and <see cref="SourceKeyColumn"/>.
    /// </summary>
    public const string RecordsTable = "cloudtrail_records";

    /// <summary>The log files' documents, one row per file: its <c>Records</c> (null when it has none) and its path.</summary>
    public static string RecordsWithFileName(IEnumerable<string> files, long maximumObjectBytes = DefaultObjectBytes) =>
        $"SELECT Records, filename FROM {ReadLogs(files, maximumObjectBytes, withFileName: true)}";

    /// <summary>
    /// The records of a relation of <see cref="RecordsWithFileName"/> rows whose files were fetched under
    /// <paramref name="folder"/> (each at its object key below it), each with <see cref="SourceKeyColumn"/>: that key.
    /// </summary>
    public static string RecordsWithSource(string relation, string folder) =>
        $"SELECT unnest(Records) AS r, {KeyUnder(folder)} AS {SourceKeyColumn} FROM {relation}";

    /// <summary>A read file's key: its path below <paramref name="folder"/>, where it was fetched at its key.</summary>
    private static string KeyUnder(string folder) =>
        $"substr(filename, length({Literal(Path.TrimEndingDirectorySeparator(folder) + "/")}) + 1)";

    /// <summary>
    /// The rows of <see cref="SourcedView"/> from a relation of <see cref="RecordsWithFileName"/> rows whose files are
    /// under <paramref name="folder"/>: the columns of <c>cloudtrail</c> and <see cref="SourceKeyColumn"/>.
    /// </summary>
    public static string SourcedRows(string relation, string folder) => ColumnsOf(RecordsWithSource(relation, folder));

    /// <summary>The columns of <c>cloudtrail</c> and <see cref="SourceKeyColumn"/> (and <paramref name="more"/>) of records <c>r</c>.</summary>
    private static string ColumnsOf(string records, string? more = null) =>
        $"""
            SELECT
              {ViewColumns()},
              {SourceKeyColumn}{(more is null ? "" : ",\n  " + more)}
            FROM ({records})
            """;

    /// <summary>
    /// The column of <see cref="RecordsTable"/> that marks a log file read without a <c>Records</c> list: such a day is
    /// read again through a local copy's checks, so no marked row is ever kept.
    /// </summary>
    public const string MissingRecordsColumn = "missing_records";

    /// <summary>
    /// The rows of <see cref="RecordsTable"/> read straight from log files fetched under <paramref name="folder"/>, in one
    /// pass: the columns of <c>cloudtrail</c>, computed with the very expressions of a local copy's view as each batch of a
    /// bucket's logs is read (while later ones download, so the answer at the end only filters and sorts),
    /// <see cref="SourceKeyColumn"/>, and for a file without a <c>Records</c> list one row marked
    /// <see cref="MissingRecordsColumn"/>.
    /// </summary>
    public static string StagedRows(IEnumerable<string> files, string folder, long maximumObjectBytes = DefaultObjectBytes) =>
        ColumnsOf(
            $"SELECT unnest(coalesce(Records, [NULL::JSON])) AS r, Records IS NULL AS {MissingRecordsColumn}, {KeyUnder(folder)} AS {SourceKeyColumn} FROM {ReadLogs(files, maximumObjectBytes, withFileName: true)}",
            MissingRecordsColumn);

    /// <summary>The views over <see cref="RecordsTable"/>: <see cref="SourcedView"/>, and <c>cloudtrail</c> with exactly a local copy's columns.</summary>
    public static string CreateViewsOverRecords() =>
        $"""
            CREATE OR REPLACE VIEW {SourcedView} AS SELECT * EXCLUDE ({MissingRecordsColumn}) FROM {RecordsTable};
            CREATE OR REPLACE VIEW cloudtrail AS SELECT * EXCLUDE ({SourceKeyColumn}) FROM {SourcedView}
            """;

    /// <summary>
    /// The views over log files of a local copy under <paramref name="folder"/> with each row's key, as a bucket's rows
    /// have it: <see cref="SourcedView"/>, and <c>cloudtrail</c> with exactly the columns it has without them.
    /// </summary>
    public static string CreateViewsWithSource(IEnumerable<string> files, string folder, long maximumObjectBytes = DefaultObjectBytes) =>
        $"""
            CREATE OR REPLACE VIEW {SourcedView} AS
            {SourcedRows($"({RecordsWithFileName(files, maximumObjectBytes)})", folder)};
            CREATE OR REPLACE VIEW cloudtrail AS SELECT * EXCLUDE ({SourceKeyColumn}) FROM {SourcedView}
            """;

    /// <summary>
    /// The files among these that hold no <c>Records</c> list: not CloudTrail log files, though
    /// their JSON parses. Read in the same pass that proves every file parses.
    /// </summary>
    public static string FilesWithoutRecords(IEnumerable<string> files, long maximumObjectBytes = DefaultObjectBytes) =>
        $"SELECT DISTINCT filename FROM {ReadLogs(files, maximumObjectBytes, withFileName: true)} WHERE Records IS NULL ORDER BY 1";

    private const string RecordsStructure = """{"Records": "JSON[]"}""";

    /// <summary>
    /// The log files' documents as a relation of <c>Records</c> (a list of JSON records; null when the document has no
    /// <c>Records</c> list) and, when asked, <c>filename</c>. Each document is read as JSON and its <c>Records</c> taken
    /// out of it (half the CPU of having the reader convert every document to a typed column); a document with a
    /// repeated key, which different readers would read differently, is refused as malformed, as that reader refused it.
    /// </summary>
    private static string ReadLogs(IEnumerable<string> files, long maximumObjectBytes, bool withFileName = false) =>
        $"""
            (SELECT
              CASE WHEN coalesce(len(json_keys(json)) = len(list_distinct(json_keys(json))), true)
                THEN from_json(json, {Literal(RecordsStructure)}).Records
                ELSE error('a JSON object with a repeated key') END AS Records{(withFileName ? ", filename" : "")}
            FROM read_json_objects([{string.Join(", ", files.Select(Literal))}], format = 'auto', compression = 'gzip', maximum_object_size = {Math.Clamp(maximumObjectBytes, DefaultObjectBytes, MaximumLogFileBytes)}{(withFileName ? ", filename = true" : "")}))
            """;

    /// <summary>The timeline; with <paramref name="withSourceKey"/> each row ends with the key of its log (read from <see cref="SourcedView"/>).</summary>
    public static string Timeline(TimelineQuery q, bool withSourceKey = false)
    {
        var sql = new StringBuilder("SELECT ").Append(string.Join(", ", CloudTrailColumns.Timeline)).Append(withSourceKey ? $", {SourceKeyColumn} FROM {SourcedView}" : " FROM cloudtrail");
        sql.Append(" WHERE ").Append(string.Join(" AND ", QueryFilters.For(q).Select(p => p.Local)));
        sql.Append(" ORDER BY event_time, event_id");
        if (q.Limit is { } limit)
        {
            sql.Append(" LIMIT ").Append(limit.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        return sql.ToString();
    }

    /// <summary>
    /// The statements that make the view a user's --sql reads answer the question: it keeps its name and columns and holds
    /// only the rows every filter selects (the same predicates as <see cref="Timeline"/>), so that SQL of any shape sees the
    /// rows the timeline would; the view as read stays under <c>{view}_unfiltered</c>. <paramref name="sourced"/>: the
    /// rows are read through <see cref="SourcedView"/>, which <c>cloudtrail</c> selects from, so filtering it filters both.
    /// </summary>
    /// <remarks>
    /// Not in the view: the limit, which is the answer's (at most so many rows of the user's SQL), not the relation's.
    /// </remarks>
    public static IReadOnlyList<string> FilterViews(TimelineQuery q, bool sourced)
    {
        var view = sourced ? SourcedView : "cloudtrail";
        return
        [
            $"ALTER VIEW {view} RENAME TO {view}_unfiltered",
            $"CREATE VIEW {view} AS SELECT * FROM {view}_unfiltered WHERE {string.Join(" AND ", QueryFilters.For(q).Select(p => p.Local))}",
        ];
    }

    /// <summary>Counts by principal, event, error and address over the timeline's rows.</summary>
    public static string Summary(TimelineQuery q, string dimension) =>
        $"SELECT {dimension} AS value, count(*) AS events FROM ({Timeline(q with { Limit = null })}) GROUP BY 1 ORDER BY 2 DESC, 1";

    /// <summary>The keys of the logs the timeline's rows come from (read from <see cref="SourcedView"/>), before --limit.</summary>
    public static string TimelineSourceKeys(TimelineQuery q) =>
        $"SELECT DISTINCT {SourceKeyColumn} FROM ({Timeline(q with { Limit = null }, withSourceKey: true)}) ORDER BY 1";

    /// <summary>
    /// The summary with each count split by the integrity of the files its events come from, as the table
    /// <c>log_integrity(log_key, integrity)</c> gives it; a log it does not name counts as unverifiable.
    /// </summary>
    public static string SummaryWithIntegrity(TimelineQuery q, string dimension) =>
        $"""
        SELECT t.{dimension} AS value, count(*) AS events,
          count(*) FILTER (WHERE i.integrity = 'verified') AS verified,
          count(*) FILTER (WHERE i.integrity IS NULL OR i.integrity = 'unverifiable') AS unverifiable,
          count(*) FILTER (WHERE i.integrity = 'TAMPERED') AS tampered
        FROM ({Timeline(q with { Limit = null }, withSourceKey: true)}) t LEFT JOIN log_integrity i ON t.{SourceKeyColumn} = i.{SourceKeyColumn}
        GROUP BY 1 ORDER BY 2 DESC, 1
        """;

    /// <summary>A SQL string literal: quotes doubled, nothing interpolated raw.</summary>
    public static string Literal(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";
}

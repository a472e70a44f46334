using System.Data.Common;
using AuditInfra.Core.Query;
using DuckDB.NET.Data;

namespace AuditInfra.Cli.Query;

public sealed record QueryResult(IReadOnlyList<string> Columns, IReadOnlyList<string?[]> Rows);

/// <summary>
/// Runs the timeline over the selected files in an in-memory DuckDB: its JSON reader parses and
/// decompresses, SQL filters. A file DuckDB cannot read is named; it is skipped only when asked.
/// </summary>
public sealed class DuckDbTimeline : IDisposable
{
    private readonly DuckDBConnection _connection;

    private DuckDbTimeline(DuckDBConnection connection) => _connection = connection;

    /// <summary>Opens DuckDB over the files; returns the files it had to skip (only with skipBad).</summary>
    public static (DuckDbTimeline Timeline, IReadOnlyList<(string File, string Error)> Skipped) Open(IReadOnlyList<string> files, bool skipBad)
    {
        var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        var timeline = new DuckDbTimeline(connection);
        var readable = files.ToList();
        var skipped = new List<(string, string)>();
        try
        {
            timeline.Execute("SET memory_limit = '1GB'; SET threads = 2;");
            timeline.Execute(TimelineSql.CreateView(readable));
            timeline.Execute("SELECT count(*) FROM cloudtrail");
        }
        catch (DbException)
        {
            // Find which files fail, one by one, so the message can name them.
            foreach (var file in files)
            {
                try
                {
                    timeline.Execute(TimelineSql.CreateView([file]));
                    timeline.Execute("SELECT count(*) FROM cloudtrail");
                }
                catch (DbException ex)
                {
                    skipped.Add((file, FirstLine(ex.Message)));
                }
            }

            if (skipped.Count == 0 || !skipBad)
            {
                timeline.Dispose();
                throw new QueryInputException(skipped.Count == 0
                    ? "the selected logs could not be read"
                    : string.Join(Environment.NewLine, skipped.Select(s => $"{s.Item1}: malformed or truncated CloudTrail log ({s.Item2}); rerun with --skip-bad to leave it out")));
            }

            readable = [.. files.Except(skipped.Select(s => s.Item1))];
            if (readable.Count == 0)
            {
                timeline.Dispose();
                throw new QueryInputException("every selected log file is malformed or truncated:" + Environment.NewLine + string.Join(Environment.NewLine, skipped.Select(s => $"{s.Item1}: {s.Item2}")));
            }

            timeline.Execute(TimelineSql.CreateView(readable));
        }

        return (timeline, skipped);
    }

    /// <summary>
    /// The query cache: each account/region/day is compacted to Parquet under
    /// <c>.auditinfra-cache</c> beside the source, keyed by a manifest of its log files (names and
    /// sizes) so a day that changed is rebuilt; written to a temp file and renamed into place.
    /// Returns the Parquet files to read instead of the logs.
    /// </summary>
    public static IReadOnlyList<string> Cache(string source, IReadOnlyList<string> files)
    {
        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        var cached = new List<string>();
        foreach (var day in files.GroupBy(f => Path.GetDirectoryName(f)!))
        {
            var dayFiles = day.Order(StringComparer.Ordinal).ToList();
            var relative = Path.GetRelativePath(source, day.Key);
            var target = Path.Combine(source, CorpusSelector.CacheFolder, relative + ".parquet");
            var manifest = string.Join("\n", dayFiles.Select(f => $"{Path.GetFileName(f)} {new FileInfo(f).Length}"));
            var manifestPath = target + ".manifest";
            if (!File.Exists(target) || !File.Exists(manifestPath) || File.ReadAllText(manifestPath) != manifest)
            {
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                var temp = $"{target}.{Guid.NewGuid():n}.tmp";
                using (var command = connection.CreateCommand())
                {
                    command.CommandText = $"COPY ({TimelineSql.ViewRows(dayFiles)}) TO {TimelineSql.Literal(temp)} (FORMAT PARQUET)";
                    command.ExecuteNonQuery();
                }

                File.Move(temp, target, overwrite: true);
                File.WriteAllText(manifestPath, manifest);
            }

            cached.Add(target);
        }

        return cached;
    }

    /// <summary>Opens DuckDB over cache files made by <see cref="Cache"/>.</summary>
    public static DuckDbTimeline OpenParquet(IReadOnlyList<string> parquetFiles)
    {
        var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        var timeline = new DuckDbTimeline(connection);
        timeline.Execute(TimelineSql.CreateViewOverParquet(parquetFiles));
        return timeline;
    }

    public QueryResult Run(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var columns = Enumerable.Range(0, reader.FieldCount).Select(reader.GetName).ToList();
        var rows = new List<string?[]>();
        while (reader.Read())
        {
            var row = new string?[reader.FieldCount];
            for (var i = 0; i < row.Length; i++)
            {
                row[i] = reader.IsDBNull(i) ? null : Convert.ToString(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture);
            }

            rows.Add(row);
        }

        return new QueryResult(columns, rows);
    }

    public void Dispose() => _connection.Dispose();

    private void Execute(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static string FirstLine(string text) => text.Split('\n')[0].Trim();
}

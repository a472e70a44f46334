using System.Data.Common;
using System.IO.Compression;
using AuditInfra.Core.Query;
using DuckDB.NET.Data;

namespace AuditInfra.Cli.Query;

/// <summary>The time limit of a query (--timeout) ran out: DuckDB was interrupted, nothing was printed.</summary>
public sealed class QueryTimeoutException() : Exception("the query ran out of time");

/// <summary>Rows as DuckDB typed them, so JSON can keep numbers as numbers.</summary>
public sealed record QueryResult(IReadOnlyList<string> Columns, IReadOnlyList<object?[]> Rows);

/// <summary>
/// Runs the timeline over the selected files in an in-memory DuckDB: its JSON reader parses and
/// decompresses, SQL filters. A file DuckDB cannot read is named; it is skipped only when asked.
/// </summary>
public sealed class DuckDbTimeline : IDisposable
{
    private readonly DuckDBConnection _connection;

    private const string NoRecords = "not a CloudTrail log file (its JSON holds no Records list)";

    private readonly long _maximumObjectBytes;

    private readonly CancellationToken _deadline;

    private string? _ownedFolder;

    /// <summary>The temporary folder this timeline deletes when disposed, if any.</summary>
    internal string? OwnedFolder => _ownedFolder;

    /// <summary>Each file's inflated size as <see cref="Open"/> counted it, so a cache build need not inflate the files again.</summary>
    public IReadOnlyDictionary<string, long> InflatedSizes { get; private init; } = new Dictionary<string, long>();

    private DuckDbTimeline(DuckDBConnection connection, CancellationToken deadline, long maximumObjectBytes = TimelineSql.DefaultObjectBytes)
    {
        _connection = connection;
        _deadline = deadline;
        _maximumObjectBytes = maximumObjectBytes;
    }

    /// <summary>Opens DuckDB over the files; returns the files it had to skip (only with skipBad), each with what is wrong with it.</summary>
    /// <param name="noneReadableIsError">
    /// Whether a selection of which no file is readable is an error; a bucket is read one day at a time, and a day
    /// whose every file was skipped is then no more an error than it is within a range of a local copy.
    /// </param>
    /// <param name="keysUnder">
    /// A local copy's root: the view <see cref="TimelineSql.SourcedView"/> then names each row's log by its key under it,
    /// as a bucket's rows are named (`query --verify` marks rows by it).
    /// </param>
    public static (DuckDbTimeline Timeline, IReadOnlyList<(string File, string Error)> Skipped) Open(IReadOnlyList<string> files, bool skipBad, CancellationToken deadline = default, bool noneReadableIsError = true, string? keysUnder = null)
    {
        var skipped = new List<(string, string)>();
        foreach (var file in files)
        {
            if (NotARegularLogFile(file) is { } reason)
            {
                skipped.Add((file, reason));
            }
        }

        files = [.. files.Except(skipped.Select(s => s.Item1))];
        var inflated = files.ToDictionary(f => f, f => InflatedSize(f, deadline));
        foreach (var (file, size) in inflated.Where(x => x.Value > TimelineSql.MaximumLogFileBytes))
        {
            skipped.Add((file, $"inflates to more than the {TimelineSql.MaximumLogFileBytes >> 20} MiB query reads from one log file"));
        }

        files = [.. files.Where(f => inflated[f] <= TimelineSql.MaximumLogFileBytes)];
        var maximumObject = ObjectSizeFor(files.Select(f => inflated[f]));
        var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        var timeline = new DuckDbTimeline(connection, deadline, maximumObject) { InflatedSizes = inflated };
        var readable = files.ToList();
        var oversized = skipped.Count;

        // DuckDB buffers twice the object size per reading thread; the limit leaves room for the rest.
        timeline.Execute($"SET memory_limit = '{Math.Max(1024, (4 * maximumObject >> 20) + 512)}MB'; SET threads = 2;");
        try
        {
            // One read proves every file parses and finds those without a Records list.
            if (files.Count > 0)
            {
                skipped.AddRange(timeline.FilesWithoutRecords(files).Select(f => (f, NoRecords)));
            }
        }
        catch (DbException)
        {
            // Find which files fail, one by one, so the message can name them.
            foreach (var file in files)
            {
                try
                {
                    skipped.AddRange(timeline.FilesWithoutRecords([file]).Select(f => (f, NoRecords)));
                }
                catch (DbException ex)
                {
                    skipped.Add((file, $"malformed or truncated CloudTrail log ({FirstLine(ex.Message)})"));
                }
            }

            if (skipped.Count == oversized)
            {
                timeline.Dispose();
                throw new QueryInputException("the selected logs could not be read");
            }
        }

        if (skipped.Count > 0)
        {
            if (!skipBad)
            {
                timeline.Dispose();
                throw new QueryInputException(string.Join(Environment.NewLine, skipped.Select(s => $"{s.Item1}: {s.Item2}; rerun with --skip-bad to leave it out")));
            }

            readable = [.. readable.Except(skipped.Select(s => s.Item1))];
            if (readable.Count == 0 && !noneReadableIsError)
            {
                return (timeline, skipped);
            }

            if (readable.Count == 0)
            {
                timeline.Dispose();
                throw new QueryInputException("no selected log file could be read:" + Environment.NewLine + string.Join(Environment.NewLine, skipped.Select(s => $"{s.Item1}: {s.Item2}")));
            }
        }

        timeline.Execute(keysUnder is null ? TimelineSql.CreateView(readable, maximumObject) : TimelineSql.CreateViewsWithSource(readable, keysUnder, maximumObject));
        return (timeline, skipped);
    }

    /// <summary>
    /// The query cache: each account/region/day is compacted to Parquet under
    /// <c>.auditinfra-cache</c> beside the source, keyed by a manifest of its log files (names and
    /// sizes) so a day that changed is rebuilt; written to a temp file and renamed into place.
    /// Returns the Parquet files to read instead of the logs.
    /// </summary>
    public static IReadOnlyList<string> Cache(string source, IReadOnlyList<string> files, IReadOnlyDictionary<string, long> inflatedSizes, CancellationToken deadline = default)
    {
        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        var cached = new List<string>();
        foreach (var day in files.GroupBy(f => Path.GetDirectoryName(f)!))
        {
            var dayFiles = day.Order(StringComparer.Ordinal).ToList();
            var relative = Path.GetRelativePath(source, day.Key);
            var target = Path.Combine(source, CorpusSelector.CacheFolder, relative + ".parquet");
            // Size alone misses a same-size rewrite; the modification time catches any ordinary rewrite (proving
            // the files unaltered is verify's work, not the cache's).
            var manifest = string.Join("\n", dayFiles.Select(f => new FileInfo(f)).Select(f => $"{f.Name} {f.Length} {f.LastWriteTimeUtc.Ticks}"));
            var manifestPath = target + ".manifest";
            if (!File.Exists(target) || !File.Exists(manifestPath) || AuditInfra.Core.InputFile.ReadAllText(manifestPath) != manifest)
            {
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                var temp = $"{target}.{Guid.NewGuid():n}.tmp";
                using (var command = connection.CreateCommand())
                {
                    command.CommandText = $"COPY ({TimelineSql.ViewRows(dayFiles, ObjectSizeFor(dayFiles.Select(f => inflatedSizes.TryGetValue(f, out var size) ? size : InflatedSize(f, deadline))))}) TO {TimelineSql.Literal(temp)} (FORMAT PARQUET)";
                    try
                    {
                        Bounded(command, deadline, command.ExecuteNonQuery);
                    }
                    catch (QueryTimeoutException)
                    {
                        File.Delete(temp);
                        throw;
                    }
                }

                File.Move(temp, target, overwrite: true);
                AuditInfra.Core.AtomicFile.WriteAllText(manifestPath, manifest);
            }

            cached.Add(target);
        }

        return cached;
    }

    /// <summary>
    /// A timeline built one day at a time from a bucket's logs (<see cref="TryStageSourced"/>): each record as read,
    /// with the key of its log, in a table that DuckDB spills to the temporary folder past its memory limit, so memory
    /// holds about a day, not the range. The columns are computed at query time from the records, as over a local
    /// copy's files. <paramref name="ownedFolder"/>, the temporary folder, is deleted with the timeline.
    /// </summary>
    public static DuckDbTimeline CreateSourced(CancellationToken deadline, string ownedFolder)
    {
        var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        var timeline = new DuckDbTimeline(connection, deadline) { _ownedFolder = ownedFolder };
        timeline.Execute($"SET temp_directory = {TimelineSql.Literal(Path.Combine(ownedFolder, "spill"))}");
        return timeline;
    }

    /// <summary>Whether any day's rows were appended (an empty table has no columns to query).</summary>
    public bool HasSourcedRows { get; private set; }

    /// <summary>
    /// Reads log files of one day, fetched under <paramref name="folder"/> at their keys, into the day's staged rows
    /// (each record with its key), reading every file once; batches of a day are staged in key order as they arrive,
    /// and <see cref="CommitStagedSourced"/> adds the day to the timeline. Returns false, having staged nothing of these
    /// files, when any needs what <see cref="Open"/> does with such files (too large, too small, not whole gzip, not
    /// parsable, no Records list): the caller then drops the day's staged rows (<see cref="DropStagedSourced"/>), opens
    /// the day with <see cref="Open"/>, which names them and, when asked, leaves them out, and stages the rest.
    /// </summary>
    /// <param name="inflatedSizes">Each file's inflated size as counted while it was fetched, or -1 where it could not be.</param>
    public bool TryStageSourced(IReadOnlyList<string> files, IReadOnlyDictionary<string, long> inflatedSizes, string folder)
    {
        if (files.Any(f => !inflatedSizes.TryGetValue(f, out var size) || size is < 0 or > TimelineSql.MaximumLogFileBytes || NotARegularLogFile(f) is not null))
        {
            return false;
        }

        var maximumObject = ObjectSizeFor(files.Select(f => inflatedSizes[f]));
        // One thread: a day's batches are read while the rest of it downloads, which needs the other core; two threads
        // cost more CPU in contention than they saved, here and (measured too) for the answer that follows.
        Execute($"SET memory_limit = '{Math.Max(1024, (4 * maximumObject >> 20) + 512)}MB'; SET threads = 1;");
        var rows = TimelineSql.StagedRows(files, folder, maximumObject);
        try
        {
            // One pass over the files: a file without a Records list leaves a marked row, which StagedFileWithoutRecords finds.
            Execute(_hasStagedRows ? $"INSERT INTO {StagedRecordsTable} {rows}" : $"CREATE TABLE {StagedRecordsTable} AS {rows}");
        }
        catch (DbException)
        {
            return false;
        }

        _hasStagedRows = true;
        return true;
    }

    /// <summary>
    /// Whether a file read into the day's staged rows had no <c>Records</c> list: the day then goes through
    /// <see cref="Open"/>'s checks, which name it, and its staged rows are dropped.
    /// </summary>
    public bool StagedFileWithoutRecords() =>
        _hasStagedRows && Convert.ToInt64(Run($"SELECT count(*) FROM {StagedRecordsTable} WHERE {TimelineSql.MissingRecordsColumn}").Rows[0][0], System.Globalization.CultureInfo.InvariantCulture) > 0;

    /// <summary>
    /// Reads one small log of our own through <see cref="TryStageSourced"/> and forgets it: DuckDB's JSON reader and these
    /// statements pay their first-use costs here, where the caller can overlap them with other waiting, and nothing of
    /// it stays in the timeline. <paramref name="folder"/> is created and deleted.
    /// </summary>
    internal void WarmUp(string folder)
    {
        Directory.CreateDirectory(folder);
        try
        {
            var file = Path.Combine(folder, "warm-up.json.gz");
            var document = System.Text.Encoding.UTF8.GetBytes("""{"Records":[{"eventTime":"2000-01-01T00:00:00Z","eventName":"WarmUp","userIdentity":{"type":"AWSService"},"resources":[{"ARN":"arn:aws:s3:::warm-up"}]}]}""");
            using (var gzip = new GZipStream(File.Create(file), CompressionLevel.Fastest))
            {
                gzip.Write(document);
            }

            TryStageSourced([file], new Dictionary<string, long> { [file] = document.Length }, folder);
        }
        finally
        {
            DropStagedSourced();
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>Adds the day's staged rows to the timeline, after those of the days before it.</summary>
    public void CommitStagedSourced()
    {
        if (!_hasStagedRows)
        {
            return;
        }

        // The first day's table becomes the timeline's as it is, without a copy.
        Execute(HasSourcedRows
            ? $"INSERT INTO {TimelineSql.RecordsTable} SELECT * FROM {StagedRecordsTable}; DROP TABLE {StagedRecordsTable}"
            : $"ALTER TABLE {StagedRecordsTable} RENAME TO {TimelineSql.RecordsTable}");
        _hasStagedRows = false;
        HasSourcedRows = true;
    }

    /// <summary>Forgets the day's staged rows (the day is then read through <see cref="Open"/>'s checks).</summary>
    public void DropStagedSourced()
    {
        Execute($"DROP TABLE IF EXISTS {StagedRecordsTable}");
        _hasStagedRows = false;
    }

    private const string StagedRecordsTable = "staged_records";

    private bool _hasStagedRows;

    /// <summary>After the last day: the view <c>cloudtrail</c> over the appended rows, with a local copy's columns.</summary>
    public void SealSourced() => Execute(TimelineSql.CreateViewsOverRecords());

    /// <summary>Opens DuckDB over cache files made by <see cref="Cache"/>.</summary>
    public static DuckDbTimeline OpenParquet(IReadOnlyList<string> parquetFiles, CancellationToken deadline = default)
    {
        var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        var timeline = new DuckDbTimeline(connection, deadline);
        timeline.Execute(TimelineSql.CreateViewOverParquet(parquetFiles));
        return timeline;
    }

    public QueryResult Run(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        return Bounded(command, _deadline, () =>
        {
            using var reader = command.ExecuteReader();
            var columns = Enumerable.Range(0, reader.FieldCount).Select(reader.GetName).ToList();
            var rows = new List<object?[]>();
            while (reader.Read())
            {
                var row = new object?[reader.FieldCount];
                for (var i = 0; i < row.Length; i++)
                {
                    row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
                }

                rows.Add(row);
            }

            return new QueryResult(columns, rows);
        });
    }

    /// <summary>
    /// Runs a DuckDB command that the deadline interrupts (DuckDBCommand.Cancel is duckdb_interrupt): a
    /// query over a large copy, or a costly --sql, must not run unbounded.
    /// </summary>
    private static T Bounded<T>(DuckDBCommand command, CancellationToken deadline, Func<T> run)
    {
        if (deadline.IsCancellationRequested)
        {
            throw new QueryTimeoutException();
        }

        using var interrupt = deadline.Register(command.Cancel);
        try
        {
            return run();
        }
        catch (Exception ex) when (ex is DbException or OperationCanceledException && deadline.IsCancellationRequested)
        {
            // DuckDB.NET reports an interrupted command as an OperationCanceledException (or a DuckDB error mid-read).
            throw new QueryTimeoutException();
        }
    }

    /// <summary>The table <c>log_integrity(log_key, integrity)</c> that <see cref="TimelineSql.SummaryWithIntegrity"/> joins.</summary>
    public void SetLogIntegrity(IEnumerable<(string Key, string Integrity)> logs)
    {
        Execute($"CREATE OR REPLACE TEMP TABLE log_integrity ({TimelineSql.SourceKeyColumn} VARCHAR PRIMARY KEY, integrity VARCHAR NOT NULL)");
        foreach (var chunk in logs.Chunk(500))
        {
            Execute("INSERT INTO log_integrity VALUES " + string.Join(", ", chunk.Select(l => $"({TimelineSql.Literal(l.Key)}, {TimelineSql.Literal(l.Integrity)})")));
        }
    }

    public void Dispose()
    {
        _connection.Dispose();
        if (_ownedFolder is not null && Directory.Exists(_ownedFolder))
        {
            Directory.Delete(_ownedFolder, recursive: true);
        }
    }

    private IEnumerable<string> FilesWithoutRecords(IReadOnlyList<string> files) =>
        Run(TimelineSql.FilesWithoutRecords(files, _maximumObjectBytes)).Rows.Select(r => (string)r[0]!);

    /// <summary>
    /// Why a selected path must not be opened, or null. A link is not followed (it could lead out
    /// of the copy); a FIFO, socket or device reports no size and would block the reader forever,
    /// so anything shorter than the smallest gzip file (18 bytes) is refused unopened.
    /// </summary>
    private static string? NotARegularLogFile(string file)
    {
        var info = new FileInfo(file);
        if (info.LinkTarget is { } target)
        {
            return $"a symbolic link (to {target}), not followed";
        }

        return info.Length < 18 ? $"malformed or truncated CloudTrail log ({info.Length} bytes: shorter than any gzip file, or not a regular file)" : null;
    }

    /// <summary>
    /// A log file's inflated size, counted by inflating it (every gzip member, as DuckDB reads it) and
    /// stopping once past the bound. The gzip trailer is no substitute: its ISIZE is the size modulo 4 GiB
    /// of the last member only, so a file of several members (as CloudTrail may write, and as verify
    /// accepts) was given too small a read limit and then refused as malformed. A file that is not gzip
    /// gets the size read so far; DuckDB then names it.
    /// </summary>
    private static long InflatedSize(string file, CancellationToken deadline)
    {
        using var gzip = new GZipStream(new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan), CompressionMode.Decompress);
        var buffer = new byte[1 << 16];
        var total = 0L;
        try
        {
            for (int read; (read = gzip.Read(buffer)) > 0;)
            {
                total += read;
                if (total > TimelineSql.MaximumLogFileBytes)
                {
                    break;
                }

                if (deadline.IsCancellationRequested)
                {
                    throw new QueryTimeoutException();
                }
            }
        }
        catch (InvalidDataException)
        {
        }

        return total;
    }

    /// <summary>The read limit for files of these inflated sizes: the next power of two above the largest.</summary>
    private static long ObjectSizeFor(IEnumerable<long> inflatedSizes)
    {
        var largest = inflatedSizes.DefaultIfEmpty(0).Max();
        var size = TimelineSql.DefaultObjectBytes;
        while (size <= largest && size < TimelineSql.MaximumLogFileBytes)
        {
            size <<= 1;
        }

        return size;
    }

    private void Execute(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        Bounded(command, _deadline, command.ExecuteNonQuery);
    }

    private static string FirstLine(string text) => text.Split('\n')[0].Trim();
}

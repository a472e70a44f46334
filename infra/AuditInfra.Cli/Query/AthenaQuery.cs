using System.Globalization;
using System.Text.Json;
using AuditInfra.Core.Aws;
using Spectre.Console;

namespace AuditInfra.Cli.Query;

/// <summary>An Athena query that ended FAILED or CANCELLED, or whose answer could not be read: one line with Athena's reason.</summary>
public sealed class AthenaQueryException(string message) : Exception(message);

/// <summary>An Athena query stopped by <c>--timeout</c> (and stopped in Athena too).</summary>
public sealed class AthenaTimeoutException(string executionId) : Exception($"Athena query {executionId} ran past the timeout and was stopped");

/// <summary>
/// Runs SQL in Athena through the AWS CLI (<c>start-query-execution</c> in a workgroup, <c>get-query-execution</c>
/// until it ends, <c>get-query-results</c> page by page) and returns the rows typed as the local engine types them
/// (numbers as numbers, booleans as booleans, NULL as null), so both answers print alike. A query that is
/// cancelled (Ctrl+C) or runs past its time is stopped in Athena as well: it would otherwise go on scanning.
/// </summary>
public sealed class AthenaQuery(AwsCli cli, string workgroup, string database)
{
    /// <summary>Rows asked for per get-query-results call: Athena's largest page.</summary>
    public const int PageRows = 1000;

    /// <summary>The longest wait between two polls; the first ones come sooner, as most audit queries take seconds.</summary>
    public TimeSpan MaximumPollInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <param name="sql">The query.</param>
    /// <param name="timeLimit">How long it may run before it is stopped (<see cref="AthenaTimeoutException"/>).</param>
    /// <param name="progress">Called after every poll with the query's state, the bytes it scanned so far and its id.</param>
    /// <param name="cancellationToken">Stops the query in Athena too.</param>
    public async Task<QueryResult> RunAsync(string sql, TimeSpan timeLimit, Action<string, long, string>? progress, CancellationToken cancellationToken)
    {
        using var started = await RunJsonAsync(["athena", "start-query-execution", "--query-string", sql, "--work-group", workgroup, "--query-execution-context", $"Database={database}"], cancellationToken);
        var id = Text(started.RootElement, "QueryExecutionId") ?? throw new AthenaQueryException("aws athena start-query-execution printed no QueryExecutionId");
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeLimit);
        try
        {
            await WaitAsync(id, progress, deadline.Token);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            await StopAsync(id);
            cancellationToken.ThrowIfCancellationRequested();
            throw new AthenaTimeoutException(id);
        }

        return await ResultsAsync(id, cancellationToken);
    }

    private async Task WaitAsync(string id, Action<string, long, string>? progress, CancellationToken cancellationToken)
    {
        var pause = TimeSpan.FromMilliseconds(250);
        while (true)
        {
            using var execution = await RunJsonAsync(["athena", "get-query-execution", "--query-execution-id", id], cancellationToken);
            var query = execution.RootElement.TryGetProperty("QueryExecution", out var q) ? q : default;
            var status = query.ValueKind == JsonValueKind.Object && query.TryGetProperty("Status", out var s) ? s : default;
            var state = status.ValueKind == JsonValueKind.Object ? Text(status, "State") : null;
            var scanned = query.ValueKind == JsonValueKind.Object && query.TryGetProperty("Statistics", out var statistics)
                && statistics.TryGetProperty("DataScannedInBytes", out var bytes) && bytes.TryGetInt64(out var b) ? b : 0;
            progress?.Invoke(state ?? "?", scanned, id);
            switch (state)
            {
                case "SUCCEEDED":
                    return;
                case "FAILED" or "CANCELLED":
                    var reason = Text(status, "StateChangeReason")
                        ?? (status.TryGetProperty("AthenaError", out var athenaError) ? Text(athenaError, "ErrorMessage") : null)
                        ?? "no reason given";
                    throw new AthenaQueryException($"Athena query {id} {state}: {Core.Messages.OneLine(Core.Messages.Flatten(reason), 600)}");
                case "QUEUED" or "RUNNING":
                    break;
                default:
                    throw new AthenaQueryException($"aws athena get-query-execution: unexpected state '{Core.Messages.OneLine(state ?? "none", 40)}' of query {id}");
            }

            await Task.Delay(pause, cancellationToken);
            pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, MaximumPollInterval.Ticks));
        }
    }

    /// <summary>Stops the query in Athena, whatever stopped the wait: not stopping it would leave it scanning, and billed.</summary>
    private async Task StopAsync(string id)
    {
        try
        {
            await (cli with { Timeout = TimeSpan.FromSeconds(20) }).RunAsync(["athena", "stop-query-execution", "--query-execution-id", id], CancellationToken.None);
        }
        catch (AwsCliException)
        {
            // The command is ending anyway; the workgroup's own limits still bound the query.
        }
    }

    private async Task<QueryResult> ResultsAsync(string id, CancellationToken cancellationToken)
    {
        var rows = new List<object?[]>();
        string[]? columns = null;
        string[]? types = null;
        string? token = null;
        var first = true;
        do
        {
            List<string> arguments = ["athena", "get-query-results", "--query-execution-id", id, "--no-paginate", "--max-results", PageRows.ToString(CultureInfo.InvariantCulture)];
            if (token is not null)
            {
                arguments.AddRange(["--next-token", token]);
            }

            using var page = await RunJsonAsync(arguments, cancellationToken);
            if (!page.RootElement.TryGetProperty("ResultSet", out var resultSet) || !resultSet.TryGetProperty("Rows", out var pageRows) || pageRows.ValueKind != JsonValueKind.Array)
            {
                throw new AthenaQueryException($"aws athena get-query-results: no ResultSet.Rows for query {id}");
            }

            if (columns is null)
            {
                var info = resultSet.TryGetProperty("ResultSetMetadata", out var metadata) && metadata.TryGetProperty("ColumnInfo", out var c) && c.ValueKind == JsonValueKind.Array
                    ? c.EnumerateArray().ToList()
                    : throw new AthenaQueryException($"aws athena get-query-results: no ResultSetMetadata.ColumnInfo for query {id}");
                columns = [.. info.Select(i => Text(i, "Label") ?? Text(i, "Name") ?? "?")];
                types = [.. info.Select(i => (Text(i, "Type") ?? "varchar").ToLowerInvariant())];
            }

            foreach (var row in pageRows.EnumerateArray())
            {
                var values = row.TryGetProperty("Data", out var data) && data.ValueKind == JsonValueKind.Array
                    ? data.EnumerateArray().Select(d => d.ValueKind == JsonValueKind.Object ? Text(d, "VarCharValue") : null).ToArray()
                    : [];
                if (values.Length != columns.Length)
                {
                    throw new AthenaQueryException($"aws athena get-query-results: a row of {values.Length} values for {columns.Length} columns in query {id}");
                }

                // A SELECT's first row is its header: the column names again.
                var header = first && values.SequenceEqual(columns);
                first = false;
                if (header)
                {
                    continue;
                }

                rows.Add([.. values.Select((v, i) => Typed(v, types![i], columns[i]))]);
            }

            token = page.RootElement.TryGetProperty("NextToken", out var next) && next.ValueKind == JsonValueKind.String ? next.GetString() : null;
        }
        while (token is not null);

        return new QueryResult(columns, rows);
    }

    /// <summary>Athena's text value as the type its column declares, as DuckDB's reader hands it over locally.</summary>
    internal static object? Typed(string? value, string type, string column)
    {
        if (value is null)
        {
            return null;
        }

        object? typed = type switch
        {
            "bigint" or "integer" or "int" or "smallint" or "tinyint" => long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l) ? l : null,
            "double" or "real" or "float" => double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : null,
            "decimal" => decimal.TryParse(value, NumberStyles.Number, CultureInfo.InvariantCulture, out var m) ? m : null,
            "boolean" => bool.TryParse(value, out var b) ? b : null,
            _ => value,
        };
        return typed ?? throw new AthenaQueryException($"aws athena get-query-results: column {column} is {type} but holds '{Core.Messages.OneLine(value, 80)}'");
    }

    private async Task<JsonDocument> RunJsonAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var printed = await cli.RunAsync(arguments, cancellationToken);
        try
        {
            return JsonDocument.Parse(printed);
        }
        catch (JsonException e)
        {
            throw new AthenaQueryException($"aws {arguments[0]} {arguments[1]} printed no JSON: {Core.Messages.OneLine(e.Message, 200)}");
        }
    }

    private static string? Text(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    /// <summary>
    /// Runs <paramref name="work"/> with a status line on a terminal (the query's state, bytes scanned, time)
    /// and silently otherwise, so piped output holds the answer only.
    /// </summary>
    internal static async Task<T> WithStatusAsync<T>(CliIo io, string label, Func<Action<string, long, string>?, Task<T>> work)
    {
        if (!io.IsTerminal)
        {
            return await work(null);
        }

        var clock = System.Diagnostics.Stopwatch.StartNew();
        return await io.Console.Status().Spinner(Spinner.Known.Dots).StartAsync($"Athena: {Markup.Escape(label)} starting", async context =>
            await work((state, scanned, id) => context.Status = Markup.Escape(
                $"Athena: {label} {state}, {scanned / 1048576.0:N1} MiB scanned, {clock.Elapsed.TotalSeconds:N0} s (query {id}; Ctrl+C stops it)")));
    }
}

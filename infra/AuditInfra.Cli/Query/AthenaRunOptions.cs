using System.CommandLine;
using AuditInfra.Core.Aws;
using AuditInfra.Core.Query;

namespace AuditInfra.Cli.Query;

/// <summary><c>query --athena --run</c>: where the question runs in Athena, and the run itself.</summary>
internal sealed class AthenaRunOptions
{
    public Option<string?> NamePrefix { get; } = new("--name-prefix") { Description = "With --run: the audit stack's namePrefix, which names the QueryLayer's workgroup (PREFIX-audit) and database (PREFIX_audit)" };

    public Option<string?> Workgroup { get; } = new("--athena-workgroup") { Description = "With --run: the Athena workgroup (default: the QueryLayer's, from --name-prefix)" };

    public Option<string?> Region { get; } = new("--athena-region") { Description = "With --run: the audit stack's home region, where the workgroup is (default: the AWS CLI's configured region)" };

    public Option<string?> EndpointUrl { get; } = new("--athena-endpoint-url") { Description = "With --run: another Athena endpoint (as the AWS CLI's --endpoint-url)" };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { NamePrefix, Workgroup, Region, EndpointUrl })
        {
            command.Options.Add(option);
        }
    }

    /// <summary>Runs the question (its timeline, or its summary's four counts) in Athena and prints it as the local path does.</summary>
    /// <param name="databaseNamed">Whether --athena-database was given; otherwise --name-prefix names the database.</param>
    public async Task<int> RunAsync(CliIo io, ParseResult parse, TimelineQuery question, string database, bool databaseNamed, string table, bool summary, string format, TimeSpan timeLimit, CancellationToken cancellationToken)
    {
        var prefix = parse.GetValue(NamePrefix);
        if (prefix is not null && Core.Configuration.AwsFormats.NamePrefix(prefix) is { } expected)
        {
            await io.Err.WriteLineAsync($"--name-prefix: expected {expected} (found \"{prefix}\")");
            return ExitCodes.UsageOrInput;
        }

        if ((parse.GetValue(Workgroup) ?? (prefix is null ? null : QueryLayerDesigner.WorkgroupNameFor(prefix))) is not { } workgroup)
        {
            await io.Err.WriteLineAsync("--run needs the workgroup: --name-prefix PREFIX (the audit stack's namePrefix; its QueryLayer's workgroup is PREFIX-audit) or --athena-workgroup NAME");
            return ExitCodes.UsageOrInput;
        }

        // The stack's database unless one is named.
        if (prefix is not null && !databaseNamed)
        {
            database = QueryLayerDesigner.DatabaseNameFor(prefix);
        }

        var athena = new AthenaQuery(new AwsCli { Region = parse.GetValue(Region), EndpointUrl = parse.GetValue(EndpointUrl) }, workgroup, database);
        try
        {
            if (summary)
            {
                // The four counts run side by side, as four Athena queries: the answer takes as long as the slowest.
                var dimensions = QueryCommand.SummaryDimensions;
                var counts = await AthenaQuery.WithStatusAsync(io, "summary", progress => Task.WhenAll(dimensions.Select(dimension =>
                    athena.RunAsync(AthenaSql.Summary(question, dimension, database, table), timeLimit, progress, cancellationToken))));
                QueryCommand.WriteSummary([.. dimensions.Zip(counts)], format, io);
            }
            else
            {
                var sql = AthenaSql.Timeline(question, database, table);
                QueryCommand.Write(await AthenaQuery.WithStatusAsync(io, "timeline", progress => athena.RunAsync(sql, timeLimit, progress, cancellationToken)), format, io);
            }
        }
        catch (AthenaTimeoutException e)
        {
            await io.Err.WriteLineAsync($"query stopped: {e.Message} --timeout {parse.GetValue<string>("--timeout")} (raise it, or narrow --start/--end or --region)");
            return ExitCodes.UsageOrInput;
        }
        catch (Exception e) when (e is AthenaQueryException or AwsCliException)
        {
            await io.Err.WriteLineAsync(e.Message);
            return ExitCodes.UsageOrInput;
        }

        return ExitCodes.Ok;
    }
}

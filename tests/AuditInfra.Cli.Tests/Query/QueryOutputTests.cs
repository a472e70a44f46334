using System.Text;
using AuditInfra.Cli.Query;

namespace AuditInfra.Cli.Tests.Query;

/// <summary>An answer written in pieces (not a write per row) reads exactly as one written row by row.</summary>
public sealed class QueryOutputTests
{
    [Fact]
    public void A_csv_answer_larger_than_a_written_piece_is_whole_in_order_and_quoted()
    {
        var rows = Enumerable.Range(0, 30_000)
            .Select(i => new object?[] { $"2026-11-20T00:00:{i % 60:D2}Z", i % 7 == 0 ? null : $"arn:aws:iam::333333333333:role/R{i}", i % 11 == 0 ? "a \"quoted\", value\nover lines" : "GetObject", (long)i })
            .ToList();
        var result = new QueryResult(["event_time", "principal_arn", "event_name", "n"], rows);
        var output = new StringWriter();

        QueryCommand.Write(result, "csv", CliIo.Capture(output, new StringWriter()));

        var expected = new StringBuilder("event_time,principal_arn,event_name,n\n");
        foreach (var row in rows)
        {
            var name = (string)row[2]!;
            expected.Append(row[0]).Append(',').Append(row[1]).Append(',')
                .Append(name.Contains('"', StringComparison.Ordinal) ? "\"a \"\"quoted\"\", value\nover lines\"" : name).Append(',').Append(row[3]).Append('\n');
        }

        Assert.True(output.ToString().Length > 1 << 20);
        Assert.Equal(expected.ToString(), output.ToString().Replace("\r\n", "\n", StringComparison.Ordinal));
    }
}

/// <summary>`query --athena` asks the audit stack's table: an option about reading log files is refused, never silently dropped.</summary>
public sealed class AthenaFileOptionTests
{
    [Theory]
    [InlineData("--source", "s3://acme-audit-cloudtrail-222222222222-us-east-1")]
    [InlineData("--skip-bad", null)]
    [InlineData("--cache", null)]
    [InlineData("--endpoint-url", "http://127.0.0.1:4568")]
    [InlineData("--restore", "bulk")]
    [InlineData("--wait", null)]
    public async Task An_option_about_reading_log_files_is_refused_with_athena(string option, string? value)
    {
        string[] args = ["query", "--athena", "--account", "333333333333", "--date", "2026-11-20", option, .. value is null ? Array.Empty<string>() : [value]];

        var result = await Support.CliRunner.RunAsync(args);

        Assert.Equal(2, result.ExitCode);
        Assert.Equal("", result.Out);
        var line = Assert.Single(result.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"{option} is about reading log files", line, StringComparison.Ordinal);
        Assert.Contains("--athena", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Athena_without_file_options_still_prints_its_sql()
    {
        var result = await Support.CliRunner.RunAsync("query", "--athena", "--account", "333333333333", "--date", "2026-11-20");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("FROM", result.Out, StringComparison.Ordinal);
    }
}

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

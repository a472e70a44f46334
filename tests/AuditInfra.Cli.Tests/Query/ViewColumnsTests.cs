using System.Text.Json.Nodes;
using AuditInfra.Cli.Query;
using AuditInfra.Cli.Tests.Support;
using AuditInfra.Core.Query;
using static AuditInfra.Cli.Tests.Query.QueryCommandTests;

namespace AuditInfra.Cli.Tests.Query;

/// <summary>The <c>cloudtrail</c> view's columns, read from each record in one parse, against reading each path on its own.</summary>
public sealed class ViewColumnsTests
{
    private const string Account = "333333333333";

    [Fact]
    public void Each_record_is_parsed_once_for_the_columns_not_once_per_column()
    {
        // The columns share one expression (DuckDB evaluates it once per record); the resources' wildcard path is the only
        // other read of the record.
        Assert.Equal(2, DistinctExtractions(TimelineSql.CreateView(["/logs/a.json.gz"])));
        Assert.Equal(2, DistinctExtractions(TimelineSql.StagedRows(["/fetched/a.json.gz"], "/fetched")));
    }

    [Fact]
    public void Every_column_is_what_its_path_alone_reads_from_the_record()
    {
        var root = CliRunner.TempDir();
        Write(root, Account, "us-east-1", new DateOnly(2026, 11, 20), "edgecases0000000",
            Record("2026-11-20T09:00:00Z", "iam.amazonaws.com", "AttachRolePolicy"),
            // Fields missing, JSON null, of other types than strings, nested, escaped and non-ASCII.
            Record("2026-11-20T09:01:00Z", "s3.amazonaws.com", "GetObject", edit: r =>
            {
                r.Remove("recipientAccountId");
                r["userIdentity"] = null;
                r["errorCode"] = 403;
                r["errorMessage"] = new JsonObject { ["why"] = new JsonArray("a", "b") };
                r["sourceIPAddress"] = "quote \" backslash \\ tab \t ünïcödé ✓";
            }),
            Record("2026-11-20T09:02:00Z", "sts.amazonaws.com", "AssumeRole", edit: r =>
            {
                r["userIdentity"]!["sessionContext"]!["attributes"]!["mfaAuthenticated"] = true;
                r["requestID"] = null;
                r["eventID"] = new JsonArray(1, 2);
                r["resources"] = new JsonArray(new JsonObject { ["ARN"] = "arn:one" }, new JsonObject { ["type"] = "no ARN" }, new JsonObject { ["ARN"] = "arn:two" });
            }),
            Record("2026-11-20T09:03:00Z", "ec2.amazonaws.com", "RunInstances", edit: r =>
            {
                r["resources"] = "not a list";
                r["eventTime"] = 1.5;
                r["awsRegion"] = "";
            }));
        var file = Directory.GetFiles(root, "*.json.gz", SearchOption.AllDirectories).Single();

        var (timeline, skipped) = DuckDbTimeline.Open([file], skipBad: false);
        using (timeline)
        {
            Assert.Empty(skipped);
            var separate = string.Join(", ", CloudTrailColumns.All.Select(c => $"json_extract_string(raw, {TimelineSql.Literal(c.JsonPath)}) AS {c.Name}"));
            var viewed = timeline.Run($"SELECT {string.Join(", ", CloudTrailColumns.All.Select(c => c.Name))} FROM cloudtrail ORDER BY raw::VARCHAR");
            var alone = timeline.Run($"SELECT {separate} FROM cloudtrail ORDER BY raw::VARCHAR");

            Assert.Equal(4, viewed.Rows.Count);
            Assert.Equal(alone.Columns, viewed.Columns);
            Assert.Equal(alone.Rows, viewed.Rows);
            Assert.Contains(viewed.Rows, r => (string?)r[7] == "quote \" backslash \\ tab \t ünïcödé ✓" && r[1] is null && r[3] is null && (string?)r[10] == "403");
        }
    }

    private static int DistinctExtractions(string sql) =>
        System.Text.RegularExpressions.Regex.Matches(sql, @"json_extract_string\(r, (\[[^\]]*\]|'[^']*')\)").Select(m => m.Value).Distinct().Count();
}

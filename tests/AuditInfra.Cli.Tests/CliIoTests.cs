using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;
using AuditInfra.Cli.Tests.Support;

namespace AuditInfra.Cli.Tests;

/// <summary>Tables never split a key, an ARN or an account id across lines, piped or on an 80-column terminal.</summary>
public class CliIoTests
{
    private const string Account = "333333333333";

    // A real-length S3 object ARN as CloudTrail records it in `resources`.
    private static readonly string LongKey =
        $"arn:aws:s3:::acme-audit-cloudtrail-222222222222-us-east-1/cloudtrail/AWSLogs/o-a1b2c3d4e5/{Account}/CloudTrail/us-east-1/2026/11/20/{Account}_CloudTrail_us-east-1_20261120T1000Z_a1b2c3d4e5f6g7h8.json.gz";

    private static string Corpus()
    {
        var root = CliRunner.TempDir();
        var dir = Path.Combine(root, "AWSLogs", Account, "CloudTrail", "us-east-1", "2026", "11", "20");
        Directory.CreateDirectory(dir);
        var record = new JsonObject
        {
            ["eventVersion"] = "1.09",
            ["userIdentity"] = new JsonObject { ["type"] = "AssumedRole", ["arn"] = $"arn:aws:sts::{Account}:assumed-role/auditinfra-deployment/ci-run-4242424242", ["accountId"] = Account },
            ["eventTime"] = "2026-11-20T09:00:00Z",
            ["eventSource"] = "s3.amazonaws.com",
            ["eventName"] = "GetObject",
            ["awsRegion"] = "us-east-1",
            ["sourceIPAddress"] = "10.1.2.3",
            ["requestID"] = "req-0123456789abcdef",
            ["eventID"] = "0d4e7f3c-1111-2222-3333-444455556666",
            ["recipientAccountId"] = Account,
            ["resources"] = new JsonArray(new JsonObject { ["ARN"] = LongKey, ["type"] = "AWS::S3::Object" }),
        };
        using var gz = new GZipStream(File.Create(Path.Combine(dir, $"{Account}_CloudTrail_us-east-1_20261120T1000Z_a1b2c3d4e5f6g7h8.json.gz")), CompressionLevel.Fastest);
        gz.Write(Encoding.UTF8.GetBytes(new JsonObject { ["Records"] = new JsonArray(record) }.ToJsonString()));
        return root;
    }

    [Fact]
    public async Task Redirected_output_on_an_80_column_console_keeps_keys_and_account_ids_whole()
    {
        // COLUMNS=80 is what a narrow terminal exports; redirected output must not be laid out for it.
        var before = Environment.GetEnvironmentVariable("COLUMNS");
        Environment.SetEnvironmentVariable("COLUMNS", "80");
        try
        {
            var result = await CliRunner.RunAsync("query", "--source", Corpus(), "--account", Account, "--start", "2026-11-20");
            Assert.Equal(0, result.ExitCode);
            TerminalOutput.AssertWhole(result.Out, LongKey, Account, $"arn:aws:sts::{Account}:assumed-role/auditinfra-deployment/ci-run-4242424242");
        }
        finally
        {
            Environment.SetEnvironmentVariable("COLUMNS", before);
        }
    }

    [Fact]
    public async Task An_80_column_terminal_keeps_keys_and_account_ids_whole()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var io = new CliIo(output, error, isTerminal: true, terminalWidth: 80);
        var code = await CliApp.RunAsync(["query", "--source", Corpus(), "--account", Account, "--start", "2026-11-20"], io);
        Assert.Equal(0, code);
        TerminalOutput.AssertWhole(output.ToString(), LongKey, Account, $"arn:aws:sts::{Account}:assumed-role/auditinfra-deployment/ci-run-4242424242");
    }
}

using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using AuditInfra.Cli.Tests.Support;

namespace AuditInfra.Cli.Tests.Integrity;

/// <summary>
/// An endpoint that lists a log, then misbehaves on the object: it stops sending mid-body, or answers with an ETag
/// the SDK cannot read. Either ends the pull with one line and exit 2, never a hang or a stack trace.
/// </summary>
[Trait("Category", "S3")]
public sealed class S3ResponseFaultTests
{
    private const string Key = "AWSLogs/111111111111/CloudTrail/us-east-1/2026/11/20/111111111111_CloudTrail_us-east-1_20261120T0005Z_abc.json.gz";
    private const int Size = 4096;

    public S3ResponseFaultTests()
    {
        Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", S3Server.AccessKey);
        Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", S3Server.SecretKey);
        Environment.SetEnvironmentVariable("AWS_REGION", "us-east-1");
    }

    [Theory]
    [InlineData("stall", "stopped sending")]
    [InlineData("bad-etag", "cannot be processed")]
    public async Task A_misbehaving_object_response_ends_the_pull_with_one_line_and_exit_two(string fault, string expected)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var stop = new CancellationTokenSource();
        var server = ServeAsync(listener, fault, stop.Token);
        var destination = Path.Combine(CliRunner.TempDir(), "copy");

        var clock = Stopwatch.StartNew();
        var run = CliRunner.RunAsync("pull", "--source", "s3://acme-audit-bucket", "--out", destination, "--endpoint-url", $"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}");
        var finished = await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(60)));
        await stop.CancelAsync();

        Assert.True(finished == run, "pull still running after 60 s");
        var result = await run;
        Assert.True(result.ExitCode == 2, $"{result.ExitCode}: {result.Out}{result.Err}");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"took {clock.Elapsed}");
        Assert.Single(result.Err.Trim().Split('\n'));
        Assert.Contains(expected, result.Err, StringComparison.Ordinal);
        Assert.False(Directory.Exists(destination), "pull left an empty destination behind");
        listener.Stop();
        await server.ContinueWith(_ => { }, TaskScheduler.Default);
    }

    private static async Task ServeAsync(TcpListener listener, string fault, CancellationToken cancellationToken)
    {
        var open = new List<TcpClient>();
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var client = await listener.AcceptTcpClientAsync(cancellationToken);
                open.Add(client);
                _ = AnswerAsync(client, fault, cancellationToken);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
        finally
        {
            open.ForEach(c => c.Dispose());
        }
    }

    /// <summary>One request per connection: the listing is well formed, the object is not.</summary>
    private static async Task AnswerAsync(TcpClient client, string fault, CancellationToken cancellationToken)
    {
        try
        {
            var stream = client.GetStream();
            var head = new StringBuilder();
            var buffer = new byte[1];
            while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal) && await stream.ReadAsync(buffer, cancellationToken) == 1)
            {
                head.Append((char)buffer[0]);
            }

            var requestLine = head.ToString().Split("\r\n")[0];
            if (requestLine.Contains("list-type=2", StringComparison.Ordinal))
            {
                var xml = Encoding.UTF8.GetBytes($"<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>acme-audit-bucket</Name><Prefix></Prefix><KeyCount>1</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated><Contents><Key>{Key}</Key><LastModified>2026-11-20T00:10:00.000Z</LastModified><ETag>\"0123456789abcdef0123456789abcdef\"</ETag><Size>{Size}</Size><StorageClass>STANDARD</StorageClass></Contents></ListBucketResult>");
                await stream.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: {xml.Length}\r\nConnection: close\r\n\r\n"), cancellationToken);
                await stream.WriteAsync(xml, cancellationToken);
                client.Dispose();
                return;
            }

            var etag = fault == "bad-etag" ? "\"abc\"" : "\"0123456789abcdef0123456789abcdef\"";
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {Size}\r\nETag: {etag}\r\nConnection: close\r\n\r\n"), cancellationToken);
            await stream.WriteAsync(new byte[fault == "stall" ? Size / 4 : Size], cancellationToken);
            await stream.FlushAsync(cancellationToken);
            if (fault == "stall")
            {
                // The rest never comes; the connection stays open until the test ends.
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }

            client.Dispose();
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
        }
    }
}

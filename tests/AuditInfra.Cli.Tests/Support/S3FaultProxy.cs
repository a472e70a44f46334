using System.Net;
using System.Net.Sockets;
using System.Text;

namespace AuditInfra.Cli.Tests.Support;

/// <summary>What the proxy does with one request.</summary>
public enum ProxyFault
{
    /// <summary>Forwarded, and the answer passed back.</summary>
    None,

    /// <summary>Not forwarded: answered 503 SlowDown, as S3 throttles.</summary>
    SlowDown,

    /// <summary>Forwarded (the server applies it), then the connection is dropped: the answer is lost.</summary>
    LoseAnswer,
}

/// <summary>
/// An HTTP/1.1 proxy in front of an S3 endpoint (s3rver) on loopback that injects faults into chosen requests. It
/// works on the socket, so a lost answer is a connection reset after the server applied the request (an HTTP server
/// library would still send a default answer). The Host header is forwarded as sent, so signatures still hold.
/// </summary>
public sealed class S3FaultProxy : IDisposable
{
    private static readonly HashSet<string> NotForwarded = new(StringComparer.OrdinalIgnoreCase) { "Host", "Connection", "Keep-Alive", "Transfer-Encoding", "Expect", "Content-Length", "Proxy-Connection" };

    private readonly TcpListener listener = new(IPAddress.Loopback, 0);
    private readonly HttpClient upstream = new(new SocketsHttpHandler { AllowAutoRedirect = false, AutomaticDecompression = DecompressionMethods.None, UseProxy = false });
    private readonly CancellationTokenSource stop = new();
    private readonly List<TcpClient> connections = [];
    private readonly Uri target;
    private readonly Func<string, string, ProxyFault> decide;
    private readonly Task serving;

    /// <param name="decide">The fault for a request, by its method and path (query excluded).</param>
    public S3FaultProxy(string targetEndpoint, Func<string, string, ProxyFault> decide)
    {
        target = new Uri(targetEndpoint);
        this.decide = decide;
        listener.Start();
        Endpoint = $"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}";
        serving = Task.Run(ServeAsync);
    }

    public string Endpoint { get; }

    /// <summary>Every request as "METHOD /path fault", in arrival order.</summary>
    public List<string> Requests { get; } = [];

    private async Task ServeAsync()
    {
        while (!stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            lock (connections)
            {
                connections.Add(client);
            }

            _ = Task.Run(() => ConnectionAsync(client));
        }
    }

    /// <summary>Requests of one kept-alive connection, one after another.</summary>
    private async Task ConnectionAsync(TcpClient client)
    {
        var stream = client.GetStream();
        var buffered = new List<byte>();
        var chunk = new byte[65536];
        try
        {
            while (true)
            {
                int headEnd;
                while ((headEnd = IndexOfHeadEnd(buffered)) < 0)
                {
                    var read = await stream.ReadAsync(chunk, stop.Token);
                    if (read == 0)
                    {
                        return;
                    }

                    buffered.AddRange(chunk.AsSpan(0, read));
                }

                var head = Encoding.ASCII.GetString(buffered.GetRange(0, headEnd).ToArray()).Split("\r\n");
                buffered.RemoveRange(0, headEnd + 4);
                var requestLine = head[0].Split(' ');
                var headers = head.Skip(1).Select(h => (Name: h[..h.IndexOf(':')].Trim(), Value: h[(h.IndexOf(':') + 1)..].Trim())).ToList();
                string? Header(string name) => headers.FirstOrDefault(h => h.Name.Equals(name, StringComparison.OrdinalIgnoreCase)).Value;
                if (Header("Expect")?.Equals("100-continue", StringComparison.OrdinalIgnoreCase) == true)
                {
                    await stream.WriteAsync("HTTP/1.1 100 Continue\r\n\r\n"u8.ToArray(), stop.Token);
                }

                var length = int.Parse(Header("Content-Length") ?? "0", System.Globalization.CultureInfo.InvariantCulture);
                while (buffered.Count < length)
                {
                    var read = await stream.ReadAsync(chunk, stop.Token);
                    if (read == 0)
                    {
                        return;
                    }

                    buffered.AddRange(chunk.AsSpan(0, read));
                }

                var body = buffered.GetRange(0, length).ToArray();
                buffered.RemoveRange(0, length);
                if (!await AnswerAsync(stream, requestLine[0], requestLine[1], headers, body))
                {
                    // Reset, not closed: the client sees the connection fail, as when an answer is lost on the way.
                    client.Client.LingerState = new LingerOption(true, 0);
                    client.Close();
                    return;
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException or HttpRequestException)
        {
            client.Close();
        }
    }

    private static int IndexOfHeadEnd(List<byte> bytes)
    {
        for (var i = 0; i + 3 < bytes.Count; i++)
        {
            if (bytes[i] == '\r' && bytes[i + 1] == '\n' && bytes[i + 2] == '\r' && bytes[i + 3] == '\n')
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>Answers one request; false when the connection is to be dropped instead.</summary>
    private async Task<bool> AnswerAsync(NetworkStream stream, string method, string rawUrl, List<(string Name, string Value)> headers, byte[] body)
    {
        var path = rawUrl.Split('?')[0];
        var fault = decide(method, path);
        lock (Requests)
        {
            Requests.Add($"{method} {path} {fault}");
        }

        if (fault == ProxyFault.SlowDown)
        {
            var error = Encoding.UTF8.GetBytes("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>proxy</RequestId></Error>");
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 503 Slow Down\r\nContent-Type: application/xml\r\nContent-Length: {error.Length}\r\n\r\n"), stop.Token);
            await stream.WriteAsync(error, stop.Token);
            return true;
        }

        using var forward = new HttpRequestMessage(new HttpMethod(method), new Uri(target, rawUrl));
        if (body.Length > 0 || method is "PUT" or "POST")
        {
            forward.Content = new ByteArrayContent(body);
        }

        foreach (var (name, value) in headers.Where(h => !NotForwarded.Contains(h.Name)))
        {
            if (!forward.Headers.TryAddWithoutValidation(name, value))
            {
                forward.Content?.Headers.TryAddWithoutValidation(name, value);
            }
        }

        forward.Headers.Host = headers.FirstOrDefault(h => h.Name.Equals("Host", StringComparison.OrdinalIgnoreCase)).Value;
        using var answer = await upstream.SendAsync(forward, stop.Token);
        var content = await answer.Content.ReadAsByteArrayAsync(stop.Token);
        if (fault == ProxyFault.LoseAnswer)
        {
            return false;
        }

        var response = new StringBuilder($"HTTP/1.1 {(int)answer.StatusCode} {answer.ReasonPhrase}\r\n");
        foreach (var (name, values) in answer.Headers.Concat(answer.Content.Headers).Where(h => !NotForwarded.Contains(h.Key)))
        {
            response.Append(name).Append(": ").Append(string.Join(",", values)).Append("\r\n");
        }

        var length = method == "HEAD" ? answer.Content.Headers.ContentLength ?? 0 : content.Length;
        response.Append("Content-Length: ").Append(length).Append("\r\n\r\n");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(response.ToString()), stop.Token);
        if (method != "HEAD")
        {
            await stream.WriteAsync(content, stop.Token);
        }

        return true;
    }

    public void Dispose()
    {
        stop.Cancel();
        listener.Stop();
        lock (connections)
        {
            connections.ForEach(c => c.Dispose());
        }

        serving.Wait(TimeSpan.FromSeconds(5));
        upstream.Dispose();
        stop.Dispose();
    }
}

using System.Diagnostics;
using Amazon.Runtime;
using Amazon.S3;

namespace AuditInfra.Cli.Tests.Support;

/// <summary>
/// A real S3-compatible server (s3rver, tools/s3rver) on loopback for one test class: started on a free
/// port with its own directory, stopped when the class is done. ./test.sh installs it (npm ci).
/// </summary>
public sealed class S3Server : IDisposable
{
    public const string AccessKey = "S3RVER";
    public const string SecretKey = "S3RVER";

    private readonly Process process;
    private readonly string directory = Path.Combine(Path.GetTempPath(), "auditinfra-s3rver-" + Guid.NewGuid().ToString("N"));

    public S3Server()
        : this(0)
    {
    }

    internal S3Server(int latencyMs, params string[] buckets)
        : this(latencyMs, restoreDelayMs: 0, buckets)
    {
    }

    /// <param name="restoreDelayMs">How long a RestoreObject of an archived object takes to complete (tools/s3rver/glacier.mjs).</param>
    internal S3Server(int latencyMs, int restoreDelayMs, params string[] buckets)
        : this(latencyMs, restoreDelayMs, ignoreOptionalAttributes: false, buckets)
    {
    }

    /// <param name="ignoreOptionalAttributes">Listings ignore x-amz-optional-object-attributes (no RestoreStatus), as endpoints without the feature do.</param>
    internal S3Server(int latencyMs, int restoreDelayMs, bool ignoreOptionalAttributes, params string[] buckets)
    {
        var script = Path.Combine(RepositoryRoot(), "tools", "s3rver", "serve.mjs");
        if (!Directory.Exists(Path.Combine(Path.GetDirectoryName(script)!, "node_modules", "s3rver")))
        {
            throw new InvalidOperationException($"s3rver is not installed: run `npm ci` in {Path.GetDirectoryName(script)} (./test.sh does)");
        }

        Directory.CreateDirectory(directory);
        var start = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardInput = true, RedirectStandardError = true };
        // s3rver's continuation tokens use DES, which Node 17+ (OpenSSL 3) only offers through the legacy provider.
        foreach (var arg in new[] { "--openssl-legacy-provider", script, "--dir", directory, "--latency-ms", latencyMs.ToString(System.Globalization.CultureInfo.InvariantCulture), "--restore-delay-ms", restoreDelayMs.ToString(System.Globalization.CultureInfo.InvariantCulture) }.Concat(ignoreOptionalAttributes ? ["--ignore-optional-attributes"] : []).Concat((buckets.Length == 0 ? Buckets : buckets).SelectMany(b => new[] { "--bucket", b })))
        {
            start.ArgumentList.Add(arg);
        }

        process = Process.Start(start)!;
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (Log) { Log.Add(e.Data); } } };
        process.BeginErrorReadLine();
        var line = process.StandardOutput.ReadLine();
        if (line is null || !line.StartsWith("READY ", StringComparison.Ordinal))
        {
            process.WaitForExit(2000);
            throw new InvalidOperationException($"s3rver did not start: {line} {string.Join('\n', Log)}");
        }

        Endpoint = line["READY ".Length..].Trim();
        // The CLI takes the default credential chain; s3rver checks signatures against its own fixed key.
        Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", AccessKey);
        Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", SecretKey);
        Environment.SetEnvironmentVariable("AWS_REGION", "us-east-1");
    }

    public static readonly string[] Buckets = ["acme-audit-cloudtrail-222222222222-us-east-1", "other-bucket"];

    public string Endpoint { get; }

    /// <summary>What the server printed on standard error (its request log with S3RVER_VERBOSE=1).</summary>
    public List<string> Log { get; } = [];

    public AmazonS3Client Client() => new(new BasicAWSCredentials(AccessKey, SecretKey), new AmazonS3Config
    {
        ServiceURL = Endpoint,
        ForcePathStyle = true,
        AuthenticationRegion = "us-east-1",
        RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
        ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
    });

    public void Dispose()
    {
        try
        {
            process.StandardInput.Close();
            if (!process.WaitForExit(5000))
            {
                process.Kill(entireProcessTree: true);
            }
        }
        finally
        {
            process.Dispose();
            Directory.Delete(directory, recursive: true);
        }
    }

    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "AuditInfra.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("the repository root (AuditInfra.sln) is not above the test binaries");
    }
}

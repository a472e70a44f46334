using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using AuditInfra.Core.Integrity;
using Spectre.Console;

namespace AuditInfra.Cli.Integrity;

/// <summary><c>auditinfra sample</c>: a realistic signed corpus for tests, benchmarks and demos, optionally tampered with.</summary>
public static class SampleCommand
{
    public static Command Create(CliIo io)
    {
        var defaults = new SampleOptions();
        var output = new Option<DirectoryInfo>("--out") { Description = "A new (or empty) directory for the corpus", Required = true };
        var accounts = new Option<string[]>("--account") { Description = $"Accounts (repeatable; default {string.Join(", ", defaults.Accounts)})", AllowMultipleArgumentsPerToken = true };
        var regions = new Option<string[]>("--region") { Description = $"Regions (repeatable; default {string.Join(", ", defaults.Regions)})", AllowMultipleArgumentsPerToken = true };
        var hours = new Option<int>("--hours") { Description = "Hours of logs and hourly digests", DefaultValueFactory = _ => defaults.Hours };
        var logsPerHour = new Option<int>("--logs-per-hour") { Description = "Log files per account, region and hour", DefaultValueFactory = _ => defaults.LogsPerHour };
        var eventsPerLog = new Option<int>("--events-per-log") { Description = "Events per log file (about 1 KB each)", DefaultValueFactory = _ => defaults.EventsPerLog };
        var start = new Option<string?>("--start") { Description = "The first hour (UTC), default 2026-11-20T00:00:00Z" };
        var noRotation = new Option<bool>("--no-key-rotation") { Description = "Sign every digest with one key (default: the key rotates half way)" };
        var noBackfill = new Option<bool>("--no-backfill") { Description = "No backfill digest" };
        var noRestart = new Option<bool>("--no-restart") { Description = "No chain stopped and restarted" };
        var tamper = new Option<string[]>("--tamper") { Description = $"Tamper with the corpus (repeatable): {string.Join(", ", TamperNames.Keys)}, or all", AllowMultipleArgumentsPerToken = true };
        var seed = new Option<int>("--seed") { Description = "Seed of the generated content", DefaultValueFactory = _ => defaults.Seed };
        var json = new Option<bool>("--json") { Description = "Print what was written, with the expected findings, as JSON" };
        var bucket = new Option<string>("--bucket") { Description = "The bucket the digests name (digestS3Bucket)", DefaultValueFactory = _ => defaults.Bucket };
        var keyPrefix = new Option<string>("--key-prefix") { Description = "The trail's S3 key prefix before AWSLogs/ ('' for none)", DefaultValueFactory = _ => defaults.Prefix };
        var upload = new Option<string?>("--upload") { Description = "Also put the corpus into this s3://bucket (at the keys its digests name; signatures as x-amz-meta-signature), e.g. an S3-compatible store for a demo" };
        var endpoint = new Option<string?>("--endpoint-url") { Description = "With --upload: an S3-compatible endpoint" };
        var command = new Command("sample", "Write a signed CloudTrail corpus (logs, chained hourly digests, .signature files, public-keys.json) with optional tampering and its expected findings");
        foreach (var option in new Option[] { output, accounts, regions, hours, logsPerHour, eventsPerLog, start, noRotation, noBackfill, noRestart, tamper, seed, json, bucket, keyPrefix, upload, endpoint })
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parse, cancellationToken) =>
        {
            var tampers = new List<TamperKind>();
            foreach (var name in parse.GetValue(tamper) ?? [])
            {
                if (name == "all")
                {
                    tampers.AddRange(Enum.GetValues<TamperKind>());
                }
                else if (TamperNames.TryGetValue(name, out var kind))
                {
                    tampers.Add(kind);
                }
                else
                {
                    io.Err.WriteLine($"--tamper: unknown kind \"{name}\"; expected one of {string.Join(", ", TamperNames.Keys)}, or all");
                    return ExitCodes.UsageOrInput;
                }
            }

            var options = defaults with
            {
                Accounts = parse.GetValue(accounts) is { Length: > 0 } a ? a : defaults.Accounts,
                Regions = parse.GetValue(regions) is { Length: > 0 } r ? r : defaults.Regions,
                Hours = parse.GetValue(hours),
                LogsPerHour = parse.GetValue(logsPerHour),
                EventsPerLog = parse.GetValue(eventsPerLog),
                RotateKey = !parse.GetValue(noRotation),
                Backfill = !parse.GetValue(noBackfill),
                RestartChain = !parse.GetValue(noRestart),
                Tampers = tampers.Distinct().ToList(),
                Seed = parse.GetValue(seed),
                Bucket = parse.GetValue(bucket)!,
                Prefix = parse.GetValue(keyPrefix)!.TrimEnd('/'),
            };
            if (options.Prefix.Length > 0 && Core.ContainedPath.Problem(options.Prefix) is { } prefixProblem)
            {
                io.Err.WriteLine($"--key-prefix \"{parse.GetValue(keyPrefix)}\": {prefixProblem}; expected plain relative segments such as cloudtrail or org/cloudtrail, which stay inside --out");
                return ExitCodes.UsageOrInput;
            }

            if (parse.GetValue(start) is { } startText)
            {
                if (IntegrityFilterOptions.ParseTime(startText) is not { } time)
                {
                    io.Err.WriteLine($"--start: expected a UTC time such as 2026-11-20T00:00:00Z (found \"{startText}\")");
                    return ExitCodes.UsageOrInput;
                }

                options = options with { Start = new DateTimeOffset(time.Year, time.Month, time.Day, time.Hour, 0, 0, TimeSpan.Zero) };
            }

            try
            {
                var target = parse.GetValue(output)!.FullName;
                SampleResult result;
                if (io.IsTerminal)
                {
                    result = io.Console.Progress().Start(context =>
                    {
                        var task = context.AddTask("writing chains");
                        return SampleCorpus.Write(target, options, new SynchronousProgress<(int Done, int Total)>(p => task.Value = 100.0 * p.Done / p.Total));
                    });
                }
                else
                {
                    result = SampleCorpus.Write(target, options);
                }

                if (parse.GetValue(upload) is { } url)
                {
                    using var store = S3ObjectStore.Create(url, parse.GetValue(endpoint));
                    if (store.Bucket != options.Bucket || store.Prefix.Length > 0)
                    {
                        io.Err.WriteLine($"--upload {url}: the digests name bucket '{options.Bucket}' and keys under '{options.Prefix}/AWSLogs/'; upload to s3://{options.Bucket} (or pass --bucket and --key-prefix) so the corpus stays consistent");
                        return ExitCodes.UsageOrInput;
                    }

                    var count = await store.UploadDirectoryAsync(result.Directory, cancellationToken);
                    io.Err.WriteLine($"Uploaded {count} objects to {store.Description}");
                }

                if (parse.GetValue(json))
                {
                    io.Out.WriteLine(JsonSerializer.Serialize(result, IntegrityReport.JsonOptions));
                    return ExitCodes.Ok;
                }

                io.Out.WriteLine($"Wrote {result.Digests} digests and {result.Logs} logs ({(result.UncompressedBytes / 1024.0 / 1024.0).ToString("N1", CultureInfo.InvariantCulture)} MiB uncompressed, {(result.CompressedBytes / 1024.0 / 1024.0).ToString("N1", CultureInfo.InvariantCulture)} MiB gzip) to {result.Directory}");
                io.Out.WriteLine($"Public keys: {result.PublicKeysFile}");
                io.Out.WriteLine(result.Expected.Count == 0
                    ? "No tampering: verify must report no finding."
                    : $"Tampered: verify must report exactly these {result.Expected.Count} findings (also in {result.ExpectedFindingsFile}):");
                foreach (var finding in result.Expected)
                {
                    io.Out.WriteLine($"  {finding.Kind} {finding.Key} ({TamperNames.First(t => t.Value == finding.Cause).Key})");
                }

                io.Out.WriteLine($"Verify it: auditinfra verify --source {result.Directory} --public-keys {result.PublicKeysFile}");
                return ExitCodes.Ok;
            }
            catch (Exception e) when (e is IntegrityInputException or ArgumentException or IOException or UnauthorizedAccessException or Amazon.Runtime.AmazonServiceException or Amazon.Runtime.AmazonClientException)
            {
                io.Err.WriteLine(e.Message);
                return ExitCodes.UsageOrInput;
            }
        });
        return command;
    }

    /// <summary>Kebab-case names of the tamper kinds, as typed on the command line.</summary>
    public static readonly IReadOnlyDictionary<string, TamperKind> TamperNames = Enum.GetValues<TamperKind>()
        .ToDictionary(k => string.Concat(k.ToString().Select((c, i) => i > 0 && char.IsUpper(c) ? "-" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString())), k => k);
}

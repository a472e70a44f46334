using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace AuditInfra.Core.Integrity;

/// <summary>
/// Where one chain (trail, account, region) was last proven: its newest verified digest (key, signature, SHA-256
/// of its uncompressed bytes, period) and the logs it proved that were delivered at or after its end (by minute
/// rounding; usually none). Every log delivered before <see cref="LastEnd"/> is proven by the chain up to here,
/// so the set stays small. The next run's first new digest must link to exactly this digest.
/// </summary>
public sealed record ChainCheckpoint(
    string LastDigest,
    string LastSignature,
    string LastSha256,
    DateTimeOffset LastStart,
    DateTimeOffset LastEnd,
    IReadOnlyList<string> ProvenLogs,
    DayProgress? Day = null)
{
    /// <summary>The checkpoint as the digest read before a run's first new one (the link is checked against it, not re-read).</summary>
    public DigestRead AsContext()
    {
        var key = CloudTrailKeys.Parse(LastDigest) ?? throw new FormatException($"lastDigest \"{LastDigest}\" is not a CloudTrail digest key");
        var file = new DigestFile(key.Account, Iso(LastStart), Iso(LastEnd), string.Empty, LastDigest, null, null, null, null, null, null, null, []);
        return new DigestRead(key, true, LastSignature, LastSha256, file, null, null);
    }

    private static string Iso(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}

/// <summary>
/// The part of a chain's current UTC day proven by earlier runs (the day its newest proven digest starts in):
/// its first digest and signature, when that digest's period starts, and the digests and logs so far. An
/// incremental run continues the day from here, so its <see cref="DayProof"/> covers the whole day.
/// </summary>
public sealed record DayProgress(DateOnly Date, string FirstDigest, string? FirstSignature, DateTimeOffset FirstStart, int Digests, int Logs);

/// <summary>
/// What incremental verification keeps between runs: per chain (<see cref="CloudTrailKey.ChainId"/>) its
/// <see cref="ChainCheckpoint"/>, and the source it was written for.
/// </summary>
public sealed record VerifyState(string Source, IReadOnlyDictionary<string, ChainCheckpoint> Chains)
{
    public const int CurrentVersion = 1;

    /// <summary>A state is small (a few hundred bytes per chain); anything much larger is not one and is not read whole.</summary>
    public const int MaxBytes = 64 * 1024 * 1024;

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public string ToJson() => JsonSerializer.Serialize(
        new
        {
            Version = CurrentVersion,
            Source,
            Chains = Chains.OrderBy(c => c.Key, StringComparer.Ordinal).ToDictionary(c => c.Key, c => c.Value),
        },
        Json);

    /// <summary>This state with <paramref name="advanced"/> chains replaced (chains not advanced keep their checkpoint).</summary>
    public VerifyState With(IReadOnlyDictionary<string, ChainCheckpoint> advanced)
    {
        var chains = new Dictionary<string, ChainCheckpoint>(Chains, StringComparer.Ordinal);
        foreach (var (chain, checkpoint) in advanced)
        {
            chains[chain] = checkpoint;
        }

        return this with { Chains = chains };
    }

    /// <summary>Parses a state; throws <see cref="FormatException"/> saying what is wrong (the caller names the file).</summary>
    public static VerifyState Parse(string text)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text);
        }
        catch (JsonException e)
        {
            throw new FormatException($"not JSON ({Messages.Flatten(e.Message)})");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new FormatException("expected a JSON object with version, source and chains");
            }

            if (!root.TryGetProperty("version", out var version) || version.ValueKind != JsonValueKind.Number || !version.TryGetInt32(out var v) || v != CurrentVersion)
            {
                throw new FormatException($"\"version\" must be {CurrentVersion}");
            }

            var source = root.TryGetProperty("source", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString()! : throw new FormatException("\"source\" is missing or not a string");
            if (!root.TryGetProperty("chains", out var chains) || chains.ValueKind != JsonValueKind.Object)
            {
                throw new FormatException("\"chains\" is missing or not an object");
            }

            var result = new Dictionary<string, ChainCheckpoint>(StringComparer.Ordinal);
            foreach (var chain in chains.EnumerateObject())
            {
                var c = chain.Value;
                var where = $"chains[\"{chain.Name}\"]";
                if (c.ValueKind != JsonValueKind.Object)
                {
                    throw new FormatException($"{where}: expected an object");
                }

                string Text(string name) => c.TryGetProperty(name, out var p) && p.ValueKind == JsonValueKind.String && p.GetString()!.Length > 0 ? p.GetString()! : throw new FormatException($"{where}.{name}: missing or not a string");
                DateTimeOffset Time(string name) => DateTimeOffset.TryParse(Text(name), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t : throw new FormatException($"{where}.{name}: not a time");
                var logs = new List<string>();
                if (c.TryGetProperty("provenLogs", out var provenLogs))
                {
                    if (provenLogs.ValueKind != JsonValueKind.Array || provenLogs.EnumerateArray().Any(l => l.ValueKind != JsonValueKind.String))
                    {
                        throw new FormatException($"{where}.provenLogs: expected an array of log keys");
                    }

                    logs.AddRange(provenLogs.EnumerateArray().Select(l => l.GetString()!));
                }

                DayProgress? day = null;
                if (c.TryGetProperty("day", out var d) && d.ValueKind != JsonValueKind.Null)
                {
                    try
                    {
                        day = d.Deserialize<DayProgress>(Json) ?? throw new FormatException("null");
                        _ = day.FirstDigest.Length;
                    }
                    catch (Exception e) when (e is JsonException or FormatException or NullReferenceException or NotSupportedException)
                    {
                        throw new FormatException($"{where}.day: expected date, firstDigest, firstSignature, firstStart, digests and logs");
                    }
                }

                var checkpoint = new ChainCheckpoint(Text("lastDigest"), Text("lastSignature"), Text("lastSha256"), Time("lastStart"), Time("lastEnd"), logs, day);
                if (CloudTrailKeys.Parse(checkpoint.LastDigest) is not { Kind: CloudTrailObjectKind.Digest } key || key.ChainId != chain.Name)
                {
                    throw new FormatException($"{where}.lastDigest: \"{checkpoint.LastDigest}\" is not a digest of that chain");
                }

                result[chain.Name] = checkpoint;
            }

            return new VerifyState(source, result);
        }
    }
}

/// <summary>Another run advanced a chain this run also advanced since this run read the state: nothing was written.</summary>
public sealed class StateConflictException(string message) : Exception(message);

/// <summary>Where the state lives: a file, or an S3 object written conditionally.</summary>
public interface IVerifyStateStore
{
    /// <summary>The state as given by the user (file path or s3:// URL), for messages.</summary>
    string Description { get; }

    /// <summary>The state and an opaque version (for the conditional write); null state when none was written yet.</summary>
    Task<(VerifyState? State, string? Version)> LoadAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Writes the state whole, only if it is still at <paramref name="version"/> (null: only if none exists); throws
    /// <see cref="StateConflictException"/> otherwise. Returns the new version.
    /// </summary>
    Task<string?> SaveAsync(VerifyState state, string? version, CancellationToken cancellationToken);
}

/// <summary>
/// A state file, written through a temporary and a rename (<see cref="AtomicFile"/>): a reader never sees half of
/// it. The version is the file's content hash. A write compares it and replaces the file under an exclusive lock
/// file beside it (<see cref="LockPath"/>), so two runs never both replace the state they read: the later one
/// finds the version changed, as with S3's conditional write, and merges or stops.
/// </summary>
public sealed class FileStateStore(string path, TimeSpan? staleLockAfter = null) : IVerifyStateStore
{
    /// <summary>
    /// How old a lock file may be before it is taken for one left by a run that died: it is held only while a state
    /// (at most <see cref="VerifyState.MaxBytes"/>) is read and written once, which takes seconds at most.
    /// </summary>
    public static readonly TimeSpan DefaultStaleLockAfter = TimeSpan.FromMinutes(2);

    public string Description => path;

    public string LockPath => path + ".lock";

    public Task<(VerifyState? State, string? Version)> LoadAsync(CancellationToken cancellationToken)
    {
        if (!File.Exists(path))
        {
            if (Directory.Exists(path))
            {
                throw new IntegrityInputException($"--state {path}: is a folder; expected a state file (created on the first run)");
            }

            return Task.FromResult<(VerifyState?, string?)>((null, null));
        }

        var text = Read();
        try
        {
            return Task.FromResult<(VerifyState?, string?)>((VerifyState.Parse(text), Version(text)));
        }
        catch (FormatException e)
        {
            throw new IntegrityInputException($"--state {path}: not a verify state: {e.Message} (delete it to start again with a full run)");
        }
    }

    public async Task<string?> SaveAsync(VerifyState state, string? version, CancellationToken cancellationToken)
    {
        // As before the lock: the first write of a state creates its folder (AtomicFile does), so the lock beside it needs it first.
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        using var held = await StateFileLock.AcquireAsync(path, LockPath, staleLockAfter ?? DefaultStaleLockAfter, cancellationToken);
        var current = File.Exists(path) ? Version(Read()) : null;
        if (current != version)
        {
            throw new StateConflictException($"--state {path} was changed by another run since this one read it");
        }

        var text = state.ToJson();
        AtomicFile.WriteAllText(path, text);
        return Version(text);
    }

    private string Read()
    {
        if (LocalDirectoryStore.TypeOf(path) != LocalEntryType.Regular)
        {
            throw new IntegrityInputException($"--state {path}: not a regular file (a link or special file is never read or replaced)");
        }

        var info = new FileInfo(path);
        if (info.Length > VerifyState.MaxBytes)
        {
            throw new IntegrityInputException($"--state {path}: {info.Length} bytes, more than a verify state ever is ({VerifyState.MaxBytes})");
        }

        return File.ReadAllText(path);
    }

    private static string Version(string text) => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)));
}

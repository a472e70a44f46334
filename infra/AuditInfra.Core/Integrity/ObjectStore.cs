namespace AuditInfra.Core.Integrity;

/// <summary>One object of a listing: its key (relative to the bucket root), size and ETag when known.</summary>
public sealed record ObjectEntry(string Key, long Size, string? ETag = null);

/// <summary>An opened object: its content stream and, for digests, the hex signature from <c>x-amz-meta-signature</c>.</summary>
public sealed class StoredObject(Stream content, string? signature, string? etag = null) : IAsyncDisposable, IDisposable
{
    public Stream Content { get; } = content;

    public string? Signature { get; } = signature;

    public string? ETag { get; } = etag;

    public ValueTask DisposeAsync() => Content.DisposeAsync();

    public void Dispose() => Content.Dispose();
}

/// <summary>
/// Where the log and digest files are read from: an S3 bucket (signature in the object metadata) or a
/// local copy laid out like the bucket (signature of <c>K</c> in the file <c>K.signature</c>).
/// </summary>
public interface IObjectStore
{
    /// <summary>How the source is named to a user, e.g. <c>s3://bucket/prefix</c> or a directory.</summary>
    string Description { get; }

    /// <summary>The bucket name when known (S3), so digestS3Bucket / s3Bucket fields can be checked.</summary>
    string? Bucket { get; }

    /// <summary>The key prefix every listed key starts with ("" for the whole source).</summary>
    string Prefix { get; }

    /// <summary>True when reads are local and cheap: the verifier reads synchronously with one worker per core.</summary>
    bool IsLocal { get; }

    /// <summary>Lists every object under <see cref="Prefix"/> + <paramref name="subPrefix"/> (signature side files excluded).</summary>
    IAsyncEnumerable<ObjectEntry> ListAsync(string subPrefix, CancellationToken cancellationToken);

    /// <summary>
    /// The folders directly under <see cref="Prefix"/> + <paramref name="subPrefix"/> (S3: the common prefixes of a
    /// delimiter listing), as keys ending in '/', so a verifier can walk the layout one account and region at a time.
    /// </summary>
    IAsyncEnumerable<string> ListFoldersAsync(string subPrefix, CancellationToken cancellationToken);

    /// <summary>Opens an object. Throws <see cref="ObjectNotFoundException"/> when it does not exist.</summary>
    Task<StoredObject> OpenAsync(string key, bool withSignature, CancellationToken cancellationToken);
}

/// <summary>The object does not exist in the store.</summary>
public sealed class ObjectNotFoundException(string key) : Exception($"object not found: {key}")
{
    public string Key { get; } = key;
}

/// <summary>The source or an input file cannot be used at all (access denied, unreadable, malformed): exit code 2.</summary>
public sealed class IntegrityInputException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>A local copy laid out like the bucket; the signature of digest <c>K</c> is the hex text in <c>K.signature</c>.</summary>
public sealed class LocalDirectoryStore : IObjectStore
{
    public const string SignatureSuffix = ".signature";

    public LocalDirectoryStore(string root, string prefix = "")
    {
        Root = Path.GetFullPath(root);
        if (!Directory.Exists(Root))
        {
            throw new IntegrityInputException($"source directory '{root}' does not exist or is not a directory");
        }

        Prefix = prefix;
    }

    public string Root { get; }

    public string Description => Root;

    public string? Bucket => null;

    public string Prefix { get; }

    public bool IsLocal => true;

    public async IAsyncEnumerable<ObjectEntry> ListAsync(string subPrefix, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var full = Prefix + subPrefix;
        // Start from the deepest existing directory of the prefix, then filter on the full key.
        var slash = full.LastIndexOf('/');
        var startDir = slash < 0 ? Root : Path.Combine(Root, full[..slash]);
        if (!Directory.Exists(startDir))
        {
            yield break;
        }

        var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = false, AttributesToSkip = 0 };
        var keys = new List<ObjectEntry>();
        foreach (var file in new DirectoryInfo(startDir).EnumerateFiles("*", options))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var key = Path.GetRelativePath(Root, file.FullName).Replace(Path.DirectorySeparatorChar, '/');
            if (!key.StartsWith(full, StringComparison.Ordinal) || key.EndsWith(SignatureSuffix, StringComparison.Ordinal) || key.EndsWith(".partial", StringComparison.Ordinal))
            {
                continue;
            }

            keys.Add(new ObjectEntry(key, file.Length));
        }

        keys.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        foreach (var entry in keys)
        {
            yield return entry;
        }

        await Task.CompletedTask;
    }

    public async IAsyncEnumerable<string> ListFoldersAsync(string subPrefix, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var full = Prefix + subPrefix;
        var directory = full.Length == 0 ? Root : PathOf(full.TrimEnd('/'));
        if (!full.EndsWith('/') && full.Length > 0 || !Directory.Exists(directory))
        {
            yield break;
        }

        var folders = Directory.EnumerateDirectories(directory).Select(d => full + Path.GetFileName(d) + "/").ToList();
        folders.Sort(StringComparer.Ordinal);
        foreach (var folder in folders)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return folder;
        }

        await Task.CompletedTask;
    }

    public string PathOf(string key) => Path.Combine(Root, key.Replace('/', Path.DirectorySeparatorChar));

    public Task<StoredObject> OpenAsync(string key, bool withSignature, CancellationToken cancellationToken)
    {
        var path = PathOf(key);
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ObjectNotFoundException(key);
        }

        string? signature = null;
        if (withSignature && File.Exists(path + SignatureSuffix))
        {
            signature = File.ReadAllText(path + SignatureSuffix).Trim();
        }

        return Task.FromResult(new StoredObject(stream, signature));
    }
}

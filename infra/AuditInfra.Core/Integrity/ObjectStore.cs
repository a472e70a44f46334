using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace AuditInfra.Core.Integrity;

/// <summary>
/// One object of a listing: its key (relative to the bucket root), size, ETag when known, and its S3 storage class
/// (null for a local copy, which is read directly like STANDARD; see <see cref="ArchiveStorage"/>), with the restore
/// status the listing gave when it gave one (ListObjectsV2's RestoreStatus; null when absent).
/// </summary>
public sealed record ObjectEntry(string Key, long Size, string? ETag = null, string? StorageClass = null, ArchivedObjectStatus? ListedRestore = null);

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

    /// <summary>
    /// Opens an object and consumes it as one unit under the store's single retry policy: a body that breaks off
    /// mid-stream is opened and consumed again from its start, so <paramref name="consume"/> must start afresh
    /// each time. This default covers stores without a policy of their own (<see cref="SourceRetry.None"/> for
    /// a local copy, <see cref="SourceRetry.Remote"/> otherwise); a store with one overrides it so that its
    /// requests are retried in this one place and never twice over.
    /// </summary>
    async Task<T> ReadAsync<T>(string key, bool withSignature, Func<StoredObject, CancellationToken, Task<T>> consume, CancellationToken cancellationToken) =>
        await (IsLocal ? SourceRetry.None : SourceRetry.Remote).ExecuteAsync(
            async ct =>
            {
                await using var stored = await OpenAsync(key, withSignature, ct);
                return await consume(stored, ct);
            },
            cancellationToken);
}

/// <summary>The object does not exist in the store.</summary>
public sealed class ObjectNotFoundException(string key) : Exception($"object not found: {key}")
{
    public string Key { get; } = key;
}

/// <summary>The source or an input file cannot be used at all (access denied, unreadable, malformed): exit code 2.</summary>
public sealed class IntegrityInputException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Something in a local copy that is not a directory or a regular file: never followed, never opened.</summary>
public sealed record IrregularEntry(string Key, LocalEntryType Type, string Description);

/// <summary>What a directory entry is, read without following it (lstat).</summary>
public enum LocalEntryType
{
    Regular,
    Directory,
    SymbolicLink,

    /// <summary>A FIFO, socket or device: opening a FIFO blocks until a writer comes, so none is ever opened.</summary>
    Special,
    Missing,
}

/// <summary>
/// A local copy laid out like the bucket; the signature of digest <c>K</c> is the hex text in <c>K.signature</c>.
/// The copy is evidence that may have been tampered with: the walk never follows a symbolic link (a link
/// loop would walk forever; a link out of the copy would certify files that are not in it) and never opens
/// anything but a regular file. Such entries are collected as <see cref="IrregularEntry"/> for the verifier to report.
/// </summary>
public sealed class LocalDirectoryStore : IObjectStore
{
    public const string SignatureSuffix = ".signature";

    /// <summary>A signature is 512 hex characters for RSA-2048; anything much larger is not one and is not read whole.</summary>
    public const int MaxSignatureBytes = 64 * 1024;

    private readonly ConcurrentDictionary<string, IrregularEntry> irregular = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> orphanSignatures = new(StringComparer.Ordinal);

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

    /// <summary>Links and special files met by the listings so far, by key; taking them clears the list.</summary>
    public IReadOnlyList<IrregularEntry> TakeIrregularEntries()
    {
        var taken = irregular.Values.OrderBy(e => e.Key, StringComparer.Ordinal).ToList();
        foreach (var entry in taken)
        {
            irregular.TryRemove(entry.Key, out _);
        }

        return taken;
    }

    /// <summary>
    /// <c>.signature</c> files the listings so far met beside no object of the name they sign (by key, to the key
    /// they name); taking them clears the list. A signature signs the object of its name; one without it was left
    /// behind when that object was removed, or put there.
    /// </summary>
    public IReadOnlyList<(string Key, string Signs)> TakeOrphanSignatures()
    {
        var taken = orphanSignatures.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => (e.Key, e.Value)).ToList();
        foreach (var (key, _) in taken)
        {
            orphanSignatures.TryRemove(key, out _);
        }

        return taken;
    }

    public async IAsyncEnumerable<ObjectEntry> ListAsync(string subPrefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var full = Prefix + subPrefix;
        // Start from the deepest directory of the prefix, then keep to the keys under the full prefix.
        var slash = full.LastIndexOf('/');
        var startKey = slash < 0 ? string.Empty : full[..slash];
        if (!IsPlainDirectory(startKey))
        {
            yield break;
        }

        var keys = new List<ObjectEntry>();
        var pending = new Stack<string>();
        pending.Push(startKey);
        while (pending.Count > 0)
        {
            var directoryKey = pending.Pop();
            var names = new HashSet<string>(StringComparer.Ordinal);
            var signatures = new List<string>();
            foreach (var info in new DirectoryInfo(PathOf(directoryKey)).EnumerateFileSystemInfos("*", OneLevel))
            {
                cancellationToken.ThrowIfCancellationRequested();
                names.Add(info.Name);
                var key = directoryKey.Length == 0 ? info.Name : directoryKey + "/" + info.Name;
                var isDirectory = info is DirectoryInfo;
                if (!(isDirectory ? (key + "/").StartsWith(full, StringComparison.Ordinal) || full.StartsWith(key + "/", StringComparison.Ordinal) : key.StartsWith(full, StringComparison.Ordinal)))
                {
                    continue;
                }

                var type = info.Attributes.HasFlag(FileAttributes.ReparsePoint) ? LocalEntryType.SymbolicLink : isDirectory ? LocalEntryType.Directory : TypeOf(info.FullName);
                switch (type)
                {
                    case LocalEntryType.Directory:
                        pending.Push(key);
                        break;
                    case LocalEntryType.Regular:
                        if (!key.EndsWith(SignatureSuffix, StringComparison.Ordinal))
                        {
                            keys.Add(new ObjectEntry(key, ((FileInfo)info).Length));
                        }
                        else
                        {
                            signatures.Add(info.Name);
                        }

                        break;
                    case LocalEntryType.Missing:
                        break;
                    default:
                        Record(key, type, info);
                        break;
                }
            }

            foreach (var signature in signatures)
            {
                var signs = signature[..^SignatureSuffix.Length];
                if (!names.Contains(signs))
                {
                    var key = directoryKey.Length == 0 ? signature : directoryKey + "/" + signature;
                    orphanSignatures.TryAdd(key, key[..^SignatureSuffix.Length]);
                }
            }
        }

        keys.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        foreach (var entry in keys)
        {
            yield return entry;
        }

        await Task.CompletedTask;
    }

    public async IAsyncEnumerable<string> ListFoldersAsync(string subPrefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var full = Prefix + subPrefix;
        if ((!full.EndsWith('/') && full.Length > 0) || !IsPlainDirectory(full.TrimEnd('/')))
        {
            yield break;
        }

        var folders = new List<string>();
        foreach (var info in new DirectoryInfo(full.Length == 0 ? Root : PathOf(full.TrimEnd('/'))).EnumerateDirectories("*", OneLevel))
        {
            if (info.Attributes.HasFlag(FileAttributes.ReparsePoint))
            {
                Record(full + info.Name, LocalEntryType.SymbolicLink, info);
                continue;
            }

            folders.Add(full + info.Name + "/");
        }

        folders.Sort(StringComparer.Ordinal);
        foreach (var folder in folders)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return folder;
        }

        await Task.CompletedTask;
    }

    public string PathOf(string key) => key.Length == 0 ? Root : Path.Combine(Root, key.Replace('/', Path.DirectorySeparatorChar));

    public Task<StoredObject> OpenAsync(string key, bool withSignature, CancellationToken cancellationToken)
    {
        var path = PathOf(key);
        // Checked again at open: the listing may be old, and opening a FIFO would block for ever.
        var type = TypeOf(path);
        if (type != LocalEntryType.Regular)
        {
            if (type != LocalEntryType.Missing)
            {
                Record(key, type, null);
            }

            throw new ObjectNotFoundException(key);
        }

        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ObjectNotFoundException(key);
        }

        return Task.FromResult(new StoredObject(stream, withSignature ? ReadSignature(key) : null));
    }

    /// <summary>The signature side file, read only when it is a regular file and at most <see cref="MaxSignatureBytes"/> long.</summary>
    private string? ReadSignature(string key)
    {
        var signatureKey = key + SignatureSuffix;
        var path = PathOf(signatureKey);
        var type = TypeOf(path);
        if (type == LocalEntryType.Missing)
        {
            return null;
        }

        if (type != LocalEntryType.Regular)
        {
            Record(signatureKey, type, null);
            return null;
        }

        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1);
        var buffer = new byte[MaxSignatureBytes + 1];
        var length = 0;
        int read;
        while (length < buffer.Length && (read = file.Read(buffer, length, buffer.Length - length)) > 0)
        {
            length += read;
        }

        // An oversized file is passed on cut short: it is no valid hex signature, so the digest is reported as badly signed.
        return System.Text.Encoding.UTF8.GetString(buffer, 0, Math.Min(length, MaxSignatureBytes)).Trim();
    }

    private static readonly EnumerationOptions OneLevel = new() { RecurseSubdirectories = false, IgnoreInaccessible = false, AttributesToSkip = 0, ReturnSpecialDirectories = false };

    /// <summary>True when every folder from the root down to <paramref name="relativeKey"/> is a directory and not a link (links met are recorded).</summary>
    private bool IsPlainDirectory(string relativeKey)
    {
        var key = string.Empty;
        foreach (var segment in relativeKey.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            key = key.Length == 0 ? segment : key + "/" + segment;
            var type = TypeOf(PathOf(key));
            if (type == LocalEntryType.Directory)
            {
                continue;
            }

            if (type is LocalEntryType.SymbolicLink or LocalEntryType.Special)
            {
                Record(key, type, null);
            }

            return false;
        }

        return true;
    }

    private void Record(string key, LocalEntryType type, FileSystemInfo? info)
    {
        var description = type switch
        {
            LocalEntryType.SymbolicLink => $"a symbolic link{((info ?? new FileInfo(PathOf(key))).LinkTarget is { } target ? $" to {target}" : string.Empty)}, not followed",
            _ => $"a {SpecialName(PathOf(key))}, not opened",
        };
        irregular.TryAdd(key, new IrregularEntry(key, type, description));
    }

    /// <summary>What is at <paramref name="path"/>, without following a link in its last component.</summary>
    public static LocalEntryType TypeOf(string path) => OperatingSystem.IsLinux() ? UnixFileType.Of(path) : PortableTypeOf(path);

    internal static LocalEntryType PortableTypeOf(string path)
    {
        // Without lstat's file type (outside Linux) a FIFO cannot be told from a regular file; links still are.
        FileSystemInfo info = Directory.Exists(path) ? new DirectoryInfo(path) : new FileInfo(path);
        if (!info.Exists && info.LinkTarget is null)
        {
            return LocalEntryType.Missing;
        }

        return info.Attributes.HasFlag(FileAttributes.ReparsePoint) ? LocalEntryType.SymbolicLink : info is DirectoryInfo ? LocalEntryType.Directory : LocalEntryType.Regular;
    }

    private static string SpecialName(string path) => OperatingSystem.IsLinux() ? UnixFileType.NameOf(path) : "special file";
}

/// <summary>The file type from statx(2) with AT_SYMLINK_NOFOLLOW: its layout is the same on every Linux architecture, unlike struct stat.</summary>
internal static class UnixFileType
{
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxType = 0x1;
    private const int StatxSize = 256;
    private const int ModeOffset = 28;
    private const int ENOENT = 2;
    private const int ENOTDIR = 20;

    [DllImport("libc", SetLastError = true, EntryPoint = "statx")]
    private static extern int Statx(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, byte[] buffer);

    private const int ENOSYS = 38;
    private const int EPERM = 1;

    /// <summary>The S_IFMT bits; null when nothing is there; -1 when statx is not available (old kernel, seccomp).</summary>
    private static int? ModeOf(string path)
    {
        var buffer = new byte[StatxSize];
        if (Statx(AtFdCwd, path, AtSymlinkNoFollow, StatxType, buffer) == 0)
        {
            return BitConverter.ToUInt16(buffer, ModeOffset) & 0xF000;
        }

        var errno = Marshal.GetLastPInvokeError();
        return errno switch
        {
            ENOENT or ENOTDIR => null,
            ENOSYS or EPERM => -1,
            _ => throw new IOException($"cannot read the type of '{path}' (errno {errno})"),
        };
    }

    public static LocalEntryType Of(string path) => ModeOf(path) switch
    {
        null => LocalEntryType.Missing,
        -1 => LocalDirectoryStore.PortableTypeOf(path),
        0x8000 => LocalEntryType.Regular,
        0x4000 => LocalEntryType.Directory,
        0xA000 => LocalEntryType.SymbolicLink,
        _ => LocalEntryType.Special,
    };

    public static string NameOf(string path) => ModeOf(path) switch
    {
        0x1000 => "FIFO (named pipe)",
        0xC000 => "socket",
        0x2000 => "character device",
        0x6000 => "block device",
        _ => "special file",
    };
}

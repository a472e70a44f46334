namespace AuditInfra.Core.Integrity.Attestations;

/// <summary>Writes new objects into the store attestations live in, never replacing one that is there.</summary>
public interface IObjectWriter
{
    /// <summary>How the destination is named to a user.</summary>
    string Description { get; }

    /// <summary>
    /// Creates <paramref name="key"/> (relative to the bucket or folder root, prefix included) with <paramref name="content"/>
    /// unless something is already there: false then, and nothing is written. Readers never see part of the object.
    /// </summary>
    Task<bool> CreateIfAbsentAsync(string key, byte[] content, CancellationToken cancellationToken);
}

/// <summary>
/// A local copy's folder: each object through a temporary file beside it, then a rename that does not replace (so a
/// second writer of the same key loses cleanly); names stay inside the folder and nothing is written through a link.
/// </summary>
public sealed class LocalObjectWriter(string root) : IObjectWriter
{
    public string Root { get; } = Path.GetFullPath(root);

    public string Description => Root;

    public Task<bool> CreateIfAbsentAsync(string key, byte[] content, CancellationToken cancellationToken)
    {
        var path = ContainedPath.Resolve(Root, key);
        if (LocalDirectoryStore.TypeOf(path) != LocalEntryType.Missing)
        {
            return Task.FromResult(false);
        }

        var directory = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(directory);
        // Created folders are checked again: one may have been replaced by a link since Resolve looked.
        ContainedPath.Resolve(Root, key);
        var temp = Path.Combine(directory, $".{Path.GetFileName(path)}.{Guid.NewGuid():n}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                stream.Write(content);
                stream.Flush(flushToDisk: true);
            }

            try
            {
                File.Move(temp, path, overwrite: false);
                return Task.FromResult(true);
            }
            catch (IOException) when (LocalDirectoryStore.TypeOf(path) != LocalEntryType.Missing)
            {
                return Task.FromResult(false);
            }
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }
}

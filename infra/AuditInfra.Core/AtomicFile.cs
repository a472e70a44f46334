namespace AuditInfra.Core;

/// <summary>Writes a file through a temporary beside it, so a reader never sees half of it and a crash leaves the old one.</summary>
public static class AtomicFile
{
    public static void WriteAllText(string path, string content)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var temp = $"{path}.{Guid.NewGuid():n}.tmp";
        try
        {
            // CreateNew: an entry already at the temporary name (a planted link) is never written through.
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            using (var writer = new StreamWriter(stream))
            {
                writer.Write(content);
            }

            // A rename replaces a link at the target itself; it never writes into what the link points to.
            File.Move(temp, path, overwrite: true);
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

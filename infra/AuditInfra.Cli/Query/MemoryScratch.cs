namespace AuditInfra.Cli.Query;

/// <summary>
/// Private folders in memory-backed <c>/dev/shm</c> for files that live for seconds: a bucket day's fetched logs, read
/// once by DuckDB and deleted. On a disk's file system, creating and deleting hundreds of small files a day costs more
/// CPU than reading them (the file system's inode allocation, seen in profiles of `query --source s3://`).
/// </summary>
internal static class MemoryScratch
{
    private const string Root = "/dev/shm";

    /// <summary>The largest day (in listed bytes) kept in memory; DuckDB holds that day's records in memory anyway.</summary>
    public const long LargestDay = 256L << 20;

    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>
    /// A new folder, readable by its owner only, for <paramref name="bytes"/> of files, or null where there is no
    /// memory-backed file system, or the files would take more than a quarter of its free space, or more than
    /// <see cref="LargestDay"/>.
    /// </summary>
    public static string? TryCreate(long bytes)
    {
        if (!OperatingSystem.IsLinux() || bytes > LargestDay)
        {
            return null;
        }

        try
        {
            var root = new DirectoryInfo(Root);
            if (!root.Exists || root.LinkTarget is not null)
            {
                return null;
            }

            var drive = new DriveInfo(Root);
            if (drive.DriveFormat != "tmpfs" || drive.AvailableFreeSpace / 4 < bytes)
            {
                return null;
            }

            SweepAbandoned();

            // A random name in a folder every user can write to: nobody can have made it first. The process id in it
            // lets a later run remove the folder of a run that was killed before it could (memory is not freed by a reboot
            // that never comes).
            var path = Path.Combine(Root, $"{NamePrefix}{Environment.ProcessId}-{Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16))}");
            Directory.CreateDirectory(path, OwnerOnly);
            var created = new DirectoryInfo(path);
            if (created.LinkTarget is null && created.UnixFileMode == OwnerOnly)
            {
                return path;
            }

            created.Delete();
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private const string NamePrefix = "auditinfra-query-";

    /// <summary>
    /// Removes the folders this tool made for runs that are no longer running (killed before their clean-up): only
    /// names of exactly this tool's shape (<c>auditinfra-query-PID-</c> and 32 hex digits) whose process is gone. A
    /// folder of another user cannot be opened, and is left as it is.
    /// </summary>
    internal static void SweepAbandoned(string root = Root)
    {
        foreach (var folder in Directory.EnumerateDirectories(root, NamePrefix + "*"))
        {
            var rest = Path.GetFileName(folder)[NamePrefix.Length..].Split('-');
            if (rest is not [var pid, var random] || random.Length != 32 || !random.All(char.IsAsciiHexDigitLower)
                || !int.TryParse(pid, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id) || Core.LocalProcesses.IsRunning(id))
            {
                continue;
            }

            try
            {
                if (new DirectoryInfo(folder).LinkTarget is null)
                {
                    Directory.Delete(folder, recursive: true);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Another user's, or being removed by another run: not ours to insist on.
            }
        }
    }
}

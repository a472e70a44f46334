using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace AuditInfra.Core.Integrity;

/// <summary>
/// An exclusive lock on a state file: a lock file beside it, created only if absent (<see cref="FileMode.CreateNew"/>,
/// atomic on every local file system) and naming the run that holds it (pid, host, time, a token of its own). It is
/// held only while a run compares and replaces the state, so a run that finds it waits; one that outlives
/// <c>staleAfter</c> (or names a process of this host that is gone) was left by a run that died mid-write and is
/// reported, never removed: only the run whose token it holds deletes it.
/// </summary>
internal sealed class StateFileLock : IDisposable
{
    private const int MaxLockBytes = 4096;

    /// <summary>Creations refused with nothing at the name afterwards (a lock released in between) before the refusal is taken for a real error.</summary>
    private const int MaxVanished = 100;

    private readonly string lockPath;
    private readonly string token;

    private StateFileLock(string lockPath, string token)
    {
        this.lockPath = lockPath;
        this.token = token;
    }

    public static async Task<StateFileLock> AcquireAsync(string statePath, string lockPath, TimeSpan staleAfter, CancellationToken cancellationToken)
    {
        var token = Guid.NewGuid().ToString("N");
        var content = JsonSerializer.Serialize(new LockHolder(Environment.ProcessId, Environment.MachineName, DateTimeOffset.UtcNow, token));
        var vanished = 0;
        var waiting = Stopwatch.StartNew();
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            FileStream? created = null;
            try
            {
                created = new FileStream(lockPath, FileMode.CreateNew, FileAccess.Write, FileShare.Read);
            }
            catch (IOException) when (LocalDirectoryStore.TypeOf(lockPath) != LocalEntryType.Missing)
            {
                // Held by another run (or something else is at that name): looked at below.
                vanished = 0;
            }
            catch (IOException e) when (e is not DirectoryNotFoundException && ++vanished < MaxVanished)
            {
                // Most likely released between the attempt and the look: tried again at once.
                continue;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new IntegrityInputException($"--state {statePath}: cannot create its lock file {lockPath} ({Messages.Flatten(e.Message)}); the state's folder must be writable");
            }

            if (created is not null)
            {
                try
                {
                    using (created)
                    {
                        created.Write(Encoding.UTF8.GetBytes(content));
                    }
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // Created by this run a moment ago: removing it is removing our own.
                    File.Delete(lockPath);
                    throw new IntegrityInputException($"--state {statePath}: cannot write its lock file {lockPath} ({Messages.Flatten(e.Message)})");
                }

                return new StateFileLock(lockPath, token);
            }

            if (Stale(statePath, lockPath, staleAfter) is { } stale)
            {
                throw new IntegrityInputException(stale);
            }

            // A lock file whose time is in the future (another host's clock) never ages: the wait itself is bounded too.
            if (waiting.Elapsed > staleAfter)
            {
                throw new IntegrityInputException($"--state {statePath}: the lock file {lockPath} has been held for more than {Span(staleAfter)}, far longer than a state write takes; if no verify is writing {statePath}, remove it (rm '{lockPath}') and run again");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(20, 80)), cancellationToken);
        }
    }

    /// <summary>Why the lock file at <paramref name="lockPath"/> will not go away by itself, or null while it is a live run's.</summary>
    private static string? Stale(string statePath, string lockPath, TimeSpan staleAfter)
    {
        var removal = $"if no verify is writing {statePath}, remove it (rm '{lockPath}') and run again";
        var type = LocalDirectoryStore.TypeOf(lockPath);
        if (type == LocalEntryType.Missing)
        {
            return null;
        }

        if (type != LocalEntryType.Regular)
        {
            var what = type switch { LocalEntryType.Directory => "folder", LocalEntryType.SymbolicLink => "link", _ => "special file" };
            return $"--state {statePath}: {lockPath} is a {what}, not a lock file of a verify run; {removal}";
        }

        DateTime written;
        LockHolder? holder;
        try
        {
            written = File.GetLastWriteTimeUtc(lockPath);
            holder = ReadHolder(lockPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Removed between the look and the read: the next attempt takes it.
            return null;
        }

        var age = DateTime.UtcNow - written;
        var who = holder is null ? "by an unknown writer" : $"by pid {holder.Pid} on {holder.Host} at {holder.Time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)}";
        if (age > staleAfter)
        {
            return $"--state {statePath}: the lock file {lockPath} (written {who}) is {Span(age)} old, far longer than a state write takes, so the run that wrote it died mid-write; {removal}";
        }

        if (holder is not null && holder.Host == Environment.MachineName && holder.Pid != Environment.ProcessId && !LocalProcesses.IsRunning(holder.Pid))
        {
            return $"--state {statePath}: the lock file {lockPath} was written {who}, a process that is no longer running; {removal}";
        }

        return null;
    }

    private static string Span(TimeSpan span) => span >= TimeSpan.FromMinutes(1)
        ? $"{Math.Floor(span.TotalMinutes).ToString(CultureInfo.InvariantCulture)} min"
        : $"{Math.Floor(span.TotalSeconds).ToString(CultureInfo.InvariantCulture)} s";

    /// <summary>The holder named in a lock file, read bounded; null when it is not one this tool wrote (or is still being written).</summary>
    private static LockHolder? ReadHolder(string lockPath)
    {
        using var stream = new FileStream(lockPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var buffer = new byte[MaxLockBytes];
        var length = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        try
        {
            return JsonSerializer.Deserialize<LockHolder>(buffer.AsSpan(0, length)) is { Token.Length: > 0, Host: not null } holder ? holder : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Removes the lock file if it still is this run's (someone may have removed it and another run taken the lock since).</summary>
    public void Dispose()
    {
        try
        {
            if (LocalDirectoryStore.TypeOf(lockPath) == LocalEntryType.Regular && ReadHolder(lockPath)?.Token == token)
            {
                File.Delete(lockPath);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left behind it is reported as stale by the next run, naming itself; the state was written either way.
        }
    }

    private sealed record LockHolder(int Pid, string Host, DateTimeOffset Time, string Token);
}

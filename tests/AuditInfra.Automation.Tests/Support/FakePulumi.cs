namespace AuditInfra.Automation.Tests.Support;

/// <summary>
/// A fake <c>pulumi</c> executable first on PATH (Pulumi.Automation runs "pulumi" from PATH): a
/// bash script in a temp folder that records every call (working folder, backend, arguments) to
/// calls.log and answers from files beside it, so a test can make <c>up</c> hit a lock, wait for a
/// signal, or fail, and <c>preview</c> emit policy events into the engine event log.
/// </summary>
public sealed class FakePulumi : IDisposable
{
    private const string Script = """
        #!/usr/bin/env bash
        here="$(cd "$(dirname "$0")" && pwd)"
        printf '%s\t%s\t%s\t%s\n' "$PWD" "${PULUMI_BACKEND_URL:-}" "${PULUMI_CONFIG_PASSPHRASE:+passphrase}" "$*" >> "$here/calls.log"
        stack=""; eventlog=""; configfile=""; prev=""
        for a in "$@"; do
          if [ "$a" = "--policy-pack-configs" ]; then echo "error: unknown flag: --policy-pack-configs" >&2; exit 255; fi
          case "$prev" in
            --stack) stack="$a";;
            --event-log) eventlog="$a";;
            --config-file) configfile="$a";;
          esac
          prev="$a"
        done
        stacks_dir() {
          case "${PULUMI_BACKEND_URL:-}" in
            file://*) echo "${PULUMI_BACKEND_URL#file://}/.pulumi/stacks";;
            *) echo "$here/stacks";;
          esac
        }
        emit() { if [ -n "$eventlog" ]; then printf '%s\n' "$1" >> "$eventlog"; fi; }
        history() { printf '[{"kind":"%s","startTime":"2026-12-04T10:00:00Z","endTime":"2026-12-04T10:01:00Z","result":"succeeded","version":1,"resourceChanges":%s}]\n' "$1" "$2"; }
        fail_if_asked() { if [ -f "$here/$1-error" ]; then cat "$here/$1-error" >&2; exit 255; fi; }
        locked() {
          if [ -f "$here/lock" ]; then
            at="$(cat "$here/lock")"
            if [ "$at" = "cloud" ]; then echo "error: [409] Conflict: Another update is currently in progress." >&2; exit 255; fi
            echo "error: the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end or delete the lock file with \`pulumi cancel\`." >&2
            echo "  s3://state/.pulumi/locks/organization/auditinfra-account/$stack/0b5c.json: created by rollout@host-1 (pid 4242) at $at" >&2
            exit 255
          fi
        }
        case "$1" in
          version) echo "v3.200.0";;
          stack)
            case "$2" in
              select) if [ -f "$(stacks_dir)/$stack" ]; then exit 0; fi; echo "error: no stack named '$stack' found" >&2; exit 255;;
              init) fail_if_asked init; mkdir -p "$(stacks_dir)"; echo "$*" > "$(stacks_dir)/$3";;
              output) echo "{}";;
              history) cat "$here/last-history" 2>/dev/null || echo "[]";;
            esac;;
          up)
            if [ -f "$here/up-events" ]; then while IFS= read -r line || [ -n "$line" ]; do emit "$line"; done < "$here/up-events"; fi
            fail_if_asked up; locked
            if [ -f "$here/up-waits" ]; then
              trap 'echo "SIGINT" >> "$here/calls.log"; echo "error: update canceled" >&2; exit 255' INT
              sleep 30 & wait $!
              echo "not interrupted" >> "$here/calls.log"
            fi
            history update '{"create":3}' > "$here/last-history";;
          preview)
            if [ -n "$configfile" ]; then cp "$configfile" "$here/preview-config"; fi
            if [ -f "$here/preview-events" ]; then while IFS= read -r line || [ -n "$line" ]; do emit "$line"; done < "$here/preview-events"; fi
            emit '{"sequence":99,"timestamp":0,"summaryEvent":{"maybeCorrupt":false,"durationSeconds":1,"resourceChanges":{"create":3},"policyPacks":{}}}'
            fail_if_asked preview;;
          refresh)
            fail_if_asked refresh; locked
            history refresh "$(cat "$here/refresh-changes" 2>/dev/null || echo '{"same":3}')" > "$here/last-history";;
          cancel) rm -f "$here/lock";;
        esac
        exit 0
        """;

    private readonly string? _previousPath;

    public FakePulumi()
    {
        Folder = Directory.CreateTempSubdirectory("fake-pulumi-").FullName;
        var script = Path.Combine(Folder, "pulumi");
        File.WriteAllText(script, Script.ReplaceLineEndings("\n") + "\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        Directory.CreateDirectory(Path.Combine(Folder, "stacks"));
        _previousPath = Environment.GetEnvironmentVariable("PATH");
        Environment.SetEnvironmentVariable("PATH", Folder + Path.PathSeparator + _previousPath);
    }

    public string Folder { get; }

    /// <summary>Each call: working folder, PULUMI_BACKEND_URL, whether a passphrase was set, arguments.</summary>
    public IReadOnlyList<Call> Calls =>
        File.Exists(LogPath)
            ? [.. File.ReadAllLines(LogPath).Select(line => line.Split('\t')).Select(f => f.Length == 4 ? new Call(f[0], f[1], f[2] == "passphrase", f[3]) : new Call("", "", false, f[0]))]
            : [];

    public string LogPath => Path.Combine(Folder, "calls.log");

    public void ExistingStack(string name) => File.WriteAllText(Path.Combine(Folder, "stacks", name), "existing");

    public bool StackExists(string name) => File.Exists(Path.Combine(Folder, "stacks", name));

    /// <summary>Makes <c>up</c>/<c>refresh</c> fail as locked: DIY style with the lock's creation time, or "cloud" for the service's 409.</summary>
    public void Lock(string createdAtOrCloud) => File.WriteAllText(Path.Combine(Folder, "lock"), createdAtOrCloud);

    public void Set(string file, string content) => File.WriteAllText(Path.Combine(Folder, file), content);

    public string? Read(string file) => File.Exists(Path.Combine(Folder, file)) ? File.ReadAllText(Path.Combine(Folder, file)) : null;

    public void Dispose()
    {
        Environment.SetEnvironmentVariable("PATH", _previousPath);
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    public sealed record Call(string WorkDir, string Backend, bool Passphrase, string Arguments)
    {
        public string Command => Arguments.Split(' ')[0] is "stack" or "config" ? string.Join(' ', Arguments.Split(' ').Take(2)) : Arguments.Split(' ')[0];

        public bool Has(string argument) => Arguments.Split(' ').Contains(argument);

        /// <summary>The value after a flag, e.g. After("--policy-pack").</summary>
        public string? After(string flag)
        {
            var parts = Arguments.Split(' ');
            var i = Array.IndexOf(parts, flag);
            return i >= 0 && i + 1 < parts.Length ? parts[i + 1] : null;
        }
    }
}

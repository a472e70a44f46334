using System.CommandLine;
using System.CommandLine.Parsing;

namespace AuditInfra.Cli;

/// <summary>
/// What every command's help says about exit codes, and the command path a usage hint names.
/// Scripts branch on 0/1/2, so each command states what 1 means for it.
/// </summary>
public static class CommandHelp
{
    /// <summary>What exit code 1 means, by command path (without "auditinfra").</summary>
    private static readonly Dictionary<string, string> Findings = new(StringComparer.Ordinal)
    {
        [""] = "findings (a violated invariant, an integrity finding, a fired detection, a failed account)",
        ["plan"] = "with --check, an invariant is violated",
        ["check"] = "an invariant is violated",
        ["rules"] = "a detection fired (rules test)",
        ["rules list"] = Never,
        ["rules test"] = "a detection fired",
        ["docs"] = Never,
        ["query"] = Never,
        ["rollout"] = "an account failed (rollout status)",
        ["rollout status"] = "an account failed",
        ["verify"] = "an integrity finding (an attestation conflict included)",
        ["pull"] = "the copy is incomplete (a conflict, a failed object or a rejected key)",
        ["sample"] = Never,
        ["attest"] = "a bad attestation (attest verify)",
        ["attest verify"] = "an attestation is altered, forged, malformed or misplaced",
    };

    /// <summary>Exit codes beyond 0, 1 and 2, by command path.</summary>
    private static readonly Dictionary<string, string> Others = new(StringComparer.Ordinal)
    {
        ["query"] = "3 needs restore (logs asked for from an s3:// source are in Glacier Flexible Retrieval, Deep Archive or an Intelligent-Tiering archive tier and not restored: see --restore)",
    };

    /// <summary>Appends the exit codes to the description of every command in the tree.</summary>
    public static void StateExitCodes(Command root)
    {
        foreach (var (command, path) in Walk(root, ""))
        {
            var description = command.Description?.TrimEnd() ?? "";
            var separator = description.Length == 0 ? "" : description[^1] is '.' or ')' or '!' or '?' ? " " : ". ";
            command.Description = description + separator + ExitCodes(path);
        }
    }

    /// <summary>The sentence for one command path; a command missing from the table gets the general meaning.</summary>
    public static string ExitCodes(string path)
    {
        var findings = Findings.TryGetValue(path, out var meaning) ? meaning : Findings[""];
        var others = Others.TryGetValue(path, out var more) ? ", " + more : "";
        return findings == Never
            ? $"Exit codes: 0 success, 2 bad usage or input{others} (1 is not used)."
            : $"Exit codes: 0 success, 1 {findings}, 2 bad usage or input{others}.";
    }

    private const string Never = "never";

    /// <summary>The command paths of the tree below the root ("rules test"), for tests and the table above.</summary>
    public static IEnumerable<string> Paths(Command root) => Walk(root, "").Select(x => x.Path);

    public static bool IsStated(string path) => Findings.ContainsKey(path);

    /// <summary>"auditinfra rules test": the full path of the command a parse ended in.</summary>
    public static string Path(CommandResult? result)
    {
        var names = new Stack<string>();
        for (var current = result; current is not null; current = current.Parent as CommandResult)
        {
            if (current.Parent is not null)
            {
                names.Push(current.Command.Name);
            }
        }

        return string.Join(' ', names.Prepend("auditinfra"));
    }

    private static IEnumerable<(Command Command, string Path)> Walk(Command command, string path)
    {
        yield return (command, path);
        foreach (var child in command.Subcommands)
        {
            foreach (var item in Walk(child, path.Length == 0 ? child.Name : $"{path} {child.Name}"))
            {
                yield return item;
            }
        }
    }
}

using System.Collections.Immutable;
using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using AuditInfra.Cli.Infrastructure;
using AuditInfra.Core.Checks;
using AuditInfra.Core.Planning;
using AuditInfra.Core.Stacks;
using Spectre.Console;

namespace AuditInfra.Cli.Checks;

/// <summary>
/// <c>auditinfra check</c>: the design's invariants, evaluated offline on a stack's plan (or on a
/// saved plan / fixture file) — the same rules the CrossGuard pack enforces on previews.
/// </summary>
public static class CheckCommand
{
    public static Command Create(CliIo io)
    {
        var stackOptions = new StackConfigOptions("audit", "prod");
        stackOptions.Stack.Required = false;
        var planFile = new Option<FileInfo?>("--plan") { Description = "Check a saved plan (auditinfra plan --json) or a policy fixture instead of a stack's configuration" };
        var json = new Option<bool>("--json") { Description = "Print the violations as JSON" };
        var command = new Command("check", "Evaluate the design's invariants offline; exit 1 when any is violated");
        stackOptions.AddTo(command);
        command.Options.Add(planFile);
        command.Options.Add(json);
        command.SetAction(parse =>
        {
            JsonNode plan;
            if (parse.GetValue(planFile) is { } file)
            {
                if (!TryReadPlan(file, io, out plan))
                {
                    return ExitCodes.UsageOrInput;
                }
            }
            else
            {
                if (parse.GetValue(stackOptions.Stack) is null)
                {
                    io.Err.WriteLine("check needs --stack audit|prod (with --config-dir or --sample) or --plan FILE");
                    return ExitCodes.UsageOrInput;
                }

                var (config, report) = stackOptions.Load(parse, io);
                if (config is null)
                {
                    return ExitCodes.UsageOrInput;
                }

                plan = StackPlanner.Plan(config, report).ToJsonNode();
            }

            return Report(plan, DesignCheck.Evaluate(plan), parse.GetValue(json), io);
        });
        return command;
    }

    public static int Report(JsonNode plan, ImmutableArray<Violation> violations, bool json, CliIo io)
    {
        var stack = (string?)plan["stack"] ?? "(unnamed)";
        if (json)
        {
            var node = new JsonObject
            {
                ["stack"] = stack,
                ["passed"] = violations.IsEmpty,
                ["invariants"] = Invariants.All.Length,
                ["violations"] = new JsonArray([.. violations.Select(v => (JsonNode)new JsonObject
                {
                    ["invariant"] = v.InvariantId,
                    ["resource"] = v.Resource,
                    ["message"] = v.Message,
                    ["controls"] = new JsonArray([.. Invariants.Get(v.InvariantId).Controls.Select(c => (JsonNode)JsonValue.Create(c))]),
                })]),
            };
            io.Out.WriteLine(node.ToJsonString(JsonFormat.Indented));
        }
        else if (violations.IsEmpty)
        {
            io.Out.WriteLine($"check: stack {stack}: all {Invariants.All.Length} invariants hold");
        }
        else
        {
            var table = new Table().AddColumns("invariant", "resource", "what is wrong", "controls");
            foreach (var v in violations)
            {
                table.AddRow(Markup.Escape(v.InvariantId), Markup.Escape(v.Resource), Markup.Escape(v.Message), Markup.Escape(string.Join(", ", Invariants.Get(v.InvariantId).Controls)));
            }

            io.Console.Write(table);
            io.Out.WriteLine($"check: stack {stack}: {violations.Length} violation(s)");
        }

        return violations.IsEmpty ? ExitCodes.Ok : ExitCodes.Findings;
    }

    private static bool TryReadPlan(FileInfo file, CliIo io, out JsonNode plan)
    {
        plan = new JsonObject();
        if (!file.Exists)
        {
            io.Err.WriteLine($"{file.FullName}: the plan file does not exist");
            return false;
        }

        JsonNode? node;
        try
        {
            // A key given twice is ambiguous (which value would the check judge?) and JsonObject refuses it lazily, as an exception.
            node = JsonNode.Parse(Core.InputFile.ReadAllText(file.FullName), documentOptions: new JsonDocumentOptions { AllowDuplicateProperties = false });
        }
        catch (JsonException ex)
        {
            io.Err.WriteLine($"{file.FullName}: not valid JSON (line {ex.LineNumber + 1}): expected a plan ('auditinfra plan --json' output)");
            return false;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            io.Err.WriteLine($"{file.FullName}: cannot be read ({ex.Message})");
            return false;
        }

        // A policy fixture wraps the plan with its expected violations.
        var candidate = node is JsonObject { } wrapper && wrapper["plan"] is JsonObject inner ? inner : node;
        if (candidate is not JsonObject { } found || found["components"] is not JsonArray)
        {
            io.Err.WriteLine($"{file.FullName}: expected a plan ('auditinfra plan --json' output): an object with a 'components' list");
            return false;
        }

        if (found["stack"] is { } stack && (stack is not JsonValue value || !value.TryGetValue<string>(out _)))
        {
            io.Err.WriteLine($"{file.FullName}: 'stack': expected the stack's name as a string");
            return false;
        }

        plan = found;
        return true;
    }
}

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
        var command = new Command("check", "Evaluate the design's invariants offline, on a stack's configuration (--stack) or on a saved plan (--plan).");
        stackOptions.AddTo(command);
        command.Options.Add(planFile);
        command.Options.Add(json);
        command.SetAction(parse =>
        {
            JsonNode plan;
            var planPath = parse.GetValue(planFile);
            // A plan file and a stack's configuration are two different subjects: checking one
            // while silently ignoring the other would report on something not asked for.
            if (planPath is { } planGiven && (parse.GetValue(stackOptions.Stack) is { } || parse.GetValue(stackOptions.Sample)))
            {
                var stackGiven = parse.GetValue(stackOptions.Stack) is { } stack ? $"--stack {stack}" : "--sample";
                io.Err.WriteLine($"check: give either --plan {planGiven.Name} or {stackGiven}, not both (--plan checks a saved plan; --stack checks a configuration)");
                return ExitCodes.UsageOrInput;
            }

            if (planPath is { } file)
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

            ImmutableArray<Violation> violations;
            try
            {
                violations = DesignCheck.Evaluate(plan);
            }
            catch (Exception ex) when (planPath is not null && ex is InvalidOperationException or InvalidCastException or FormatException)
            {
                // The shape was checked; a value deeper in (a policy statement that is not an
                // object, say) is still the file's fault, not a finding: say so in one line.
                io.Err.WriteLine($"{planPath.FullName}: expected a plan ('auditinfra plan --json' output): a value the check cannot read ({Core.Messages.OneLine(ex.Message, 200)})");
                return ExitCodes.UsageOrInput;
            }

            return Report(plan, violations, parse.GetValue(json), io);
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

            io.Write(table, 0, 1, 3);
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
            io.Err.WriteLine($"{file.FullName}: cannot be read ({Core.Messages.OneLine(ex.Message, 200)})");
            return false;
        }

        // A policy fixture wraps the plan with its expected violations.
        plan = node is JsonObject wrapper && wrapper["plan"] is { } inner ? inner : node ?? new JsonObject();
        if (ShapeProblem(plan) is { } problem)
        {
            io.Err.WriteLine($"{file.FullName}: expected a plan ('auditinfra plan --json' output): {problem}");
            return false;
        }

        return true;
    }

    /// <summary>
    /// What keeps a parsed file from being a plan the check can read, or null: the components and
    /// resources the invariants walk, each an object, with a string type and name and an object of
    /// properties (a preview's JSON-string values inside them are the check's own business).
    /// </summary>
    private static string? ShapeProblem(JsonNode plan)
    {
        if (plan is not JsonObject || plan["components"] is not JsonArray components)
        {
            return "a JSON object with a 'components' list";
        }

        if (plan["stack"] is { } stack && stack.GetValueKind() != JsonValueKind.String)
        {
            return "'stack' must be a string";
        }

        for (var c = 0; c < components.Count; c++)
        {
            if (components[c] is not JsonObject component || component["resources"] is not JsonArray resources)
            {
                return $"components[{c}] must be an object with a 'resources' list";
            }

            for (var r = 0; r < resources.Count; r++)
            {
                var at = $"components[{c}].resources[{r}]";
                if (resources[r] is not JsonObject resource)
                {
                    return $"{at} must be an object";
                }

                foreach (var field in new[] { "type", "name" })
                {
                    if (resource[field] is not JsonValue value || value.GetValueKind() != JsonValueKind.String)
                    {
                        return $"{at}.{field} must be a string";
                    }
                }

                if (resource["id"] is { } id && (id is not JsonValue || id.GetValueKind() != JsonValueKind.String))
                {
                    return $"{at}.id must be a string";
                }

                if (resource["properties"] is { } properties && properties is not JsonObject)
                {
                    return $"{at}.properties must be an object";
                }

                if (resource["protect"] is { } protect && protect.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False))
                {
                    return $"{at}.protect must be true or false";
                }
            }
        }

        return null;
    }
}

using System.CommandLine;
using System.Text.Json.Nodes;
using AuditInfra.Cli.Infrastructure;
using AuditInfra.Core.Checks;
using AuditInfra.Core.Planning;
using AuditInfra.Core.Stacks;
using Spectre.Console;

namespace AuditInfra.Cli.Plan;

/// <summary><c>auditinfra plan</c>: every resource a stack will create, with full policies, offline.</summary>
public static class PlanCommand
{
    public static Command Create(CliIo io)
    {
        var stackOptions = new StackConfigOptions("audit", "prod");
        var json = new Option<bool>("--json") { Description = "Print the plan as stable JSON" };
        var check = new Option<bool>("--check") { Description = "Also evaluate the design's invariants; exit 1 when any is violated" };
        var command = new Command("plan", "Render, without AWS or Pulumi, every resource a stack will create with its settings and policy documents");
        stackOptions.AddTo(command);
        command.Options.Add(json);
        command.Options.Add(check);
        command.SetAction(parse =>
        {
            var (config, report) = stackOptions.Load(parse, io);
            if (config is null)
            {
                return ExitCodes.UsageOrInput;
            }

            var plan = StackPlanner.Plan(config, report);
            if (parse.GetValue(json))
            {
                io.Out.WriteLine(plan.ToJson());
            }
            else
            {
                Render(plan, io);
            }

            foreach (var warning in report.Warnings)
            {
                io.Err.WriteLine(warning);
            }

            if (parse.GetValue(check))
            {
                var node = plan.ToJsonNode();
                var violations = DesignCheck.Evaluate(node);
                // With --json, stdout stays the plan alone; the verdict goes to stderr.
                return Checks.CheckCommand.Report(node, violations, json: false, parse.GetValue(json) ? new CliIo(io.Err, io.Err, false) : io);
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    public static void Render(StackPlan plan, CliIo io)
    {
        var tree = new Tree(Markup.Escape($"stack {plan.Stack} — account {plan.AccountId}, region {plan.Region}"));
        foreach (var component in plan.Components)
        {
            var node = tree.AddNode(Markup.Escape($"{component.Type} {component.Name}"));
            foreach (var resource in component.Resources)
            {
                var flags = (resource.Protect ? " [protect]" : "") + (resource.RetainOnDelete ? " [retainOnDelete]" : "");
                var resourceNode = node.AddNode(Markup.Escape($"{resource.Type} {resource.Name}{flags}"));
                foreach (var (key, value) in resource.Properties)
                {
                    resourceNode.AddNode(Markup.Escape($"{key}: {Format(value)}"));
                }

                if (!resource.DependsOn.IsEmpty)
                {
                    resourceNode.AddNode(Markup.Escape($"dependsOn: {string.Join(", ", resource.DependsOn)}"));
                }
            }

            if (!component.Outputs.IsEmpty)
            {
                var outputs = node.AddNode("outputs");
                foreach (var (key, value) in component.Outputs)
                {
                    outputs.AddNode(Markup.Escape($"{key}: {value}"));
                }
            }

            foreach (var note in component.Notes)
            {
                node.AddNode(Markup.Escape($"note: {note}"));
            }
        }

        io.Console.Write(tree);
    }

    private static string Format(JsonNode? value) => value switch
    {
        null => "null",
        JsonValue v => v.ToJsonString(JsonFormat.Compact).Trim('"'),
        _ => value.ToJsonString(JsonFormat.Indented),
    };
}

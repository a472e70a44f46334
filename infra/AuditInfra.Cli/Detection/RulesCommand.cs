using System.CommandLine;
using System.Text.Json.Nodes;
using AuditInfra.Cli.Infrastructure;
using AuditInfra.Core.Detection;
using AuditInfra.Core.Planning;
using Spectre.Console;

namespace AuditInfra.Cli.Detection;

/// <summary><c>auditinfra rules list|test</c>: the detection catalog, and which detections fire on recorded events.</summary>
public static class RulesCommand
{
    public static Command Create(CliIo io)
    {
        var command = new Command("rules", "The detection catalog: list it, or test it on recorded CloudTrail events");
        command.Subcommands.Add(List(io));
        command.Subcommands.Add(Test(io));
        return command;
    }

    private static StackConfigOptions StackOptions()
    {
        var options = new StackConfigOptions("audit", "prod");
        options.Stack.Required = false;
        options.Stack.DefaultValueFactory = _ => "audit";
        return options;
    }

    private static Command List(CliIo io)
    {
        var stack = StackOptions();
        var json = new Option<bool>("--json") { Description = "Print the catalog with its patterns as JSON" };
        var command = new Command("list", "Print the detection catalog as configured (overrides and custom detections applied)");
        stack.AddTo(command);
        command.Options.Add(json);
        command.SetAction(parse =>
        {
            var (config, _) = stack.Load(parse, io);
            if (config is null)
            {
                return ExitCodes.UsageOrInput;
            }

            var rules = DetectionCatalog.For(config);
            if (parse.GetValue(json))
            {
                io.Out.WriteLine(new JsonObject
                {
                    ["version"] = DetectionCatalog.Version,
                    ["detections"] = new JsonArray([.. rules.Select(r => (JsonNode)new JsonObject
                    {
                        ["id"] = r.Id,
                        ["title"] = r.Title,
                        ["severity"] = r.Severity.ToString().ToLowerInvariant(),
                        ["custom"] = r.IsCustom,
                        ["description"] = r.Description,
                        ["whyItMatters"] = r.WhyItMatters,
                        ["firstResponse"] = new JsonArray([.. r.FirstResponse.Select(s => (JsonNode)JsonValue.Create(s))]),
                        ["cis"] = new JsonArray([.. r.Cis.Select(s => (JsonNode)JsonValue.Create(s))]),
                        ["securityHub"] = new JsonArray([.. r.SecurityHub.Select(s => (JsonNode)JsonValue.Create(s))]),
                        ["pattern"] = r.Pattern.DeepClone(),
                    })]),
                }.ToJsonString(JsonFormat.Indented));
                return ExitCodes.Ok;
            }

            var table = new Table().AddColumns("id", "severity", "title", "CIS", "Security Hub");
            foreach (var r in rules)
            {
                table.AddRow(Markup.Escape(r.Id), r.Severity.ToString().ToLowerInvariant(), Markup.Escape(r.Title), Markup.Escape(string.Join(", ", r.Cis)), Markup.Escape(string.Join(", ", r.SecurityHub)));
            }

            io.Write(table, 0);
            io.Out.WriteLine($"{rules.Length} detections, catalog {DetectionCatalog.Version}");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Test(CliIo io)
    {
        var stack = StackOptions();
        var files = new Argument<FileInfo[]>("files") { Description = "CloudTrail log files (plain or .gz), JSON arrays of records, or EventBridge events", Arity = ArgumentArity.OneOrMore };
        var json = new Option<bool>("--json") { Description = "Print every detection that fired, per event, as JSON" };
        var command = new Command("test", "Report which detections fire on recorded events; exit 1 when any fired, 0 when none did");
        stack.AddTo(command);
        command.Arguments.Add(files);
        command.Options.Add(json);
        command.SetAction(parse =>
        {
            var (config, _) = stack.Load(parse, io);
            if (config is null)
            {
                return ExitCodes.UsageOrInput;
            }

            var catalog = new CompiledCatalog(DetectionCatalog.For(config));
            var hits = new List<(RecordedEvent Event, DetectionRule Rule)>();
            var total = 0;
            try
            {
                foreach (var file in parse.GetValue(files)!)
                {
                    // One event at a time: a file is never held whole, whatever it inflates to.
                    foreach (var evt in EventEnvelopes.Enumerate(file.FullName))
                    {
                        total++;
                        hits.AddRange(catalog.Match(evt.Envelope).Select(rule => (evt, rule)));
                    }
                }
            }
            catch (EventFileException ex)
            {
                io.Err.WriteLine(ex.Message);
                return ExitCodes.UsageOrInput;
            }

            if (parse.GetValue(json))
            {
                io.Out.WriteLine(new JsonObject
                {
                    ["events"] = total,
                    ["fired"] = hits.Count,
                    ["detections"] = new JsonArray([.. hits.Select(h => (JsonNode)new JsonObject
                    {
                        ["detection"] = h.Rule.Id,
                        ["severity"] = h.Rule.Severity.ToString().ToLowerInvariant(),
                        ["file"] = h.Event.File,
                        ["index"] = h.Event.Index,
                        ["event"] = h.Event.Describe(),
                        ["eventId"] = h.Event.Envelope.TryGetProperty("id", out var id) ? id.GetString() : null,
                    })]),
                }.ToJsonString(JsonFormat.Indented));
            }
            else
            {
                if (hits.Count > 0)
                {
                    var table = new Table().AddColumns("detection", "severity", "event", "file #");
                    foreach (var (evt, rule) in hits)
                    {
                        table.AddRow(Markup.Escape(rule.Id), rule.Severity.ToString().ToLowerInvariant(), Markup.Escape(evt.Describe()), Markup.Escape($"{Path.GetFileName(evt.File)} #{evt.Index}"));
                    }

                    io.Write(table, 0, 3);
                }

                io.Out.WriteLine($"{total} events, {hits.Count} detection(s) fired");
            }

            return hits.Count > 0 ? ExitCodes.Findings : ExitCodes.Ok;
        });
        return command;
    }
}

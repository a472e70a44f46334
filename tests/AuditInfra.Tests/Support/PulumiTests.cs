using AuditInfra.Core.Configuration;
using AuditInfra.Stacks;
using Pulumi;
using Pulumi.Testing;

namespace AuditInfra.Tests.Support;

/// <summary>Deployment is process-global: every Pulumi test runs in this one serial collection.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class PulumiCollection
{
    public const string Name = "pulumi";
}

public static class PulumiTests
{
    public static string SampleText(string stack) =>
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "samples", $"Pulumi.{stack}.yaml"));

    public static AuditConfig Sample(string stack, Func<string, string>? edit = null)
    {
        var text = SampleText(stack);
        if (edit is not null)
        {
            text = edit(text);
        }

        var (raw, error) = RawConfig.ParseYaml(text, $"Pulumi.{stack}.yaml", stack);
        return AuditConfigBinder.BindOrThrow(raw ?? throw new InvalidOperationException(error!.ToString()));
    }

    /// <summary>Runs the program for a stack against mocks; returns the mocks and the stack outputs.</summary>
    public static Task<(RecordingMocks Mocks, IDictionary<string, object?> Outputs)> RunAsync(AuditConfig config, RecordingMocks? mocks = null, bool preview = false) =>
        RunProgramAsync(config.StackName, () => AuditInfraProgram.Build(config), mocks, preview);

    /// <summary>Runs a program in an <see cref="ObservedStack"/>, so the mocks also hold every resource's options.</summary>
    public static async Task<(RecordingMocks Mocks, IDictionary<string, object?> Outputs)> RunProgramAsync(string stack, Func<IDictionary<string, object?>> program, RecordingMocks? mocks = null, bool preview = false)
    {
        mocks ??= new RecordingMocks();
        var recorder = mocks.Options;
        var resources = await Deployment.TestWithServiceProviderAsync<ObservedStack>(
            mocks,
            new StackFactory(() => new ObservedStack(program, recorder)),
            new TestOptions { StackName = stack, ProjectName = "auditinfra", OrganizationName = "acme", IsPreview = preview });
        return (mocks, resources.OfType<ObservedStack>().Single().ProgramOutputs);
    }

    /// <summary>
    /// Runs <see cref="AuditInfraProgram.Run"/> as `pulumi up` does, with the stack's configuration
    /// given as Pulumi passes it to a program (PULUMI_CONFIG: key to text, structured values as JSON).
    /// </summary>
    public static async Task<(RecordingMocks Mocks, IDictionary<string, object?> Outputs)> RunWithPulumiConfigAsync(string stack, IReadOnlyDictionary<string, string> config, RecordingMocks? mocks = null)
    {
        var previous = Environment.GetEnvironmentVariable("PULUMI_CONFIG");
        Environment.SetEnvironmentVariable("PULUMI_CONFIG", System.Text.Json.JsonSerializer.Serialize(config));
        try
        {
            return await RunProgramAsync(stack, AuditInfraProgram.Run, mocks);
        }
        finally
        {
            Environment.SetEnvironmentVariable("PULUMI_CONFIG", previous);
        }
    }

    /// <summary>A sample stack file as Pulumi hands it to the program: each key's text, structured values as JSON.</summary>
    public static Dictionary<string, string> PulumiConfigOf(string stack, Func<string, string>? edit = null)
    {
        var text = SampleText(stack);
        if (edit is not null)
        {
            text = edit(text);
        }

        var yaml = new YamlDotNet.Serialization.DeserializerBuilder().Build().Deserialize<Dictionary<string, Dictionary<string, object?>>>(text);
        return yaml["config"].ToDictionary(kv => kv.Key, kv => kv.Value switch
        {
            string scalar => scalar,
            null => "",
            var structured => ToJson(structured)!.ToJsonString(),
        });
    }

    /// <summary>Structured YAML as Pulumi serializes it: numbers and booleans typed, the rest strings.</summary>
    private static System.Text.Json.Nodes.JsonNode? ToJson(object? value) => value switch
    {
        null => null,
        string s when s is "true" or "false" => System.Text.Json.Nodes.JsonValue.Create(s == "true"),
        string s when s is "null" or "~" => null,
        string s when long.TryParse(s, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var n) && !s.StartsWith('0') || s == "0" => System.Text.Json.Nodes.JsonValue.Create(long.Parse(s, System.Globalization.CultureInfo.InvariantCulture)),
        string s => System.Text.Json.Nodes.JsonValue.Create(s),
        IDictionary<object, object?> map => new System.Text.Json.Nodes.JsonObject(map.Select(kv => new KeyValuePair<string, System.Text.Json.Nodes.JsonNode?>((string)kv.Key, ToJson(kv.Value)))),
        IEnumerable<object?> list => new System.Text.Json.Nodes.JsonArray([.. list.Select(ToJson)]),
        _ => System.Text.Json.Nodes.JsonValue.Create(value.ToString()),
    };

    private sealed class StackFactory(Func<ObservedStack> create) : IServiceProvider
    {
        public object? GetService(Type serviceType) => serviceType == typeof(ObservedStack) ? create() : null;
    }

    /// <summary>A component as the stack plans it (with the provider the stack gives it).</summary>
    public static Core.Planning.PlannedComponent PlannedComponent(AuditConfig config, string type) =>
        Core.Stacks.StackPlanner.Plan(config).Components.Single(c => c.Type == type);

    public static Task<T> ValueAsync<T>(Output<T> output)
    {
        var completion = new TaskCompletionSource<T>();
        output.Apply(v =>
        {
            completion.SetResult(v);
            return v;
        });
        return completion.Task;
    }
}

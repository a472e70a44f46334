using System.Collections;
using System.Collections.Immutable;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using AuditInfra.Core.Planning;

namespace AuditInfra.Tests.Support;

/// <summary>
/// Checks that what the Pulumi program registered equals the offline plan both ways: every planned
/// resource is registered and nothing unplanned is; each has exactly the planned inputs (none
/// missing, none extra), protect, retainOnDelete, dependsOn, parent and provider. Options come from
/// the <see cref="OptionsRecorder"/>, inputs and providers from the mocks.
/// </summary>
public static partial class PlanComparison
{
    /// <summary>One component: its planned children are exactly the resources registered under it.</summary>
    public static void AssertMatches(PlannedComponent component, RecordingMocks mocks)
    {
        var problems = new List<string>();
        Compare(component, mocks, problems);
        var registered = mocks.Options.Options.Where(o => o.Value.Parent == component.Name).Select(o => o.Key);
        foreach (var unplanned in registered.Except(component.Resources.Select(r => r.Name)).Order())
        {
            problems.Add($"{unplanned}: registered under {component.Name} but not planned");
        }

        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    /// <summary>A whole stack: every registered resource (components included) is planned, and every planned one registered as planned.</summary>
    public static void AssertMatches(StackPlan plan, RecordingMocks mocks)
    {
        var problems = new List<string>();
        foreach (var component in plan.Components)
        {
            if (!mocks.Resources.TryGetValue(component.Name, out var registered) || registered.Type != component.Type)
            {
                problems.Add($"{component.Name}: planned component {component.Type} was not registered");
            }
            else if (mocks.Options.Options.TryGetValue(component.Name, out var options) && options.Parent is not null)
            {
                problems.Add($"{component.Name}: planned at the top of the stack, registered under {options.Parent}");
            }

            Compare(component, mocks, problems);
        }

        var planned = plan.Components.Select(c => c.Name).Concat(plan.AllResources.Select(r => r.Name)).ToHashSet();
        foreach (var unplanned in mocks.Resources.Keys.Where(n => !planned.Contains(n)).Order())
        {
            problems.Add($"{unplanned}: registered ({mocks.Resources[unplanned].Type}) but not planned");
        }

        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    private static void Compare(PlannedComponent component, RecordingMocks mocks, List<string> problems)
    {
        foreach (var planned in component.Resources)
        {
            if (!mocks.Resources.TryGetValue(planned.Name, out var recorded))
            {
                problems.Add($"{planned.Name}: planned ({planned.Type}) but not registered");
                continue;
            }

            if (planned.Type != recorded.Type)
            {
                problems.Add($"{planned.Name}: planned as {planned.Type}, registered as {recorded.Type}");
            }

            var expected = Resolve(planned.Properties, mocks);
            var actual = ToJson(recorded.Inputs);
            foreach (var (key, value) in expected.Where(kv => kv.Value is not null))
            {
                if (!actual.ContainsKey(key))
                {
                    problems.Add($"{planned.Name}: input '{key}' is planned but was not set");
                    continue;
                }

                var actualValue = Normalize(recorded.Type, actual[key]);
                var expectedValue = Normalize(recorded.Type, value);
                if (!JsonNode.DeepEquals(expectedValue, actualValue))
                {
                    problems.Add($"{planned.Name}.{key}: planned {expectedValue?.ToJsonString()} but the program set {actualValue?.ToJsonString()}");
                }
            }

            foreach (var key in actual.Select(kv => kv.Key).Where(k => expected[k] is null).Order())
            {
                problems.Add($"{planned.Name}: input '{key}' = {actual[key]?.ToJsonString()} is set but not planned");
            }

            var provider = component.ProviderOf(planned);
            if (recorded.ProviderName != provider)
            {
                problems.Add($"{planned.Name}: planned provider {provider ?? "(default)"}, registered with {recorded.ProviderName ?? "(default)"}");
            }

            if (!mocks.Options.Options.TryGetValue(planned.Name, out var options))
            {
                problems.Add($"{planned.Name}: no options recorded (was the program run in an ObservedStack?)");
                continue;
            }

            if (options.Parent != component.Name)
            {
                problems.Add($"{planned.Name}: planned under {component.Name}, registered under {options.Parent ?? "the stack"}");
            }

            if (options.Protect != planned.Protect)
            {
                problems.Add($"{planned.Name}: planned protect {planned.Protect}, the program set {options.Protect}");
            }

            if (options.RetainOnDelete != planned.RetainOnDelete)
            {
                problems.Add($"{planned.Name}: planned retainOnDelete {planned.RetainOnDelete}, the program set {options.RetainOnDelete}");
            }

            if (!options.DependsOn.Order().SequenceEqual(planned.DependsOn.Order()))
            {
                problems.Add($"{planned.Name}: planned dependsOn [{string.Join(", ", planned.DependsOn.Order())}], the program set [{string.Join(", ", options.DependsOn.Order())}]");
            }
        }
    }

    /// <summary>
    /// Policies travel as JSON strings: compare them parsed. A provider gets every non-string input
    /// as JSON text (Pulumi.Aws marks them json: true), booleans included.
    /// </summary>
    private static JsonNode? Normalize(string type, JsonNode? value)
    {
        if (value is JsonValue v && v.TryGetValue<string>(out var text)
            && (text.StartsWith('{') || text.StartsWith('[') || (type.StartsWith("pulumi:providers:", StringComparison.Ordinal) && text is "true" or "false")))
        {
            try
            {
                return JsonNode.Parse(text);
            }
            catch (System.Text.Json.JsonException)
            {
                // Text that only starts like JSON (e.g. "[CRITICAL] ...") is compared as text.
            }
        }

        return value;
    }

    private static JsonObject Resolve(JsonObject planned, RecordingMocks mocks) =>
        (JsonObject)JsonNode.Parse(RefPattern().Replace(planned.ToJsonString(), m =>
        {
            var resource = mocks.Named(m.Groups[1].Value);
            return resource.Outputs.TryGetValue(m.Groups[2].Value, out var value) ? value.ToString()! : m.Value;
        }))!;

    public static JsonObject ToJson(ImmutableDictionary<string, object> inputs)
    {
        var obj = new JsonObject();
        foreach (var (key, value) in inputs)
        {
            obj[key] = ToNode(value);
        }

        return obj;
    }

    private static JsonNode? ToNode(object? value) => value switch
    {
        null => null,
        string s => JsonValue.Create(s),
        bool b => JsonValue.Create(b),
        int i => JsonValue.Create(i),
        double d when d == Math.Floor(d) => JsonValue.Create((long)d),
        double d => JsonValue.Create(d),
        // Assets and archives travel as themselves: compare an archive as its named assets, a text asset as its text.
        Pulumi.AssetOrArchive asset => AssetNode(asset),
        IDictionary dict => new JsonObject(dict.Keys.Cast<string>().Select(k => new KeyValuePair<string, JsonNode?>(k, ToNode(dict[k])))),
        IEnumerable list => new JsonArray([.. list.Cast<object?>().Select(ToNode)]),
        _ => JsonValue.Create(value.ToString()),
    };

    private static JsonNode? AssetNode(Pulumi.AssetOrArchive asset)
    {
        var value = typeof(Pulumi.AssetOrArchive).GetProperty("Value", System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic)?.GetValue(asset);
        return value switch
        {
            IDictionary assets => new JsonObject { ["assets"] = ToNode(assets) },
            string text => JsonValue.Create(text),
            _ => JsonValue.Create(asset.ToString()),
        };
    }

    [GeneratedRegex(@"\$\{([^.}]+)\.([A-Za-z]+)\}")]
    private static partial Regex RefPattern();
}

using System.Collections;
using System.Collections.Immutable;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using AuditInfra.Core.Planning;

namespace AuditInfra.Tests.Support;

/// <summary>
/// Checks that what the Pulumi program registered equals the offline plan, resource by resource
/// and input by input: the shell maps Core's design one to one, and `plan` shows the truth.
/// </summary>
public static partial class PlanComparison
{
    public static void AssertMatches(PlannedComponent component, RecordingMocks mocks)
    {
        foreach (var planned in component.Resources)
        {
            var recorded = mocks.Named(planned.Name);
            Assert.Equal(planned.Type, recorded.Type);
            var expected = Resolve(planned.Properties, mocks);
            var actual = ToJson(recorded.Inputs);
            foreach (var (key, value) in expected)
            {
                Assert.True(actual.ContainsKey(key), $"{planned.Name}: input '{key}' is planned but was not set");
                var actualValue = Normalize(key, actual[key]);
                var expectedValue = Normalize(key, value);
                Assert.True(JsonNode.DeepEquals(expectedValue, actualValue), $"{planned.Name}.{key}: planned {expectedValue?.ToJsonString()} but the program set {actualValue?.ToJsonString()}");
            }
        }
    }

    /// <summary>Policies travel as JSON strings: compare them parsed.</summary>
    private static JsonNode? Normalize(string key, JsonNode? value)
    {
        if (value is JsonValue v && v.TryGetValue<string>(out var text) && (text.StartsWith('{') || text.StartsWith('[')))
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
        IDictionary dict => new JsonObject(dict.Keys.Cast<string>().Select(k => new KeyValuePair<string, JsonNode?>(k, ToNode(dict[k])))),
        IEnumerable list => new JsonArray([.. list.Cast<object?>().Select(ToNode)]),
        _ => JsonValue.Create(value.ToString()),
    };

    [GeneratedRegex(@"\$\{([^.}]+)\.([A-Za-z]+)\}")]
    private static partial Regex RefPattern();
}

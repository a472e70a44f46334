using System.Collections.Immutable;
using System.Text.Json.Nodes;

namespace AuditInfra.Core.Policies;

/// <summary>
/// An IAM-style policy (bucket, key, SCP, trust or identity policy) as data. Rendered to JSON
/// with System.Text.Json in a stable order, so documents compare structurally and render the
/// same offline and in the Pulumi program.
/// </summary>
public sealed record PolicyDocument(ImmutableArray<PolicyStatement> Statements)
{
    public const string Version = "2012-10-17";

    public PolicyDocument(params PolicyStatement[] statements)
        : this(statements.ToImmutableArray())
    {
    }

    public PolicyStatement? Find(string sid) => Statements.FirstOrDefault(s => s.Sid == sid);

    public JsonObject ToJsonNode() => new()
    {
        ["Version"] = Version,
        ["Statement"] = new JsonArray([.. Statements.Select(s => (JsonNode)s.ToJsonNode())]),
    };

    /// <summary>Compact JSON: what AWS stores and what counts against size limits (SCPs: 5,120 characters).</summary>
    public string ToJson() => ToJsonNode().ToJsonString(Planning.JsonFormat.Compact);

    public string ToIndentedJson() => ToJsonNode().ToJsonString(Planning.JsonFormat.Indented);
}

public enum PolicyEffect
{
    Allow,
    Deny,
}

/// <summary>One statement. Empty lists are left out of the JSON; single values are written as strings.</summary>
public sealed record PolicyStatement
{
    public string? Sid { get; init; }

    public PolicyEffect Effect { get; init; } = PolicyEffect.Allow;

    public PolicyPrincipal? Principal { get; init; }

    public PolicyPrincipal? NotPrincipal { get; init; }

    public ImmutableArray<string> Actions { get; init; } = [];

    public ImmutableArray<string> NotActions { get; init; } = [];

    public ImmutableArray<string> Resources { get; init; } = [];

    public ImmutableArray<string> NotResources { get; init; } = [];

    public ImmutableArray<PolicyCondition> Conditions { get; init; } = [];

    public JsonObject ToJsonNode()
    {
        var node = new JsonObject();
        if (Sid is not null)
        {
            node["Sid"] = Sid;
        }

        node["Effect"] = Effect.ToString();
        if (Principal is not null)
        {
            node["Principal"] = Principal.ToJsonNode();
        }

        if (NotPrincipal is not null)
        {
            node["NotPrincipal"] = NotPrincipal.ToJsonNode();
        }

        AddList(node, "Action", Actions);
        AddList(node, "NotAction", NotActions);
        AddList(node, "Resource", Resources);
        AddList(node, "NotResource", NotResources);
        if (!Conditions.IsEmpty)
        {
            var conditions = new JsonObject();
            foreach (var group in Conditions.GroupBy(c => c.Operator))
            {
                var byKey = new JsonObject();
                foreach (var condition in group)
                {
                    byKey[condition.Key] = ValueNode(condition.Values);
                }

                conditions[group.Key] = byKey;
            }

            node["Condition"] = conditions;
        }

        return node;
    }

    internal static JsonNode ValueNode(ImmutableArray<string> values) =>
        values.Length == 1 ? JsonValue.Create(values[0]) : new JsonArray([.. values.Select(v => (JsonNode)JsonValue.Create(v))]);

    private static void AddList(JsonObject node, string name, ImmutableArray<string> values)
    {
        if (!values.IsEmpty)
        {
            node[name] = ValueNode(values);
        }
    }
}

/// <summary>A principal block: "*", or a map of AWS / Service / Federated to values.</summary>
public sealed record PolicyPrincipal(string Kind, ImmutableArray<string> Values)
{
    public static readonly PolicyPrincipal Anyone = new("*", []);

    public static PolicyPrincipal Service(params string[] services) => new("Service", [.. services]);

    public static PolicyPrincipal Aws(params string[] arns) => new("AWS", [.. arns]);

    public JsonNode ToJsonNode() => Kind == "*"
        ? JsonValue.Create("*")
        : new JsonObject { [Kind] = PolicyStatement.ValueNode(Values) };
}

/// <summary>One condition: operator (StringEquals, Bool, ArnNotLike, …), key and values.</summary>
public sealed record PolicyCondition(string Operator, string Key, ImmutableArray<string> Values)
{
    public PolicyCondition(string @operator, string key, params string[] values)
        : this(@operator, key, values.ToImmutableArray())
    {
    }
}

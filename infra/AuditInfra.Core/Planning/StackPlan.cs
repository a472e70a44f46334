using System.Collections.Immutable;
using System.Text.Json.Nodes;

namespace AuditInfra.Core.Planning;

/// <summary>
/// One resource the Pulumi program will create, with its inputs under their Pulumi wire names
/// (as in @pulumi/aws), so the offline plan, the Pulumi mocks and the policy pack all speak of
/// the same properties. Values known only after deployment are written as <c>${name.output}</c>.
/// </summary>
public sealed record PlannedResource(string Type, string Name, JsonObject Properties)
{
    public ImmutableArray<string> DependsOn { get; init; } = [];

    /// <summary>Pulumi's protect option: deleting or replacing this resource fails the update.</summary>
    public bool Protect { get; init; }

    /// <summary>Pulumi's retainOnDelete option: destroying the stack leaves the cloud resource in place.</summary>
    public bool RetainOnDelete { get; init; }

    /// <summary>The explicit provider resource (its name) this resource is created through; null: its component's.</summary>
    public string? Provider { get; init; }

    public JsonObject ToJsonNode()
    {
        var node = new JsonObject
        {
            ["type"] = Type,
            ["name"] = Name,
            ["properties"] = Properties.DeepClone(),
        };
        if (!DependsOn.IsEmpty)
        {
            node["dependsOn"] = new JsonArray([.. DependsOn.Select(d => (JsonNode)JsonValue.Create(d))]);
        }

        if (Protect)
        {
            node["protect"] = true;
        }

        if (RetainOnDelete)
        {
            node["retainOnDelete"] = true;
        }

        if (Provider is not null)
        {
            node["provider"] = Provider;
        }

        return node;
    }

    /// <summary>Resource tags as the plan shows them.</summary>
    public static JsonObject Tags(IEnumerable<KeyValuePair<string, string>> tags) =>
        new(tags.Select(t => new KeyValuePair<string, JsonNode?>(t.Key, t.Value)));

    /// <summary>A reference to another resource's output, for values unknown until deployment.</summary>
    public static string Ref(string resourceName, string output) => $"${{{resourceName}.{output}}}";
}

/// <summary>A component resource (type token <c>auditinfra:&lt;module&gt;:&lt;Name&gt;</c>) and its children.</summary>
public sealed record PlannedComponent(string Type, string Name, ImmutableArray<PlannedResource> Resources)
{
    public ImmutableSortedDictionary<string, string> Outputs { get; init; } = ImmutableSortedDictionary<string, string>.Empty;

    /// <summary>What a reader must know about this component: prerequisites, costs, pitfalls.</summary>
    public ImmutableArray<string> Notes { get; init; } = [];

    /// <summary>The provider resource (its name) the component's children use by default; null: the stack's default provider.</summary>
    public string? Provider { get; init; }

    /// <summary>The provider a child is created through: its own, else the component's; null: the default provider.</summary>
    public string? ProviderOf(PlannedResource resource) => resource.Provider ?? Provider;

    public JsonObject ToJsonNode()
    {
        var node = new JsonObject
        {
            ["type"] = Type,
            ["name"] = Name,
        };
        if (Provider is not null)
        {
            node["provider"] = Provider;
        }

        node["resources"] = new JsonArray([.. Resources.Select(r => (JsonNode)r.ToJsonNode())]);
        node["outputs"] = new JsonObject(Outputs.Select(o => new KeyValuePair<string, JsonNode?>(o.Key, o.Value)));
        node["notes"] = new JsonArray([.. Notes.Select(n => (JsonNode)JsonValue.Create(n))]);
        return node;
    }
}

/// <summary>Everything one stack deploys, rendered without AWS or Pulumi.</summary>
public sealed record StackPlan(string Stack, string AccountId, string Region, ImmutableArray<PlannedComponent> Components)
{
    public ImmutableArray<string> Warnings { get; init; } = [];

    public IEnumerable<PlannedResource> AllResources => Components.SelectMany(c => c.Resources);

    public PlannedResource Resource(string name) =>
        AllResources.FirstOrDefault(r => r.Name == name) ?? throw new KeyNotFoundException($"no planned resource named '{name}'");

    public JsonObject ToJsonNode() => new()
    {
        ["stack"] = Stack,
        ["account"] = AccountId,
        ["region"] = Region,
        ["components"] = new JsonArray([.. Components.Select(c => (JsonNode)c.ToJsonNode())]),
        ["warnings"] = new JsonArray([.. Warnings.Select(w => (JsonNode)JsonValue.Create(w))]),
    };

    public string ToJson() => ToJsonNode().ToJsonString(JsonFormat.Indented);
}

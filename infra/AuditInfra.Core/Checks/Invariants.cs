using System.Collections.Immutable;
using System.Reflection;
using System.Text.Json.Nodes;

namespace AuditInfra.Core.Checks;

public sealed record Invariant(string Id, string ResourceType, string Description, ImmutableArray<string> Controls);

/// <summary>
/// The invariant list shared with the CrossGuard pack: policy/invariants.json, embedded here so
/// the check and the pack read the same ids, descriptions and controls.
/// </summary>
public static class Invariants
{
    private static readonly Lazy<(ImmutableArray<Invariant> All, int MinimumKeyDeletionWindowDays)> Loaded = new(Load);

    public static ImmutableArray<Invariant> All => Loaded.Value.All;

    public static int MinimumKeyDeletionWindowDays => Loaded.Value.MinimumKeyDeletionWindowDays;

    public static Invariant Get(string id) =>
        All.FirstOrDefault(i => i.Id == id) ?? throw new KeyNotFoundException($"no invariant '{id}' in policy/invariants.json");

    private static (ImmutableArray<Invariant>, int) Load()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("policy/invariants.json")
            ?? throw new InvalidOperationException("policy/invariants.json is not embedded");
        var root = JsonNode.Parse(stream)!;
        var invariants = root["invariants"]!.AsArray().Select(i => new Invariant(
            (string)i!["id"]!,
            (string)i["resourceType"]!,
            (string)i["description"]!,
            [.. i["controls"]!.AsArray().Select(c => (string)c!)])).ToImmutableArray();
        return (invariants, (int)root["parameters"]!["minimumKeyDeletionWindowDays"]!);
    }
}

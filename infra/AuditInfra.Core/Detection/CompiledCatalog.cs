using System.Collections.Immutable;
using System.Text.Json;

namespace AuditInfra.Core.Detection;

/// <summary>
/// A catalog compiled once: every pattern validated and turned into matchers, and the rules
/// indexed by the envelope <c>source</c> they pin, so an event is tried only against the rules
/// that could fire on it.
/// </summary>
public sealed class CompiledCatalog
{
    private readonly Dictionary<string, (DetectionRule Rule, EventPattern Pattern)[]> _bySource;
    private readonly (DetectionRule Rule, EventPattern Pattern)[] _anySource;

    public CompiledCatalog(IEnumerable<DetectionRule> rules)
    {
        var compiled = rules.Select(r => (Rule: r, Pattern: EventPattern.Compile(r.Pattern))).ToList();
        Rules = [.. compiled.Select(c => c.Rule)];
        _anySource = [.. compiled.Where(c => c.Pattern.ExactValuesOf("source") is null)];
        _bySource = compiled
            .SelectMany(c => (c.Pattern.ExactValuesOf("source") ?? (IReadOnlySet<string>)new HashSet<string>()).Select(source => (source, c)))
            .GroupBy(x => x.source, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(x => x.c).ToArray(), StringComparer.Ordinal);
    }

    public ImmutableArray<DetectionRule> Rules { get; }

    /// <summary>The rules that fire on one EventBridge event, in catalog order.</summary>
    public List<DetectionRule> Match(JsonElement envelope)
    {
        var fired = new List<DetectionRule>();
        if (envelope.TryGetProperty("source", out var source) && source.ValueKind == JsonValueKind.String
            && _bySource.TryGetValue(source.GetString()!, out var candidates))
        {
            foreach (var (rule, pattern) in candidates)
            {
                if (pattern.Matches(envelope))
                {
                    fired.Add(rule);
                }
            }
        }

        foreach (var (rule, pattern) in _anySource)
        {
            if (pattern.Matches(envelope))
            {
                fired.Add(rule);
            }
        }

        return fired.Count > 1 ? [.. fired.OrderBy(r => Rules.IndexOf(r))] : fired;
    }
}

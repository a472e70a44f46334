using Pulumi;

namespace AuditInfra;

/// <summary>A design's tags as Pulumi input: every component tags its resources the same way.</summary>
public static class PulumiTags
{
    public static InputMap<string> From(IEnumerable<KeyValuePair<string, string>> tags)
    {
        var map = new InputMap<string>();
        foreach (var (key, value) in tags)
        {
            map.Add(key, value);
        }

        return map;
    }
}

using System.Collections.Immutable;

namespace AuditInfra.Core.Configuration;

/// <summary>
/// A configuration value as written, before typing. Scalars stay text because Pulumi hands every
/// scalar to the program as a string; typing happens once, in <see cref="ConfigScope"/>.
/// </summary>
public abstract record ConfigValue(int? Line)
{
    public abstract string Describe();
}

public sealed record ConfigScalar(string? Text, int? Line) : ConfigValue(Line)
{
    /// <summary>Written quoted (YAML) or as a JSON string: always text, never a number or boolean.</summary>
    public bool Quoted { get; init; }

    public override string Describe() => Text is null ? "null" : $"\"{Text}\"";
}

public sealed record ConfigSequence(ImmutableArray<ConfigValue> Items, int? Line) : ConfigValue(Line)
{
    public override string Describe() => "a list";
}

public sealed record ConfigMapping(ImmutableArray<KeyValuePair<string, ConfigValue>> Entries, int? Line) : ConfigValue(Line)
{
    public override string Describe() => "a map";

    public ConfigValue? Get(string key)
    {
        foreach (var (k, v) in Entries)
        {
            if (k == key)
            {
                return v;
            }
        }

        return null;
    }
}

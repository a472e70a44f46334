using System.Collections.Immutable;
using System.Text.Json;

namespace AuditInfra.Core.Detection;

/// <summary>
/// A catalog compiled once: every pattern validated and turned into matchers, and the rules
/// indexed by what they pin — envelope source and detail.eventName, else source, else
/// detail-type — so an event is tried only against the few rules that could fire on it.
/// </summary>
public sealed class CompiledCatalog
{
    private readonly Dictionary<string, Dictionary<string, Entry[]>> _bySourceAndName = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<string, Entry[]>>.AlternateLookup<ReadOnlySpan<char>> _bySourceAndNameLookup;
    private readonly Dictionary<string, Entry[]>.AlternateLookup<ReadOnlySpan<char>> _bySourceLookup;
    private readonly Dictionary<string, Entry[]>.AlternateLookup<ReadOnlySpan<char>> _byDetailTypeLookup;
    private readonly Dictionary<string, Entry[]> _bySource = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Entry[]> _byDetailType = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Entry[]> _byIdentityType = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Entry[]>.AlternateLookup<ReadOnlySpan<char>> _byIdentityTypeLookup;
    private readonly Entry[] _unindexed;

    public CompiledCatalog(IEnumerable<DetectionRule> rules)
    {
        var entries = rules.Select((r, i) => new Entry(r, EventPattern.Compile(r.Pattern), i)).ToList();
        Rules = [.. entries.Select(e => e.Rule)];
        var bySourceAndName = new Dictionary<(string, string), List<Entry>>();
        var bySource = new Dictionary<string, List<Entry>>(StringComparer.Ordinal);
        var byDetailType = new Dictionary<string, List<Entry>>(StringComparer.Ordinal);
        var byIdentityType = new Dictionary<string, List<Entry>>(StringComparer.Ordinal);
        var unindexed = new List<Entry>();
        foreach (var entry in entries)
        {
            var sources = entry.Pattern.ExactValuesOf("source");
            var names = entry.Pattern.ExactValuesOf("detail.eventName");
            var detailTypes = entry.Pattern.ExactValuesOf("detail-type");
            var identityTypes = entry.Pattern.ExactValuesOf("detail.userIdentity.type");
            if (sources is not null && names is not null)
            {
                foreach (var source in sources)
                {
                    foreach (var name in names)
                    {
                        Add(bySourceAndName, (source, name), entry);
                    }
                }
            }
            else if (sources is not null)
            {
                foreach (var source in sources)
                {
                    Add(bySource, source, entry);
                }
            }
            else if (detailTypes is not null)
            {
                foreach (var detailType in detailTypes)
                {
                    Add(byDetailType, detailType, entry);
                }
            }
            else if (identityTypes is not null)
            {
                foreach (var identityType in identityTypes)
                {
                    Add(byIdentityType, identityType, entry);
                }
            }
            else
            {
                unindexed.Add(entry);
            }
        }

        foreach (var (key, list) in byIdentityType)
        {
            _byIdentityType[key] = [.. list];
        }

        foreach (var ((source, name), list) in bySourceAndName)
        {
            if (!_bySourceAndName.TryGetValue(source, out var byName))
            {
                _bySourceAndName[source] = byName = new Dictionary<string, Entry[]>(StringComparer.Ordinal);
            }

            byName[name] = [.. list];
        }

        foreach (var (key, list) in bySource)
        {
            _bySource[key] = [.. list];
        }

        foreach (var (key, list) in byDetailType)
        {
            _byDetailType[key] = [.. list];
        }

        _unindexed = [.. unindexed];
        _byIdentityTypeLookup = _byIdentityType.GetAlternateLookup<ReadOnlySpan<char>>();
        _bySourceAndNameLookup = _bySourceAndName.GetAlternateLookup<ReadOnlySpan<char>>();
        _bySourceLookup = _bySource.GetAlternateLookup<ReadOnlySpan<char>>();
        _byDetailTypeLookup = _byDetailType.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public ImmutableArray<DetectionRule> Rules { get; }

    /// <summary>The rules that fire on one EventBridge event, in catalog order.</summary>
    public IReadOnlyList<DetectionRule> Match(JsonElement envelope)
    {
        Span<char> sourceBuffer = stackalloc char[JsonText.StackLimit];
        Span<char> nameBuffer = stackalloc char[JsonText.StackLimit];
        var source = Chars(envelope, "source"u8, sourceBuffer);
        var hasDetail = envelope.TryGetProperty("detail"u8, out var detail) && detail.ValueKind == JsonValueKind.Object;
        Entry? single = null;
        List<Entry>? fired = null;
        // detail.eventName is read only for a source some rule names: most events' sources are not.
        if (hasDetail && !source.IsEmpty && _bySourceAndNameLookup.TryGetValue(source, out var byName))
        {
            var name = Chars(detail, "eventName"u8, nameBuffer);
            if (!name.IsEmpty && byName.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(name, out var named))
            {
                Try(named, envelope, ref single, ref fired);
            }
        }

        if (!source.IsEmpty && _bySource.Count > 0 && _bySourceLookup.TryGetValue(source, out var bySource))
        {
            Try(bySource, envelope, ref single, ref fired);
        }

        if (_byDetailType.Count > 0)
        {
            Span<char> typeBuffer = stackalloc char[JsonText.StackLimit];
            var detailType = Chars(envelope, "detail-type"u8, typeBuffer);
            if (!detailType.IsEmpty && _byDetailTypeLookup.TryGetValue(detailType, out var byDetailType))
            {
                Try(byDetailType, envelope, ref single, ref fired);
            }
        }

        if (_byIdentityType.Count > 0 && detail.ValueKind == JsonValueKind.Object && detail.TryGetProperty("userIdentity"u8, out var identity)
            && identity.ValueKind == JsonValueKind.Object)
        {
            Span<char> identityBuffer = stackalloc char[JsonText.StackLimit];
            var identityType = Chars(identity, "type"u8, identityBuffer);
            if (!identityType.IsEmpty && _byIdentityTypeLookup.TryGetValue(identityType, out var byIdentity))
            {
                Try(byIdentity, envelope, ref single, ref fired);
            }
        }

        foreach (var entry in _unindexed)
        {
            // A field the pattern needs under detail, checked on the detail already in hand.
            if (entry.RequiredDetailFieldUtf8 is { } required && (detail.ValueKind != JsonValueKind.Object || !detail.TryGetProperty(required, out _)))
            {
                continue;
            }

            if (entry.Pattern.Matches(envelope))
            {
                Add(entry, ref single, ref fired);
            }
        }

        if (fired is null)
        {
            // Most events fire nothing, most of the rest one rule: no allocation for either.
            return single is null ? Array.Empty<DetectionRule>() : single.Alone;
        }

        fired.Sort((a, b) => a.Order.CompareTo(b.Order));
        return fired.ConvertAll(e => e.Rule);
    }

    private static void Try(Entry[] entries, JsonElement envelope, ref Entry? single, ref List<Entry>? fired)
    {
        foreach (var entry in entries)
        {
            if (entry.Pattern.Matches(envelope))
            {
                Add(entry, ref single, ref fired);
            }
        }
    }

    private static void Add(Entry entry, ref Entry? single, ref List<Entry>? fired)
    {
        if (single is null && fired is null)
        {
            single = entry;
            return;
        }

        fired ??= [single!];
        fired.Add(entry);
    }

    /// <summary>A string field's characters in the buffer (or a fresh string when escaped or long); empty when absent.</summary>
    private static ReadOnlySpan<char> Chars(JsonElement obj, ReadOnlySpan<byte> name, Span<char> buffer)
    {
        if (!obj.TryGetProperty(name, out var value) || value.ValueKind != JsonValueKind.String)
        {
            return default;
        }

        return JsonText.TryGetChars(value, buffer, out var length) ? buffer[..length] : value.GetString().AsSpan();
    }

    private static void Add<TKey>(Dictionary<TKey, List<Entry>> index, TKey key, Entry entry)
        where TKey : notnull
    {
        if (!index.TryGetValue(key, out var list))
        {
            index[key] = list = [];
        }

        list.Add(entry);
    }

    private sealed record Entry(DetectionRule Rule, EventPattern Pattern, int Order)
    {
        public byte[]? RequiredDetailFieldUtf8 { get; } = Pattern.RequiredDetailField() is { } field ? System.Text.Encoding.UTF8.GetBytes(field) : null;

        /// <summary>The result when this rule alone fires, allocated once.</summary>
        public DetectionRule[] Alone { get; } = [Rule];
    }
}

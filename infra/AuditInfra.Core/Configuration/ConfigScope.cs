using System.Collections.Immutable;
using System.Globalization;

namespace AuditInfra.Core.Configuration;

/// <summary>
/// Types one level of configuration and records every key it was asked for, so that whatever is
/// left over is an unknown key (reported with the nearest known key as a hint). Errors are
/// collected, never thrown: a user sees every problem of a file at once.
/// </summary>
public sealed class ConfigScope
{
    private readonly string _file;
    private readonly string _path;
    private readonly int? _line;
    private readonly IReadOnlyList<KeyValuePair<string, ConfigValue>> _entries;
    private readonly HashSet<string> _known = new(StringComparer.Ordinal);
    private readonly List<ConfigIssue> _issues;
    private readonly List<ConfigScope> _children = [];

    private ConfigScope(string file, string path, int? line, IReadOnlyList<KeyValuePair<string, ConfigValue>> entries, List<ConfigIssue> issues)
    {
        _file = file;
        _path = path;
        _line = line;
        _entries = entries;
        _issues = issues;
    }

    /// <summary>The <c>auditinfra:</c> namespace of a stack file.</summary>
    public static ConfigScope Root(RawConfig raw, List<ConfigIssue> issues)
    {
        var prefix = RawConfig.Namespace + ":";
        var entries = raw.Entries
            .Where(e => e.Key.StartsWith(prefix, StringComparison.Ordinal))
            .Select(e => new KeyValuePair<string, ConfigValue>(e.Key[prefix.Length..], e.Value))
            .ToList();
        return new ConfigScope(raw.File, prefix, null, entries, issues);
    }

    /// <summary>A scope over a plain map (e.g. a custom detection), keys reported under <paramref name="path"/>.</summary>
    public static ConfigScope ForMapping(string file, string path, ConfigMapping mapping, List<ConfigIssue> issues) =>
        new(file, path + ".", mapping.Line, mapping.Entries, issues);

    public string File => _file;

    /// <summary>The keys asked for so far at this level.</summary>
    public IReadOnlyCollection<string> KnownKeys => _known;

    public IReadOnlyList<ConfigIssue> Issues => _issues;

    /// <summary>The line of this scope's map, for errors that concern the whole section.</summary>
    public int? Line => _line;

    public string QualifiedKey(string key) => _path + key;

    public bool Has(string key)
    {
        _known.Add(key);
        return Find(key) is not null and not ConfigScalar { Text: null };
    }

    public ConfigValue? Raw(string key)
    {
        _known.Add(key);
        return Find(key);
    }

    public int? LineOf(string key) => Find(key)?.Line ?? _line;

    public void Error(string key, string message, int? line = null) =>
        _issues.Add(new ConfigIssue(IssueSeverity.Error, _file, line ?? LineOf(key), QualifiedKey(key), message));

    public void Warning(string key, string message, int? line = null) =>
        _issues.Add(new ConfigIssue(IssueSeverity.Warning, _file, line ?? LineOf(key), QualifiedKey(key), message));

    /// <summary>A string; <paramref name="check"/> returns what is expected when the value is wrong.</summary>
    public string? String(string key, bool required = false, string? defaultValue = null, Func<string, string?>? check = null)
    {
        var value = Raw(key);
        switch (value)
        {
            case null or ConfigScalar { Text: null }:
                if (required)
                {
                    Error(key, "is required" + (check is null ? "" : $": {check("") ?? "a value"}"));
                }

                return defaultValue;
            case ConfigScalar { Text: { } text }:
                if (check?.Invoke(text) is { } expected)
                {
                    Error(key, $"expected {expected} (found \"{text}\")", value.Line);
                    return defaultValue;
                }

                return text;
            default:
                Error(key, $"expected a single value, found {value.Describe()}", value.Line);
                return defaultValue;
        }
    }

    public int Int(string key, int defaultValue, int min, int max, string? unit = null) =>
        OptionalInt(key, min, max, unit) ?? defaultValue;

    public int? OptionalInt(string key, int min, int max, string? unit = null)
    {
        var value = Raw(key);
        if (value is null or ConfigScalar { Text: null })
        {
            return null;
        }

        var range = $"a whole number from {min} to {max}{(unit is null ? "" : " " + unit)}";
        if (value is not ConfigScalar { Text: { } text } || !int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number))
        {
            Error(key, $"expected {range} (found {value.Describe()})", value.Line);
            return null;
        }

        if (number < min || number > max)
        {
            Error(key, $"expected {range} (found {number})", value.Line);
            return null;
        }

        return number;
    }

    public bool Bool(string key, bool defaultValue)
    {
        var value = Raw(key);
        switch (value)
        {
            case null or ConfigScalar { Text: null }:
                return defaultValue;
            case ConfigScalar { Text: { } text } when bool.TryParse(text, out var b):
                return b;
            default:
                Error(key, $"expected true or false (found {value.Describe()})", value?.Line);
                return defaultValue;
        }
    }

    /// <summary>An enumeration written by name, case-insensitively; the message lists the choices.</summary>
    public TEnum Enum<TEnum>(string key, TEnum defaultValue, Func<TEnum, string>? spelling = null)
        where TEnum : struct, System.Enum
    {
        spelling ??= v => v.ToString();
        var choices = System.Enum.GetValues<TEnum>();
        var text = String(key, check: t => choices.Any(c => string.Equals(spelling(c), t, StringComparison.OrdinalIgnoreCase))
            ? null
            : "one of " + string.Join(", ", choices.Select(spelling)));
        return text is null ? defaultValue : choices.First(c => string.Equals(spelling(c), text, StringComparison.OrdinalIgnoreCase));
    }

    public ImmutableArray<string> StringList(string key, bool required = false, Func<string, string?>? check = null, bool allowEmpty = true)
    {
        var value = Raw(key);
        switch (value)
        {
            case null or ConfigScalar { Text: null }:
                if (required)
                {
                    Error(key, "is required: a list" + (check is null ? "" : $" of {check("") ?? "values"}"));
                }

                return [];
            case ConfigSequence seq:
                var result = ImmutableArray.CreateBuilder<string>();
                for (var i = 0; i < seq.Items.Length; i++)
                {
                    var item = seq.Items[i];
                    var itemKey = $"{key}[{i}]";
                    if (item is not ConfigScalar { Text: { } text })
                    {
                        Error(itemKey, $"expected a single value, found {item.Describe()}", item.Line ?? seq.Line);
                        continue;
                    }

                    if (check?.Invoke(text) is { } expected)
                    {
                        Error(itemKey, $"expected {expected} (found \"{text}\")", item.Line ?? seq.Line);
                        continue;
                    }

                    if (result.Contains(text))
                    {
                        Error(itemKey, $"\"{text}\" is listed twice", item.Line ?? seq.Line);
                        continue;
                    }

                    result.Add(text);
                }

                if (!allowEmpty && seq.Items.Length == 0)
                {
                    Error(key, "expected at least one entry", seq.Line);
                }

                return result.ToImmutable();
            default:
                Error(key, $"expected a list, found {value.Describe()}", value.Line);
                return [];
        }
    }

    public ImmutableSortedDictionary<string, string> StringMap(string key, Func<string, string?>? checkKey = null, Func<string, string?>? checkValue = null)
    {
        var value = Raw(key);
        switch (value)
        {
            case null or ConfigScalar { Text: null }:
                return ImmutableSortedDictionary<string, string>.Empty.WithComparers(StringComparer.Ordinal);
            case ConfigMapping map:
                var result = ImmutableSortedDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
                foreach (var (k, v) in map.Entries)
                {
                    var entryKey = $"{key}.{k}";
                    if (checkKey?.Invoke(k) is { } expectedKey)
                    {
                        Error(entryKey, $"expected a key that is {expectedKey}", v.Line ?? map.Line);
                        continue;
                    }

                    if (v is not ConfigScalar { Text: { } text })
                    {
                        Error(entryKey, $"expected a single value, found {v.Describe()}", v.Line ?? map.Line);
                        continue;
                    }

                    if (checkValue?.Invoke(text) is { } expectedValue)
                    {
                        Error(entryKey, $"expected {expectedValue} (found \"{text}\")", v.Line ?? map.Line);
                        continue;
                    }

                    result[k] = text;
                }

                return result.ToImmutable();
            default:
                Error(key, $"expected a map, found {value.Describe()}", value.Line);
                return ImmutableSortedDictionary<string, string>.Empty.WithComparers(StringComparer.Ordinal);
        }
    }

    /// <summary>A nested map; absent means every key of it takes its default.</summary>
    public ConfigScope Section(string key)
    {
        var value = Raw(key);
        IReadOnlyList<KeyValuePair<string, ConfigValue>> entries = [];
        if (value is ConfigMapping map)
        {
            entries = map.Entries;
        }
        else if (value is not null and not ConfigScalar { Text: null })
        {
            Error(key, $"expected a map, found {value.Describe()}", value.Line);
        }

        var child = new ConfigScope(_file, QualifiedKey(key) + ".", value?.Line, entries, _issues);
        _children.Add(child);
        return child;
    }

    /// <summary>A list of maps (e.g. custom detections), each typed by <paramref name="bind"/>.</summary>
    public ImmutableArray<T> ListOf<T>(string key, Func<ConfigScope, T?> bind)
        where T : class
    {
        var value = Raw(key);
        switch (value)
        {
            case null or ConfigScalar { Text: null }:
                return [];
            case ConfigSequence seq:
                var result = ImmutableArray.CreateBuilder<T>();
                for (var i = 0; i < seq.Items.Length; i++)
                {
                    if (seq.Items[i] is not ConfigMapping map)
                    {
                        Error($"{key}[{i}]", $"expected a map, found {seq.Items[i].Describe()}", seq.Items[i].Line ?? seq.Line);
                        continue;
                    }

                    var child = new ConfigScope(_file, $"{QualifiedKey(key)}[{i}].", map.Line, map.Entries, _issues);
                    _children.Add(child);
                    if (bind(child) is { } item)
                    {
                        result.Add(item);
                    }
                }

                return result.ToImmutable();
            default:
                Error(key, $"expected a list of maps, found {value.Describe()}", value.Line);
                return [];
        }
    }

    /// <summary>Reports every key nobody asked for, here and in every nested section.</summary>
    public void ReportUnknownKeys()
    {
        foreach (var (key, value) in _entries)
        {
            if (_known.Contains(key))
            {
                continue;
            }

            var hint = KeyHints.Nearest(key, _known);
            var message = hint is null
                ? "is not a known key" + (_known.Count > 0 ? $" (known here: {string.Join(", ", _known.Order(StringComparer.Ordinal))})" : "")
                : $"is not a known key; did you mean '{hint}'?";
            Error(key, message, value.Line ?? _line);
        }

        foreach (var child in _children)
        {
            child.ReportUnknownKeys();
        }
    }

    private ConfigValue? Find(string key)
    {
        foreach (var (k, v) in _entries)
        {
            if (k == key)
            {
                return v;
            }
        }

        return null;
    }
}

/// <summary>"Did you mean": the known key nearest by edit distance, case-insensitively.</summary>
public static class KeyHints
{
    public static string? Nearest(string key, IEnumerable<string> candidates)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in candidates)
        {
            var distance = Distance(key.ToLowerInvariant(), candidate.ToLowerInvariant());
            if (distance < bestDistance)
            {
                best = candidate;
                bestDistance = distance;
            }
        }

        var allowed = Math.Max(2, key.Length / 3);
        return bestDistance <= allowed ? best : null;
    }

    public static int Distance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }
}

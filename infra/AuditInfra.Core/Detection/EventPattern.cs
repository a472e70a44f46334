using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace AuditInfra.Core.Detection;

public sealed class EventPatternException(string path, string message) : Exception($"{path}: {message}")
{
    public string Path { get; } = path;
}

/// <summary>
/// An EventBridge event pattern, validated and compiled once into matchers, then applied to any
/// number of events (shared/reference/detections.md; semantics of aws/event-ruler): every field
/// must match (AND); a leaf is a list of alternatives (OR); an array in the event matches when
/// any element does; <c>$or</c> takes alternatives of sub-patterns.
/// </summary>
public sealed class EventPattern
{
    /// <summary>EventBridge's bounds for numeric matching.</summary>
    public const double NumericLimit = 5.0e9;

    private readonly ObjectMatcher _root;

    private EventPattern(JsonObject source, ObjectMatcher root)
    {
        Source = source;
        _root = root;
    }

    public JsonObject Source { get; }

    public static EventPattern Parse(string json)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(json);
        }
        catch (JsonException ex)
        {
            throw new EventPatternException("(pattern)", $"is not valid JSON: {ex.Message}");
        }

        return Compile(node);
    }

    public static EventPattern Compile(JsonNode? node)
    {
        if (node is not JsonObject obj || obj.Count == 0)
        {
            throw new EventPatternException("(pattern)", "must be a non-empty JSON object");
        }

        return new EventPattern((JsonObject)obj.DeepClone(), CompileObject(obj, ""));
    }

    public bool Matches(JsonElement evt) => evt.ValueKind == JsonValueKind.Object && _root.Matches(evt);

    public bool Matches(string eventJson)
    {
        using var doc = JsonDocument.Parse(eventJson);
        return Matches(doc.RootElement);
    }

    /// <summary>
    /// A field directly under <c>detail</c> that must be present for the pattern to match (its
    /// leaf matches no missing value), or null; a catalog checks it before running the pattern.
    /// </summary>
    internal string? RequiredDetailField() => _root.RequiredChildField("detail");

    /// <summary>Exact values a string field (a dotted path such as "detail.eventName") must take, if the pattern pins them; used to index a catalog.</summary>
    internal IReadOnlySet<string>? ExactValuesOf(string path) => _root.ExactValuesOf(path.Split('.'), 0);

    private static ObjectMatcher CompileObject(JsonObject obj, string path)
    {
        var fields = new List<(string Name, IMatcher Matcher)>();
        var alternatives = new List<ObjectMatcher>();
        foreach (var (key, value) in obj)
        {
            var here = path.Length == 0 ? key : $"{path}.{key}";
            if (key == "$or")
            {
                if (value is not JsonArray { Count: >= 2 } ors || ors.Any(o => o is not JsonObject { Count: > 0 }))
                {
                    throw new EventPatternException(here, "\"$or\" takes a list of at least two non-empty objects");
                }

                alternatives.AddRange(ors.Select((o, i) => CompileObject((JsonObject)o!, $"{here}[{i}]")));
                continue;
            }

            fields.Add((key, value switch
            {
                JsonObject nested when nested.Count > 0 => CompileObject(nested, here),
                JsonObject => throw new EventPatternException(here, "an empty object matches nothing: give fields or a list of values"),
                JsonArray leaf => CompileLeaf(leaf, here),
                _ => throw new EventPatternException(here, $"expected a list of values or a nested object (found {Describe(value)}): EventBridge wants every leaf as a list, e.g. [\"value\"]"),
            }));
        }

        return new ObjectMatcher(fields, alternatives);
    }

    private static LeafMatcher CompileLeaf(JsonArray leaf, string path)
    {
        if (leaf.Count == 0)
        {
            throw new EventPatternException(path, "an empty list matches nothing");
        }

        var exactStrings = new HashSet<string>(StringComparer.Ordinal);
        var exactNumbers = new HashSet<double>();
        var others = new List<IValueMatcher>();
        bool? exists = null;
        var matchesNull = false;
        var exactBools = new HashSet<bool>();
        for (var i = 0; i < leaf.Count; i++)
        {
            var item = leaf[i];
            var here = $"{path}[{i}]";
            switch (item)
            {
                case null:
                    matchesNull = true;
                    break;
                case JsonValue v when v.GetValueKind() == JsonValueKind.String:
                    exactStrings.Add(v.GetValue<string>());
                    break;
                case JsonValue v when v.GetValueKind() == JsonValueKind.Number:
                    exactNumbers.Add(v.GetValue<double>());
                    break;
                case JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False:
                    exactBools.Add(v.GetValue<bool>());
                    break;
                case JsonObject op when op.Count == 1:
                    var (name, arg) = op.First();
                    if (name == "exists")
                    {
                        if (arg is not JsonValue e || e.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False))
                        {
                            throw new EventPatternException(here, "\"exists\" takes true or false");
                        }

                        if (leaf.Count > 1)
                        {
                            throw new EventPatternException(here, "\"exists\" cannot be combined with other values in one list");
                        }

                        exists = e.GetValue<bool>();
                    }
                    else
                    {
                        others.Add(CompileOperator(name, arg, here, insideAnythingBut: false));
                    }

                    break;
                case JsonObject:
                    throw new EventPatternException(here, "a matching object has exactly one operator, e.g. {\"prefix\": \"x\"}");
                default:
                    throw new EventPatternException(here, $"expected a value or an operator object (found {Describe(item)}); lists cannot nest");
            }
        }

        return new LeafMatcher(exactStrings, exactNumbers, exactBools, matchesNull, others, exists);
    }

    private static IValueMatcher CompileOperator(string name, JsonNode? arg, string path, bool insideAnythingBut)
    {
        switch (name)
        {
            case "prefix":
            case "suffix":
                var (text, ignoreCase) = StringOrIgnoreCase(arg, $"{path}.{name}");
                return name == "prefix" ? new PrefixMatcher(text, ignoreCase) : new SuffixMatcher(text, ignoreCase);
            case "equals-ignore-case":
                if (insideAnythingBut && arg is JsonArray list)
                {
                    return new IgnoreCaseSetMatcher(list.Select((v, i) => RequireString(v, $"{path}.{name}[{i}]")));
                }

                return new IgnoreCaseSetMatcher([RequireString(arg, $"{path}.{name}")]);
            case "wildcard":
                return new WildcardMatcher(RequireString(arg, $"{path}.{name}"), $"{path}.{name}");
            case "numeric":
                return NumericMatcher.Compile(arg, $"{path}.numeric");
            case "cidr":
                return CidrMatcher.Compile(RequireString(arg, $"{path}.cidr"), $"{path}.cidr");
            case "anything-but" when insideAnythingBut:
                throw new EventPatternException(path, "\"anything-but\" cannot nest inside \"anything-but\"");
            case "anything-but":
                return new AnythingButMatcher(CompileAnythingBut(arg, $"{path}.anything-but"));
            case "exists":
                throw new EventPatternException(path, "\"exists\" cannot be used here");
            default:
                throw new EventPatternException(path, $"unknown operator \"{name}\" (known: prefix, suffix, equals-ignore-case, wildcard, anything-but, numeric, exists, cidr)");
        }
    }

    private static IValueMatcher CompileAnythingBut(JsonNode? arg, string path) => arg switch
    {
        JsonValue v when v.GetValueKind() == JsonValueKind.String => new ExactMatcher([v.GetValue<string>()], []),
        JsonValue v when v.GetValueKind() == JsonValueKind.Number => new ExactMatcher([], [v.GetValue<double>()]),
        JsonArray list when list.Count > 0 && list.All(i => i is JsonValue x && x.GetValueKind() == JsonValueKind.String) => new ExactMatcher([.. list.Select(i => i!.GetValue<string>())], []),
        JsonArray list when list.Count > 0 && list.All(i => i is JsonValue x && x.GetValueKind() == JsonValueKind.Number) => new ExactMatcher([], [.. list.Select(i => i!.GetValue<double>())]),
        JsonArray => throw new EventPatternException(path, "takes a non-empty list of all strings or all numbers"),
        JsonObject op when op.Count == 1 && op.First().Key == "anything-but" => throw new EventPatternException(path, "\"anything-but\" cannot nest inside \"anything-but\""),
        JsonObject op when op.Count == 1 && op.First().Key is "prefix" or "suffix" or "equals-ignore-case" or "wildcard" =>
            CompileOperator(op.First().Key, op.First().Value, path, insideAnythingBut: true),
        JsonObject op when op.Count == 1 => throw new EventPatternException(path, $"\"{op.First().Key}\" is not allowed inside anything-but (allowed: prefix, suffix, equals-ignore-case, wildcard)"),
        _ => throw new EventPatternException(path, $"takes a value, a list of values, or one of prefix/suffix/equals-ignore-case/wildcard (found {Describe(arg)})"),
    };

    private static (string Text, bool IgnoreCase) StringOrIgnoreCase(JsonNode? arg, string path) => arg switch
    {
        JsonObject o when o.Count == 1 && o.First().Key == "equals-ignore-case" => (RequireString(o.First().Value, path + ".equals-ignore-case"), true),
        _ => (RequireString(arg, path), false),
    };

    private static string RequireString(JsonNode? node, string path) =>
        node is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : throw new EventPatternException(path, $"expected a string (found {Describe(node)})");

    internal static string Describe(JsonNode? node) => node switch
    {
        null => "null",
        JsonObject => "an object",
        JsonArray => "a list",
        _ => node.ToJsonString(),
    };

    private interface IMatcher
    {
        bool Matches(JsonElement value, bool present);
    }

    private interface IValueMatcher
    {
        /// <summary>Matches one scalar (never an array).</summary>
        bool Matches(JsonElement value);
    }

    private sealed class ObjectMatcher(List<(string Name, IMatcher Matcher)> fields, List<ObjectMatcher> alternatives) : IMatcher
    {
        // Field names as UTF-8, once: a string name would be transcoded on every look-up.
        private readonly byte[][] _utf8Names = [.. fields.Select(f => System.Text.Encoding.UTF8.GetBytes(f.Name))];

        public bool Matches(JsonElement value, bool present)
        {
            if (!present)
            {
                // Only "exists": false (possibly nested) can match a missing object.
                return fields.All(f => f.Matcher.Matches(default, false)) && (alternatives.Count == 0 || alternatives.Any(a => a.Matches(default, false)));
            }

            return value.ValueKind switch
            {
                JsonValueKind.Object => Matches(value),
                JsonValueKind.Array => value.EnumerateArray().Any(e => e.ValueKind == JsonValueKind.Object && Matches(e)),
                _ => Matches(default, false),
            };
        }

        public bool Matches(JsonElement obj)
        {
            for (var i = 0; i < fields.Count; i++)
            {
                var present = obj.TryGetProperty(_utf8Names[i], out var field);
                if (!fields[i].Matcher.Matches(field, present))
                {
                    return false;
                }
            }

            if (alternatives.Count > 0)
            {
                foreach (var alternative in alternatives)
                {
                    if (alternative.Matches(obj))
                    {
                        return true;
                    }
                }

                return false;
            }

            return true;
        }

        public string? RequiredChildField(string objectName) =>
            alternatives.Count == 0 && fields.FirstOrDefault(f => f.Name == objectName).Matcher is ObjectMatcher nested ? nested.FirstRequiredLeaf() : null;

        private string? FirstRequiredLeaf() =>
            alternatives.Count == 0 ? fields.FirstOrDefault(f => f.Matcher is LeafMatcher leaf && leaf.RequiresPresence).Name : null;

        public IReadOnlySet<string>? ExactValuesOf(string[] path, int depth) =>
            fields.FirstOrDefault(f => f.Name == path[depth]).Matcher switch
            {
                LeafMatcher leaf when depth == path.Length - 1 => leaf.OnlyExactStrings,
                ObjectMatcher nested when depth < path.Length - 1 => nested.ExactValuesOf(path, depth + 1),
                _ => null,
            };
    }

    private sealed class LeafMatcher(HashSet<string> strings, HashSet<double> numbers, HashSet<bool> bools, bool matchesNull, List<IValueMatcher> others, bool? exists) : IMatcher
    {
        private readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> _byChars = strings.GetAlternateLookup<ReadOnlySpan<char>>();

        // One plain-ASCII value: the event's raw token must be exactly "value", quotes included.
        private readonly byte[]? _singleToken = strings.Count == 1 && strings.First().All(c => c is >= ' ' and < (char)127 and not '"' and not '\\')
            ? System.Text.Encoding.ASCII.GetBytes($"\"{strings.First()}\"")
            : null;

        /// <summary>True when a missing field can never match this leaf (only exists:false can).</summary>
        public bool RequiresPresence => exists is not false;

        public IReadOnlySet<string>? OnlyExactStrings =>
            exists is null && numbers.Count == 0 && bools.Count == 0 && !matchesNull && others.Count == 0 ? strings : null;

        public bool Matches(JsonElement value, bool present)
        {
            if (exists is { } mustExist)
            {
                return mustExist == (present && value.ValueKind is not JsonValueKind.Object);
            }

            if (!present)
            {
                return false;
            }

            if (value.ValueKind == JsonValueKind.Array)
            {
                foreach (var element in value.EnumerateArray())
                {
                    if (MatchesScalar(element))
                    {
                        return true;
                    }
                }

                return false;
            }

            return MatchesScalar(value);
        }

        private bool MatchesScalar(JsonElement value)
        {
            switch (value.ValueKind)
            {
                case JsonValueKind.String when strings.Count > 0 && ContainsString(value):
                case JsonValueKind.Number when numbers.Count > 0 && numbers.Contains(value.GetDouble()):
                case JsonValueKind.True when bools.Contains(true):
                case JsonValueKind.False when bools.Contains(false):
                case JsonValueKind.Null when matchesNull:
                    return true;
            }

            foreach (var other in others)
            {
                if (other.Matches(value))
                {
                    return true;
                }
            }

            return false;
        }

        private bool ContainsString(JsonElement value)
        {
            if (_singleToken is not null)
            {
                var raw = System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(value);
                if (raw.IndexOf((byte)'\\') < 0)
                {
                    return raw.SequenceEqual(_singleToken);
                }
            }

            Span<char> buffer = stackalloc char[JsonText.StackLimit];
            return JsonText.TryGetChars(value, buffer, out var length)
                ? _byChars.Contains(buffer[..length])
                : strings.Contains(value.GetString()!);
        }
    }

    private sealed class ExactMatcher(HashSet<string> strings, HashSet<double> numbers) : IValueMatcher
    {
        public ExactMatcher(IEnumerable<string> strings, IEnumerable<double> numbers)
            : this(new HashSet<string>(strings, StringComparer.Ordinal), new HashSet<double>(numbers))
        {
        }

        public bool Matches(JsonElement value) => value.ValueKind switch
        {
            JsonValueKind.String => strings.Contains(value.GetString()!),
            JsonValueKind.Number => numbers.Contains(value.GetDouble()),
            _ => false,
        };
    }

    private sealed class PrefixMatcher(string prefix, bool ignoreCase) : IValueMatcher
    {
        public bool Matches(JsonElement value) => value.ValueKind == JsonValueKind.String
            && value.GetString()!.StartsWith(prefix, ignoreCase ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);
    }

    private sealed class SuffixMatcher(string suffix, bool ignoreCase) : IValueMatcher
    {
        public bool Matches(JsonElement value) => value.ValueKind == JsonValueKind.String
            && value.GetString()!.EndsWith(suffix, ignoreCase ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);
    }

    private sealed class IgnoreCaseSetMatcher(IEnumerable<string> values) : IValueMatcher
    {
        private readonly HashSet<string> _values = new(values, StringComparer.OrdinalIgnoreCase);

        public bool Matches(JsonElement value) => value.ValueKind == JsonValueKind.String && _values.Contains(value.GetString()!);
    }

    private sealed class WildcardMatcher : IValueMatcher
    {
        private readonly Regex _regex;

        public WildcardMatcher(string pattern, string path)
        {
            if (pattern.Contains("**", StringComparison.Ordinal))
            {
                throw new EventPatternException(path, "consecutive wildcard characters are not allowed");
            }

            var parts = new List<string>();
            var literal = new System.Text.StringBuilder();
            for (var i = 0; i < pattern.Length; i++)
            {
                if (pattern[i] == '\\' && i + 1 < pattern.Length && pattern[i + 1] is '*' or '\\')
                {
                    literal.Append(pattern[++i]);
                }
                else if (pattern[i] == '*')
                {
                    parts.Add(Regex.Escape(literal.ToString()));
                    literal.Clear();
                    parts.Add(".*");
                }
                else
                {
                    literal.Append(pattern[i]);
                }
            }

            parts.Add(Regex.Escape(literal.ToString()));
            _regex = new Regex("^" + string.Concat(parts) + @"\z", RegexOptions.Singleline | RegexOptions.CultureInvariant | RegexOptions.Compiled);
        }

        public bool Matches(JsonElement value) => value.ValueKind == JsonValueKind.String && _regex.IsMatch(value.GetString()!);
    }

    private sealed class AnythingButMatcher(IValueMatcher excluded) : IValueMatcher
    {
        // A value of another type than the excluded ones is "anything but" them.
        public bool Matches(JsonElement value) => !excluded.Matches(value);
    }

    private sealed class NumericMatcher(double? lower, bool lowerInclusive, double? upper, bool upperInclusive, double? equal) : IValueMatcher
    {
        public static NumericMatcher Compile(JsonNode? arg, string path)
        {
            if (arg is not JsonArray list || list.Count is not (2 or 4))
            {
                throw new EventPatternException(path, "takes [op, number] or [op, number, op, number] with op one of <, <=, =, >=, >");
            }

            double? lower = null, upper = null, equal = null;
            bool lowerInclusive = false, upperInclusive = false;
            for (var i = 0; i < list.Count; i += 2)
            {
                var op = list[i] is JsonValue o && o.GetValueKind() == JsonValueKind.String ? o.GetValue<string>() : null;
                if (list[i + 1] is not JsonValue n || n.GetValueKind() != JsonValueKind.Number)
                {
                    throw new EventPatternException($"{path}[{i + 1}]", $"expected a number after \"{op}\" (found {Describe(list[i + 1])})");
                }

                var number = n.GetValue<double>();
                if (Math.Abs(number) > NumericLimit)
                {
                    throw new EventPatternException($"{path}[{i + 1}]", $"{number.ToString(CultureInfo.InvariantCulture)} is outside EventBridge's numeric range (-5e9 to 5e9)");
                }

                switch (op)
                {
                    case ">" or ">=" when lower is null && equal is null:
                        (lower, lowerInclusive) = (number, op == ">=");
                        break;
                    case "<" or "<=" when upper is null && equal is null:
                        (upper, upperInclusive) = (number, op == "<=");
                        break;
                    case "=" when list.Count == 2:
                        equal = number;
                        break;
                    case ">" or ">=" or "<" or "<=" or "=":
                        throw new EventPatternException($"{path}[{i}]", "a range has at most one lower and one upper bound, and \"=\" stands alone");
                    default:
                        throw new EventPatternException($"{path}[{i}]", $"unknown comparison \"{op}\" (use <, <=, =, >=, >)");
                }
            }

            if (lower is { } lo && upper is { } hi && (lo > hi || (lo == hi && !(lowerInclusive && upperInclusive))))
            {
                throw new EventPatternException(path, "the range is empty: the lower bound must be below the upper bound");
            }

            return new NumericMatcher(lower, lowerInclusive, upper, upperInclusive, equal);
        }

        public bool Matches(JsonElement value)
        {
            if (value.ValueKind != JsonValueKind.Number)
            {
                return false;
            }

            var x = value.GetDouble();
            if (equal is { } e)
            {
                return x == e;
            }

            return (lower is not { } lo || (lowerInclusive ? x >= lo : x > lo)) && (upper is not { } hi || (upperInclusive ? x <= hi : x < hi));
        }
    }

    private sealed class CidrMatcher(byte[] network, int prefixLength) : IValueMatcher
    {
        public static CidrMatcher Compile(string cidr, string path)
        {
            var slash = cidr.IndexOf('/');
            if (slash < 0 || !IPAddress.TryParse(cidr[..slash], out var address) || !int.TryParse(cidr[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var bits)
                || bits > address.GetAddressBytes().Length * 8)
            {
                throw new EventPatternException(path, $"\"{cidr}\" is not a CIDR block such as 10.0.0.0/24 or 2001:db8::/32");
            }

            return new CidrMatcher(address.GetAddressBytes(), bits);
        }

        public bool Matches(JsonElement value)
        {
            if (value.ValueKind != JsonValueKind.String || !IPAddress.TryParse(value.GetString(), out var ip))
            {
                return false;
            }

            var bytes = ip.GetAddressBytes();
            if (bytes.Length != network.Length)
            {
                return false;
            }

            for (var bit = 0; bit < prefixLength; bit++)
            {
                var mask = 0x80 >> (bit % 8);
                if ((bytes[bit / 8] & mask) != (network[bit / 8] & mask))
                {
                    return false;
                }
            }

            return true;
        }
    }
}

using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;

namespace AuditInfra.Cli.Tests.Fuzz;

/// <summary>One mutated input: what was done (to reproduce it by seed) and its bytes.</summary>
public sealed record Mutant(string Description, byte[] Bytes);

/// <summary>
/// Seeded mutations of a valid input: byte-level damage (truncation, a deleted or inserted byte, another encoding,
/// an empty file) and, for JSON and YAML, structural ones (a value of another kind, a huge number, a duplicate key,
/// deep nesting). The same seed always gives the same mutant.
/// </summary>
public static class Mutations
{
    private const string HugeMarker = "__huge_number_marker__";
    private const string DeepMarker = "__deep_nesting_marker__";
    private const string DuplicateMarker = "__duplicate_key_marker__";

    private static readonly Func<JsonNode?>[] Replacements =
    [
        () => null,
        () => JsonValue.Create(0),
        () => JsonValue.Create(-1),
        () => JsonValue.Create(1.5),
        () => JsonValue.Create(long.MaxValue),
        () => JsonValue.Create(HugeMarker),
        () => JsonValue.Create(""),
        () => JsonValue.Create("x"),
        () => JsonValue.Create("\u00e9\U0001F600\u0000"),
        () => JsonValue.Create(new string('x', 100_000)),
        () => JsonValue.Create(true),
        () => new JsonArray(),
        () => new JsonArray(JsonValue.Create(1), JsonValue.Create("a")),
        () => new JsonObject(),
        () => new JsonObject { ["a"] = 1 },
        () => JsonValue.Create(DeepMarker),
    ];

    private static readonly string[] YamlValues =
    [
        "[", "[a, b", "{a: 1", "]", "}", "[]", "{}", "~", "null", "1e999", "99999999999999999999999", "-1", "\"", "'x", "\"\\uD800\"",
        "&anchor x", "*missing", "!!binary x", "!custom x", "? [a]", "|", ">", "- a", "a: b: c", "%", "@x", "`x", "x #", "[a, [b, {c: d}]]",
        new string('[', 200) + new string(']', 200), "\t", new string('x', 100_000),
    ];

    public static Mutant Json(byte[] original, int seed)
    {
        var random = new Random(seed);
        return random.Next(3) == 0 ? Bytes(original, random) : Structure(original, random);
    }

    /// <summary>A gzip file: its JSON mutated and compressed again, or its compressed bytes damaged.</summary>
    public static Mutant GzipJson(byte[] gzip, int seed)
    {
        var random = new Random(seed);
        if (random.Next(3) == 0)
        {
            var damaged = Bytes(gzip, random);
            return damaged with { Description = "gzip bytes: " + damaged.Description };
        }

        using var input = new GZipStream(new MemoryStream(gzip), CompressionMode.Decompress);
        using var plain = new MemoryStream();
        input.CopyTo(plain);
        var mutant = random.Next(3) == 0 ? Bytes(plain.ToArray(), random) : Structure(plain.ToArray(), random);
        using var output = new MemoryStream();
        using (var compress = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            compress.Write(mutant.Bytes);
        }

        if (random.Next(4) == 0)
        {
            // A second gzip member after the first, as a log appended to another.
            var again = output.ToArray();
            output.Write(again);
            return new Mutant("inflated JSON: " + mutant.Description + ", then the gzip member twice", output.ToArray());
        }

        return new Mutant("inflated JSON: " + mutant.Description, output.ToArray());
    }

    public static Mutant Yaml(string original, int seed)
    {
        var random = new Random(seed);
        var bytes = Encoding.UTF8.GetBytes(original);
        if (random.Next(3) == 0)
        {
            return Bytes(bytes, random);
        }

        var lines = original.Split('\n').ToList();
        var valueLines = lines.Select((line, index) => (line, index)).Where(l => l.line.TrimStart().Length > 0 && !l.line.TrimStart().StartsWith('#') && l.line.Contains(':', StringComparison.Ordinal)).ToList();
        var (target, at) = valueLines[random.Next(valueLines.Count)];
        string description;
        switch (random.Next(6))
        {
            case 0:
            case 1:
                var value = YamlValues[random.Next(YamlValues.Length)];
                lines[at] = target[..(target.IndexOf(':', StringComparison.Ordinal) + 1)] + " " + value;
                description = $"line {at + 1}: value replaced by {Shorten(value)}";
                break;
            case 2:
                lines.Insert(at, target);
                description = $"line {at + 1}: duplicated (a duplicate key)";
                break;
            case 3:
                lines[at] = "\t" + target.TrimStart();
                description = $"line {at + 1}: indented with a tab";
                break;
            case 4:
                lines.RemoveAt(at);
                description = $"line {at + 1}: deleted";
                break;
            default:
                var indent = target[..(target.Length - target.TrimStart().Length)];
                lines[at] = indent + new string(' ', 1 + random.Next(3)) + target.TrimStart();
                description = $"line {at + 1}: indented further";
                break;
        }

        return new Mutant(description, Encoding.UTF8.GetBytes(string.Join('\n', lines)));
    }

    private static Mutant Bytes(byte[] original, Random random)
    {
        switch (random.Next(9))
        {
            case 0:
                var length = random.Next(original.Length);
                return new Mutant($"truncated to {length} bytes", original[..length]);
            case 1:
                var deleted = random.Next(original.Length);
                return new Mutant($"byte {deleted} deleted", [.. original[..deleted], .. original[(deleted + 1)..]]);
            case 2:
                var inserted = random.Next(original.Length);
                var value = (byte)random.Next(256);
                return new Mutant($"byte 0x{value:x2} inserted at {inserted}", [.. original[..inserted], value, .. original[inserted..]]);
            case 3:
                var flipped = random.Next(original.Length);
                var copy = original.ToArray();
                copy[flipped] ^= (byte)(1 << random.Next(8));
                return new Mutant($"a bit of byte {flipped} flipped", copy);
            case 4:
                return new Mutant("empty file", []);
            case 5:
                return new Mutant("UTF-16 with a byte order mark", Encoding.Unicode.GetPreamble().Concat(Encoding.Unicode.GetBytes(Encoding.UTF8.GetString(original))).ToArray());
            case 6:
                return new Mutant("UTF-16 without a byte order mark", Encoding.Unicode.GetBytes(Encoding.UTF8.GetString(original)));
            case 7:
                var bad = random.Next(original.Length);
                return new Mutant($"invalid UTF-8 (0xC3 0x28) inserted at {bad}", [.. original[..bad], 0xC3, 0x28, .. original[bad..]]);
            default:
                return new Mutant("trailing garbage", [.. original, .. "\n}]garbage"u8.ToArray()]);
        }
    }

    private static Mutant Structure(byte[] original, Random random)
    {
        var root = JsonNode.Parse(original)!;
        var slots = new List<(JsonNode Parent, string? Name, int Index, string Path)>();
        Collect(root, "$", slots);
        string description;
        if (slots.Count == 0 || random.Next(12) == 0)
        {
            var replacement = Replacements[random.Next(Replacements.Length)]();
            description = $"root replaced by {Describe(replacement)}";
            return new Mutant(description, Encoding.UTF8.GetBytes(Render(replacement)));
        }

        var (parent, name, index, path) = slots[random.Next(slots.Count)];
        switch (random.Next(5))
        {
            case 0 when parent is JsonObject withKeys:
                var copy = withKeys[name!]?.DeepClone();
                withKeys[DuplicateMarker] = copy;
                description = $"{path}: key duplicated";
                return new Mutant(description, Encoding.UTF8.GetBytes(Render(root).Replace($"\"{DuplicateMarker}\"", $"\"{name}\"", StringComparison.Ordinal)));
            case 1 when parent is JsonObject removeFrom:
                removeFrom.Remove(name!);
                description = $"{path}: removed";
                break;
            case 1 when parent is JsonArray removeItem:
                removeItem.RemoveAt(index);
                description = $"{path}: removed";
                break;
            default:
                var replacement = Replacements[random.Next(Replacements.Length)]();
                if (parent is JsonObject o)
                {
                    o[name!] = replacement;
                }
                else
                {
                    ((JsonArray)parent)[index] = replacement;
                }

                description = $"{path}: replaced by {Describe(replacement)}";
                break;
        }

        return new Mutant(description, Encoding.UTF8.GetBytes(Render(root)));
    }

    private static void Collect(JsonNode? node, string path, List<(JsonNode, string?, int, string)> slots)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (key, value) in o.ToList())
                {
                    slots.Add((o, key, -1, $"{path}.{key}"));
                    Collect(value, $"{path}.{key}", slots);
                }

                break;
            case JsonArray a:
                for (var i = 0; i < a.Count; i++)
                {
                    slots.Add((a, null, i, $"{path}[{i}]"));
                    Collect(a[i], $"{path}[{i}]", slots);
                }

                break;
        }
    }

    private static string Render(JsonNode? node) =>
        (node?.ToJsonString() ?? "null")
            .Replace($"\"{HugeMarker}\"", "1e400", StringComparison.Ordinal)
            .Replace($"\"{DeepMarker}\"", new string('[', 10_000) + new string(']', 10_000), StringComparison.Ordinal);

    private static string Describe(JsonNode? node) => Shorten(Render(node));

    private static string Shorten(string text) => text.Length > 40 ? text[..40] + $"... ({text.Length} chars)" : text;
}

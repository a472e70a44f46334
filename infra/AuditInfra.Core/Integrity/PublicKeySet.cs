using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;

namespace AuditInfra.Core.Integrity;

/// <summary>One CloudTrail public key: DER PKCS#1 RSAPublicKey, validity and fingerprint (hex MD5 of the DER).</summary>
public sealed record CloudTrailPublicKey(string Fingerprint, byte[] Der, DateTimeOffset ValidFrom, DateTimeOffset ValidTo)
{
    public bool IsValidAt(DateTimeOffset time) => time >= ValidFrom && time <= ValidTo;
}

/// <summary>
/// The keys from the JSON that <c>aws cloudtrail list-public-keys</c> prints (several regions' lists may be
/// merged into one file, as one object with all keys or an array of such objects). Keys are chosen by fingerprint.
/// </summary>
public sealed class PublicKeySet
{
    public const string ProduceCommand =
        "aws cloudtrail list-public-keys --region <trail-home-region> --start-time <earliest digest time> --end-time <latest digest time> --output json > public-keys.json";

    private static readonly double MinUnixMilliseconds = DateTimeOffset.MinValue.ToUnixTimeMilliseconds();

    private static readonly double MaxUnixMilliseconds = DateTimeOffset.MaxValue.ToUnixTimeMilliseconds();

    private readonly Dictionary<string, CloudTrailPublicKey> byFingerprint;
    private readonly Dictionary<string, RSA> rsa = new(StringComparer.OrdinalIgnoreCase);
    private readonly Lock gate = new();

    public PublicKeySet(IEnumerable<CloudTrailPublicKey> keys)
    {
        byFingerprint = new Dictionary<string, CloudTrailPublicKey>(StringComparer.OrdinalIgnoreCase);
        foreach (var key in keys)
        {
            byFingerprint[key.Fingerprint] = key;
        }
    }

    public IReadOnlyCollection<CloudTrailPublicKey> Keys => byFingerprint.Values;

    public CloudTrailPublicKey? Find(string fingerprint) => byFingerprint.GetValueOrDefault(fingerprint);

    /// <summary>An RSA instance for the key (cached; RSA verification is thread-safe per instance on .NET).</summary>
    public RSA RsaFor(CloudTrailPublicKey key)
    {
        lock (gate)
        {
            if (!rsa.TryGetValue(key.Fingerprint, out var instance))
            {
                instance = RSA.Create();
                instance.ImportRSAPublicKey(key.Der, out _);
                rsa[key.Fingerprint] = instance;
            }

            return instance;
        }
    }

    public static string FingerprintOf(byte[] der) => Convert.ToHexStringLower(MD5.HashData(der));

    public static PublicKeySet Load(string path)
    {
        string text;
        try
        {
            text = InputFile.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IntegrityInputException($"cannot read the public keys file '{path}': {e.Message}");
        }

        return Parse(text, path);
    }

    /// <summary>Parses list-public-keys JSON; every problem names the file and the entry.</summary>
    public static PublicKeySet Parse(string json, string source)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new IntegrityInputException($"{source}: not valid JSON (line {e.LineNumber + 1}): {Messages.OneLine(e.Message, 200)}. Expected the output of: {ProduceCommand}");
        }

        using (document)
        {
            var lists = new List<JsonElement>();
            if (document.RootElement.ValueKind == JsonValueKind.Array)
            {
                lists.AddRange(document.RootElement.EnumerateArray());
            }
            else
            {
                lists.Add(document.RootElement);
            }

            var keys = new List<CloudTrailPublicKey>();
            foreach (var list in lists)
            {
                if (list.ValueKind != JsonValueKind.Object || !list.TryGetProperty("PublicKeyList", out var items) || items.ValueKind != JsonValueKind.Array)
                {
                    throw new IntegrityInputException($"{source}: expected an object with a \"PublicKeyList\" array (the output of: {ProduceCommand})");
                }

                var index = 0;
                foreach (var item in items.EnumerateArray())
                {
                    keys.Add(ParseKey(item, $"{source}: PublicKeyList[{index}]"));
                    index++;
                }
            }

            if (keys.Count == 0)
            {
                throw new IntegrityInputException($"{source}: the PublicKeyList is empty; produce it with: {ProduceCommand}");
            }

            return new PublicKeySet(keys);
        }
    }

    private static CloudTrailPublicKey ParseKey(JsonElement item, string where)
    {
        if (item.ValueKind != JsonValueKind.Object)
        {
            throw new IntegrityInputException($"{where}: expected an object with Value, Fingerprint, ValidityStartTime and ValidityEndTime (found {JsonKinds.Describe(item)})");
        }

        string Text(string name) =>
            item.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! :
            item.TryGetProperty(name, out var n) && n.ValueKind == JsonValueKind.Number ? n.GetRawText() :
            throw new IntegrityInputException(item.TryGetProperty(name, out var other) ? $"{where}: \"{name}\": expected a string (found {JsonKinds.Describe(other)})" : $"{where}: missing \"{name}\"");

        byte[] der;
        try
        {
            der = Convert.FromBase64String(Text("Value"));
            using var check = RSA.Create();
            check.ImportRSAPublicKey(der, out _);
        }
        catch (Exception e) when (e is FormatException or CryptographicException)
        {
            throw new IntegrityInputException($"{where}: \"Value\" is not a base64 DER PKCS#1 RSA public key ({e.Message})");
        }

        var fingerprint = Text("Fingerprint").ToLowerInvariant();
        var actual = FingerprintOf(der);
        if (fingerprint != actual)
        {
            throw new IntegrityInputException($"{where}: Fingerprint {Messages.OneLine(fingerprint, 100)} does not match the MD5 of the key value ({actual})");
        }

        return new CloudTrailPublicKey(fingerprint, der, Time(Text("ValidityStartTime"), where, "ValidityStartTime"), Time(Text("ValidityEndTime"), where, "ValidityEndTime"));
    }

    private static DateTimeOffset Time(string text, string where, string name)
    {
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var epoch))
        {
            var milliseconds = epoch * 1000;
            if (double.IsFinite(milliseconds) && milliseconds >= MinUnixMilliseconds && milliseconds <= MaxUnixMilliseconds)
            {
                return DateTimeOffset.FromUnixTimeMilliseconds((long)milliseconds);
            }

            throw new IntegrityInputException($"{where}: \"{name}\" is not a time between years 1 and 9999 in seconds since 1970: {text}");
        }

        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
        {
            return time;
        }

        throw new IntegrityInputException($"{where}: \"{name}\" is not a timestamp: {Messages.OneLine(text, 100)}");
    }

    /// <summary>Writes keys in the list-public-keys JSON shape.</summary>
    public static string ToJson(IEnumerable<CloudTrailPublicKey> keys)
    {
        var list = keys.Select(k => new Dictionary<string, string>
        {
            ["Value"] = Convert.ToBase64String(k.Der),
            ["ValidityStartTime"] = k.ValidFrom.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'+00:00'", CultureInfo.InvariantCulture),
            ["ValidityEndTime"] = k.ValidTo.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'+00:00'", CultureInfo.InvariantCulture),
            ["Fingerprint"] = k.Fingerprint,
        });
        return JsonSerializer.Serialize(new { PublicKeyList = list }, new JsonSerializerOptions { WriteIndented = true });
    }
}

using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Numerics;
using System.Text.RegularExpressions;

namespace AuditInfra.Core.Query;

/// <summary>One filter of a question, as a WHERE predicate in each engine's SQL: DuckDB over local files, Athena over the bucket.</summary>
public sealed record QueryPredicate(string Option, string Local, string Athena);

/// <summary>
/// Every filter of a <see cref="TimelineQuery"/>, written once for both engines so that a local answer
/// and an Athena answer to the same question select the same rows (timeline and summary alike).
/// </summary>
public static class QueryFilters
{
    public static IReadOnlyList<QueryPredicate> For(TimelineQuery q)
    {
        var from = TimelineSql.Literal(q.From.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        var to = TimelineSql.Literal(q.To.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        var predicates = new List<QueryPredicate>
        {
            new("--account", $"account = {TimelineSql.Literal(q.Account)}", $"account = {TimelineSql.Literal(q.Account)}"),
            // Athena's date partition is the day the file was delivered under, as the local copy's day folders
            // are; the event time narrows both to the asked days (a file can hold the previous day's last minutes).
            // The day part is compared, not `< To + 1 day`: the last representable day has no next day.
            new("--start", $"event_time >= {from}", $"eventtime >= {from}"),
            new("--end", $"left(event_time, 10) <= {to}", $"substr(eventtime, 1, 10) <= {to}"),
        };
        if (q.Regions.Count > 0)
        {
            var list = In(q.Regions);
            predicates.Add(new("--region", $"region IN ({list})", $"region IN ({list})"));
        }

        if (q.Principal is { Length: > 0 } principal)
        {
            // Case-insensitive in both: DuckDB's ILIKE, and Athena's lower() of both sides.
            var like = TimelineSql.Literal($"%{principal}%");
            var lowerLike = TimelineSql.Literal($"%{principal.ToLowerInvariant()}%");
            predicates.Add(new(
                "--principal",
                $"(principal_arn ILIKE {like} OR session_issuer ILIKE {like})",
                $"(lower(useridentity.arn) LIKE {lowerLike} OR lower(useridentity.sessioncontext.sessionissuer.arn) LIKE {lowerLike})"));
        }

        if (q.EventNames.Count > 0)
        {
            var list = In(q.EventNames);
            predicates.Add(new("--event-name", $"event_name IN ({list})", $"eventname IN ({list})"));
        }

        if (q.EventSources.Count > 0)
        {
            var list = In(q.EventSources);
            predicates.Add(new("--event-source", $"event_source IN ({list})", $"eventsource IN ({list})"));
        }

        if (q.ErrorsOnly)
        {
            predicates.Add(new("--errors-only", "error_code IS NOT NULL", "errorcode IS NOT NULL"));
        }

        if (q.SourceNetwork is { } given)
        {
            // Athena has an IPADDRESS type; a service name (iam.amazonaws.com) casts to NULL, which matches nothing. It stores an
            // IPv4 address as its IPv4-mapped IPv6 form, and `contains` compares that as the IPv4 address, so a mapped record
            // already matches an IPv4 block there; a mapped block must be given to it as its IPv4 block (it refuses /120 on IPv4).
            var network = Canonical(given);
            predicates.Add(new(
                "--ip",
                LocalAddressIn(network, "source_ip"),
                $"contains({TimelineSql.Literal(network.ToString())}, TRY_CAST(regexp_replace(sourceipaddress, '{ZoneSuffix}', '$1') AS IPADDRESS))"));
        }

        return predicates;
    }

    /// <summary>
    /// The value of --ip: an address (the block of that one address) or a CIDR block, written as CloudTrail and Athena
    /// write them: four decimal octets without leading zeros (not .NET's <c>10.1</c>, <c>0x0a.0.0.0</c> or octal
    /// <c>010.0.0.0</c>), or IPv6 without a zone, and no bits set past the prefix (Athena refuses <c>10.1.2.3/8</c>;
    /// which block was meant is the user's to say). False with the one-line error otherwise.
    /// </summary>
    public static bool TryParseNetwork(string text, out IPNetwork network, out string error)
    {
        network = default;
        var expected = $"--ip: expected an address or CIDR block such as 203.0.113.5, 10.0.0.0/8 or 2001:db8::/32 (found \"{Messages.OneLine(text)}\")";
        var parts = text.Split('/');
        if (parts.Length > 2 || ParseAddress(parts[0]) is not { } address)
        {
            error = expected;
            return false;
        }

        var bits = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        var prefix = bits;
        if (parts.Length == 2 && !(Regex.IsMatch(parts[1], "^(0|[1-9][0-9]{0,2})\\z") && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out prefix)))
        {
            error = expected;
            return false;
        }

        if (prefix > bits)
        {
            error = $"--ip: the prefix /{prefix} is longer than an {(bits == 32 ? "IPv4" : "IPv6")} address ({bits} bits) (found \"{Messages.OneLine(text)}\")";
            return false;
        }

        var block = IPNetwork.Parse($"{address}/{prefix}");
        if (!block.BaseAddress.Equals(address))
        {
            error = $"--ip: {Messages.OneLine(text)} has bits set past its /{prefix} prefix: the block is {block}";
            return false;
        }

        network = block;
        error = "";
        return true;
    }

    private static IPAddress? ParseAddress(string text)
    {
        var valid = text.Contains(':', StringComparison.Ordinal)
            ? Regex.IsMatch(text, $"^[0-9A-Fa-f:]*(:{Dotted})?\\z")
            : Regex.IsMatch(text, $"^{Dotted}\\z");
        return valid && IPAddress.TryParse(text, out var address) ? address : null;
    }

    private static string In(IEnumerable<string> values) => string.Join(", ", values.Select(TimelineSql.Literal));

    /// <summary>An IPv4 address as CloudTrail and Athena write it: four decimal octets, none with a leading zero.</summary>
    private const string Dotted = $"{Octet}\\.{Octet}\\.{Octet}\\.{Octet}";

    private const string Octet = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";

    /// <summary>
    /// An IPv6 address's zone (<c>fe80::1%eth0</c>): the address lies in a block whatever its zone, in both engines, as
    /// <see cref="IPNetwork.Contains"/> has it. The zone is all that follows the first <c>%</c>, and only text with a colon
    /// before it has one, so <c>10.0.0.1%x</c> stays malformed. One pattern for DuckDB (RE2) and Athena (Joni, whose ^
    /// and $ would match at any line's ends).
    /// </summary>
    private const string ZoneSuffix = @"\A([^%]*:[^%]*)%[\s\S]*\z";

    /// <summary>
    /// The block as both engines compare addresses: an IPv4-mapped IPv6 block (<c>::ffff:203.0.113.0/120</c>) is its IPv4
    /// block (<c>203.0.113.0/24</c>), as a mapped address is its IPv4 address; the base keeps no zone.
    /// </summary>
    public static IPNetwork Canonical(IPNetwork network)
    {
        var address = new IPAddress(network.BaseAddress.GetAddressBytes());
        return address.IsIPv4MappedToIPv6 && network.PrefixLength >= 96
            ? new IPNetwork(address.MapToIPv4(), network.PrefixLength - 96)
            : new IPNetwork(address, network.PrefixLength);
    }

    /// <summary>
    /// Whether the address column lies in the block, in DuckDB SQL with no extension (the inet extension is not available
    /// offline). Each address is given a key that orders as the addresses do within a family, and the block is the range
    /// of its first and last keys: <c>4</c> and 8 hex digits for an IPv4 address, written plainly or IPv4-mapped
    /// (<c>::ffff:203.0.113.5</c>, <c>::ffff:cb00:7105</c>), which is its IPv4 address as Athena stores it; <c>6</c> and 32
    /// hex digits for any other IPv6 address (<see cref="Ipv6Key"/>). Anything else (a service name, a malformed address)
    /// has no key: it matches nothing and raises no error.
    /// </summary>
    /// <remarks>
    /// The IPv6 key costs a few microseconds a row, so it is computed only for text with a colon. Measured over a million
    /// rows: a CASE branch or an OR holding it cost twice what an AND or a COALESCE does, which evaluate it only where needed.
    /// </remarks>
    public static string LocalAddressIn(IPNetwork network, string column)
    {
        network = Canonical(network);
        var (first, last) = Bounds(network);
        if (network.BaseAddress.AddressFamily == AddressFamily.InterNetwork)
        {
            var number = string.Join(" + ", Enumerable.Range(1, 4).Select(i => $"CAST(split_part({column}, '.', {i}) AS UBIGINT) * {BigInteger.Pow(256, 4 - i)}"));
            var plain = $"CASE WHEN regexp_full_match({column}, '{Dotted}') THEN '4' || printf('%08x', {number}) END";
            return $"(coalesce({plain}, CASE WHEN contains({column}, ':') THEN {Ipv6Key(column)} END) BETWEEN '4{Hex(first, 8)}' AND '4{Hex(last, 8)}')";
        }

        return $"(contains({column}, ':') AND {Ipv6Key(column)} BETWEEN '6{Hex(first, 32)}' AND '6{Hex(last, 32)}')";
    }

    /// <summary>
    /// The key of <see cref="LocalAddressIn"/> for IPv6 text, NULL when it is not an IPv6 address. DuckDB has no LET:
    /// each step's value is named once by a lambda over a one-element list, the steps chained rather than nested (a
    /// lambda inside a lambda runs row by row, several times slower): <c>a</c> the text in lowercase without a zone,
    /// <c>b</c> the same with a dotted IPv4 tail written as its two groups, then its eight groups, <c>h</c> their 32 hex
    /// digits.
    /// </summary>
    private static string Ipv6Key(string column)
    {
        var withoutZone = $"CASE WHEN contains({column}, '%') THEN regexp_replace(lower({column}), '{ZoneSuffix}', '\\1') ELSE lower({column}) END";
        string Octet(int i) => $"CAST(split_part({(i == 1 ? "regexp_extract(a, '[^:]*$')" : "a")}, '.', {i}) AS UBIGINT)";
        var withoutDottedTail = $"CASE WHEN regexp_full_match(a, '[0-9a-f:]*:{Dotted}') THEN regexp_extract(a, '^(.*:)', 1) || printf('%x:%x', {Octet(1)} * 256 + {Octet(2)}, {Octet(3)} * 256 + {Octet(4)}) ELSE a END";

        // A valid address has one '::' at most, and then as many colons as groups, less one where it starts or ends it.
        var groups = "(length(b) - length(replace(b, ':', '')) - CAST(starts_with(b, '::') AS INTEGER) - CAST(ends_with(b, '::') AS INTEGER))";
        var full = "[0-9a-f]{1,4}(:[0-9a-f]{1,4}){7}";
        var compressed = "([0-9a-f]{1,4}(:[0-9a-f]{1,4}){0,6})?::([0-9a-f]{1,4}(:[0-9a-f]{1,4}){0,6})?";
        var valid = $"(regexp_full_match(b, '{full}') OR (regexp_full_match(b, '{compressed}') AND {groups} <= 7))";

        // The '::' replaced by the zero groups it stands for, each group padded to 4 digits.
        var eightGroups = $"string_split(trim(replace(b, '::', ':' || repeat('0:', 8 - {groups})), ':'), ':')";
        var b = $"list_transform([{withoutZone}], lambda a: {withoutDottedTail})";
        var hex = $"array_to_string(list_transform(list_transform({b}, lambda b: CASE WHEN {valid} THEN {eightGroups} END)[1], lambda g: lpad(g, 4, '0')), '')";
        return $"list_transform([{hex}], lambda h: CASE WHEN starts_with(h, '{Hex(0xffff, 24)}') THEN '4' || substr(h, 25) ELSE '6' || h END)[1]";
    }

    /// <summary>The block's first and last address as unsigned numbers.</summary>
    internal static (BigInteger First, BigInteger Last) Bounds(IPNetwork network)
    {
        var bytes = network.BaseAddress.GetAddressBytes();
        var bits = bytes.Length * 8;
        var first = new BigInteger(bytes, isUnsigned: true, isBigEndian: true);
        var hostBits = bits - network.PrefixLength;
        var mask = (BigInteger.One << bits) - 1;
        first &= mask ^ ((BigInteger.One << hostBits) - 1);
        return (first, first | ((BigInteger.One << hostBits) - 1));
    }

    /// <summary>The number in this many lowercase hex digits (a leading 0 keeps it unsigned in <see cref="BigInteger"/>'s format).</summary>
    private static string Hex(BigInteger value, int digits) => value.ToString("x" + (digits + 1), CultureInfo.InvariantCulture)[^digits..];
}

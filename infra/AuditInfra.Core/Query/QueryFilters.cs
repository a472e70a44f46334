using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Numerics;

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

        if (q.SourceNetwork is { } network)
        {
            // Athena has an IPADDRESS type; a service name (iam.amazonaws.com) casts to NULL, which matches nothing.
            predicates.Add(new("--ip", LocalAddressIn(network, "source_ip"), $"contains({TimelineSql.Literal(network.ToString())}, TRY_CAST(sourceipaddress AS IPADDRESS))"));
        }

        return predicates;
    }

    private static string In(IEnumerable<string> values) => string.Join(", ", values.Select(TimelineSql.Literal));

    /// <summary>
    /// Whether the address column lies in the block, in DuckDB SQL with no extension (the inet extension
    /// is not available offline): an IPv4 address as a number between the block's first and last, an IPv6
    /// address written out as 32 hex digits between theirs. Anything else (a service name, a malformed
    /// address) matches nothing and raises no error.
    /// </summary>
    public static string LocalAddressIn(IPNetwork network, string column)
    {
        var (first, last) = Bounds(network);
        if (network.BaseAddress.AddressFamily == AddressFamily.InterNetwork)
        {
            const string octet = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
            var number = string.Join(" + ", Enumerable.Range(1, 4).Select(i => $"TRY_CAST(split_part({column}, '.', {i}) AS UBIGINT) * {BigInteger.Pow(256, 4 - i)}"));
            return $"(CASE WHEN regexp_full_match({column}, '{octet}\\.{octet}\\.{octet}\\.{octet}') THEN {number} END BETWEEN {first} AND {last})";
        }

        // Groups counted, the '::' replaced by the zero groups it stands for, each group padded to 4 digits.
        var lower = $"lower({column})";
        var groups = $"len(regexp_extract_all({lower}, '[0-9a-f]{{1,4}}'))";
        var full = "[0-9a-f]{1,4}(:[0-9a-f]{1,4}){7}";
        var compressed = "([0-9a-f]{1,4}(:[0-9a-f]{1,4}){0,6})?::([0-9a-f]{1,4}(:[0-9a-f]{1,4}){0,6})?";
        var written = $"array_to_string(list_transform(string_split(trim(replace({lower}, '::', ':' || repeat('0:', 8 - {groups})), ':'), ':'), g -> lpad(g, 4, '0')), '')";
        var valid = $"(regexp_full_match({lower}, '{full}') OR (regexp_full_match({lower}, '{compressed}') AND {groups} <= 7))";
        return $"(CASE WHEN {valid} THEN {written} END BETWEEN '{Hex(first)}' AND '{Hex(last)}')";
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

    private static string Hex(BigInteger value) => value.ToString("x33", CultureInfo.InvariantCulture)[^32..];
}

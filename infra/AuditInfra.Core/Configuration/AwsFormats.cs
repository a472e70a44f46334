using System.Text.RegularExpressions;

namespace AuditInfra.Core.Configuration;

/// <summary>
/// Checks for AWS identifiers. Each returns null when the value is good, otherwise what is
/// expected, phrased to finish the sentence "expected ...".
/// </summary>
public static partial class AwsFormats
{
    public static string? AccountId(string value) =>
        AccountIdPattern().IsMatch(value) ? null : "a 12-digit AWS account id";

    public static string? OrganizationId(string value) =>
        OrganizationIdPattern().IsMatch(value) ? null : "an organization id: 'o-' followed by 10 to 32 lowercase letters or digits";

    public static string? OrganizationalUnitId(string value) =>
        OuIdPattern().IsMatch(value) ? null : "an OU id: 'ou-' + 4 to 32 lowercase letters or digits + '-' + 8 to 32 more";

    public static string? RootId(string value) =>
        RootIdPattern().IsMatch(value) ? null : "a root id: 'r-' followed by 4 to 32 lowercase letters or digits";

    public static string? Region(string value) =>
        Regions.IsKnown(value) ? null : $"a real AWS region name{Suggest(value, Regions.All)}";

    public static string? RoleArn(string value) =>
        RoleArnPattern().IsMatch(value) ? null : "an IAM role ARN: arn:<partition>:iam::<12-digit account>:role/<name>";

    public static string? PrincipalArn(string value) =>
        PrincipalArnPattern().IsMatch(value) ? null : "an IAM principal ARN: arn:<partition>:iam::<12-digit account>:role/<name>, :user/<name> or :root";

    public static string? RoleName(string value) =>
        RoleNamePattern().IsMatch(value) ? null : "an IAM role name: 1 to 64 of letters, digits and +=,.@_-";

    public static string? Email(string value) =>
        EmailPattern().IsMatch(value) && value.Length <= 64 ? null : "an email address of at most 64 characters (local@domain.tld)";

    /// <summary>Name prefix: becomes part of bucket names, so lowercase, digits and hyphens.</summary>
    public static string? NamePrefix(string value) =>
        NamePrefixPattern().IsMatch(value) ? null : "2 to 20 lowercase letters, digits or hyphens, starting with a letter and not ending with a hyphen";

    public static string? TrailName(string value) =>
        TrailNamePattern().IsMatch(value) && !value.Contains("..") && !value.Contains("--") && !value.Contains("_-") && !value.Contains("-_")
            ? null
            : "a trail name: 3 to 128 letters, digits, '.', '_' or '-', starting with a letter or digit and ending with one, no adjacent '.', '_' or '-'";

    /// <summary>S3 key prefix for the trail's objects: empty, or path segments without a leading or trailing slash.</summary>
    public static string? S3KeyPrefix(string value) =>
        value.Length == 0 || (S3PrefixPattern().IsMatch(value) && value.Length <= 200 && !value.Contains("//") && !value.StartsWith("AWSLogs", StringComparison.Ordinal))
            ? null
            : "an S3 key prefix: letters, digits and !-_.*'()/, no leading or trailing '/', at most 200 characters, not starting with 'AWSLogs'";

    public static string? TagKey(string value) =>
        value.Length is >= 1 and <= 128 && !value.StartsWith("aws:", StringComparison.OrdinalIgnoreCase) && TagPattern().IsMatch(value)
            ? null
            : "1 to 128 characters of letters, digits, spaces and _.:/=+-@, not starting with 'aws:'";

    public static string? TagValue(string value) =>
        value.Length <= 256 && TagPattern().IsMatch(value) || value.Length == 0 ? null : "at most 256 characters of letters, digits, spaces and _.:/=+-@";

    /// <summary>The partition of a region: ARNs and service principals differ by partition.</summary>
    public static string PartitionOf(string region) =>
        region.StartsWith("cn-", StringComparison.Ordinal) ? "aws-cn"
        : region.StartsWith("us-gov-", StringComparison.Ordinal) ? "aws-us-gov"
        : "aws";

    private static string Suggest(string value, IEnumerable<string> candidates) =>
        value.Length > 0 && KeyHints.Nearest(value, candidates) is { } hint ? $"; did you mean '{hint}'?" : "";

    [GeneratedRegex(@"^[0-9]{12}\z")]
    private static partial Regex AccountIdPattern();

    [GeneratedRegex("^o-[a-z0-9]{10,32}\\z")]
    private static partial Regex OrganizationIdPattern();

    [GeneratedRegex("^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}\\z")]
    private static partial Regex OuIdPattern();

    [GeneratedRegex("^r-[0-9a-z]{4,32}\\z")]
    private static partial Regex RootIdPattern();

    [GeneratedRegex(@"^arn:aws(-cn|-us-gov)?:iam::[0-9]{12}:role/([\w+=,.@-]+/)*[\w+=,.@-]{1,64}\z")]
    private static partial Regex RoleArnPattern();

    [GeneratedRegex(@"^arn:aws(-cn|-us-gov)?:iam::[0-9]{12}:(root|role/([\w+=,.@-]+/)*[\w+=,.@-]{1,64}|user/([\w+=,.@-]+/)*[\w+=,.@-]{1,64})\z")]
    private static partial Regex PrincipalArnPattern();

    [GeneratedRegex(@"^[\w+=,.@-]{1,64}\z")]
    private static partial Regex RoleNamePattern();

    [GeneratedRegex(@"^[^@\s]+@[^@\s]+\.[^@\s]+\z")]
    private static partial Regex EmailPattern();

    [GeneratedRegex("^[a-z][a-z0-9-]{0,18}[a-z0-9]\\z")]
    private static partial Regex NamePrefixPattern();

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._-]{1,126}[A-Za-z0-9]\z")]
    private static partial Regex TrailNamePattern();

    [GeneratedRegex(@"^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*\z")]
    private static partial Regex S3PrefixPattern();

    [GeneratedRegex(@"^[\p{L}\p{Z}\p{N}_.:/=+\-@]*\z")]
    private static partial Regex TagPattern();
}

/// <summary>AWS regions as of late 2026 (commercial, China, GovCloud).</summary>
public static class Regions
{
    public static readonly IReadOnlyList<string> All =
    [
        "us-east-1", "us-east-2", "us-west-1", "us-west-2",
        "af-south-1",
        "ap-east-1", "ap-east-2", "ap-south-1", "ap-south-2",
        "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5", "ap-southeast-6", "ap-southeast-7",
        "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
        "ca-central-1", "ca-west-1",
        "eu-central-1", "eu-central-2", "eu-west-1", "eu-west-2", "eu-west-3", "eu-south-1", "eu-south-2", "eu-north-1",
        "il-central-1", "me-south-1", "me-central-1", "mx-central-1", "sa-east-1",
        "cn-north-1", "cn-northwest-1",
        "us-gov-east-1", "us-gov-west-1",
    ];

    private static readonly HashSet<string> Known = new(All, StringComparer.Ordinal);

    public static bool IsKnown(string region) => Known.Contains(region);
}

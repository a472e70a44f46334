using System.Collections.Immutable;

namespace AuditInfra.Core.Query;

/// <summary>One column of the `cloudtrail` view: its name and the record path it comes from.</summary>
public sealed record CloudTrailColumn(string Name, string JsonPath, string Description)
{
    /// <summary>The same field in Athena's CloudTrail table, whose columns are the record's paths in lowercase.</summary>
    public string AthenaExpression => JsonPath[2..].ToLowerInvariant();
}

/// <summary>
/// The timeline's columns, defined once: the DuckDB view over local files is built from this list
/// (and an Athena table over the bucket is to be, so both answer with the same columns).
/// </summary>
public static class CloudTrailColumns
{
    public static readonly ImmutableArray<CloudTrailColumn> All =
    [
        new("event_time", "$.eventTime", "when the call was made (UTC)"),
        new("account", "$.recipientAccountId", "the account the event belongs to"),
        new("region", "$.awsRegion", "the region of the call"),
        new("principal_type", "$.userIdentity.type", "Root, IAMUser, AssumedRole, AWSService, …"),
        new("principal_arn", "$.userIdentity.arn", "who made the call"),
        new("session_issuer", "$.userIdentity.sessionContext.sessionIssuer.arn", "the role behind an assumed-role session"),
        new("mfa", "$.userIdentity.sessionContext.attributes.mfaAuthenticated", "whether the session was MFA-authenticated"),
        new("source_ip", "$.sourceIPAddress", "the caller's address, or the calling service"),
        new("event_source", "$.eventSource", "the service called"),
        new("event_name", "$.eventName", "the API action"),
        new("error_code", "$.errorCode", "set when the call failed"),
        new("error_message", "$.errorMessage", "the failure's message"),
        new("request_id", "$.requestID", "the request id"),
        new("event_id", "$.eventID", "the event id"),
    ];

    /// <summary>The timeline's columns, in order, locally and in Athena ("resources" is the touched ARNs, space-separated).</summary>
    public static readonly ImmutableArray<string> Timeline =
        ["event_time", "principal_type", "principal_arn", "session_issuer", "mfa", "source_ip", "event_source", "event_name", "error_code", "resources", "request_id"];

    public static CloudTrailColumn Named(string name) => All.Single(c => c.Name == name);
}

using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using AuditInfra.Core.Configuration;

namespace AuditInfra.Core.Rollout;

/// <summary>What an account event means for the rollout.</summary>
public enum AccountSignalKind
{
    /// <summary>Organizations created the account (CreateAccountResult SUCCEEDED).</summary>
    Created,

    /// <summary>Control Tower's Account Factory created or enrolled it (CreateManagedAccount SUCCEEDED).</summary>
    ManagedCreated,

    /// <summary>Control Tower updated it (UpdateManagedAccount SUCCEEDED).</summary>
    ManagedUpdated,

    /// <summary>An invited account accepted the handshake and joined.</summary>
    Joined,

    /// <summary>The account moved to another OU.</summary>
    Moved,

    /// <summary>The account left or was removed from the organization.</summary>
    Left,

    /// <summary>The account is being closed.</summary>
    Closed,
}

public static class AccountSignalKinds
{
    /// <summary>Whether the account is (still) a member that should carry the baseline.</summary>
    public static bool KeepsAccount(this AccountSignalKind kind) => kind is not (AccountSignalKind.Left or AccountSignalKind.Closed);
}

/// <summary>One account event, reduced to what the engine needs.</summary>
public sealed record AccountSignal(
    string AccountId,
    AccountSignalKind Kind,
    string EventId,
    string EventName,
    DateTimeOffset? OccurredAt,
    string? OrganizationalUnitId = null);

public enum AccountEventOutcome
{
    /// <summary>An event the engine acts on.</summary>
    Signal,

    /// <summary>A well-formed event that needs nothing (a failed creation, an invitation not yet accepted).</summary>
    Ignored,

    /// <summary>Not an event the intake understands: it goes to the dead-letter queue with the reason.</summary>
    Invalid,
}

public sealed record ParsedAccountEvent(AccountEventOutcome Outcome, AccountSignal? Signal, string Reason)
{
    public static ParsedAccountEvent Ok(AccountSignal signal) => new(AccountEventOutcome.Signal, signal, $"{signal.EventName}: account {signal.AccountId} {signal.Kind}");

    public static ParsedAccountEvent Ignore(string reason) => new(AccountEventOutcome.Ignored, null, reason);

    public static ParsedAccountEvent Invalid(string reason) => new(AccountEventOutcome.Invalid, null, reason);
}

/// <summary>
/// Parses the EventBridge events the account-intake rule delivers (see account-events.md):
/// Organizations' CreateAccountResult service event, Control Tower's CreateManagedAccount and
/// UpdateManagedAccount, and the Organizations API calls by which accounts join, move and leave.
/// </summary>
public static class AccountEventParser
{
    /// <summary>Organizations' service events use "Sep 16, 2020 9:20:50 PM" (UTC); Control Tower ISO 8601 with "+0000".</summary>
    private static readonly string[] TimestampFormats =
    [
        "MMM d, yyyy h:mm:ss tt",
        "MMM dd, yyyy h:mm:ss tt",
        "yyyy-MM-dd'T'HH:mm:ssK",
        "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK",
        "yyyy-MM-dd'T'HH:mm:sszzz",
        "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFzzz",
        "yyyy-MM-dd'T'HH:mm:ssZ",
    ];

    /// <summary>SQS bodies are at most 1 MiB; anything larger is not a message the queue delivered.</summary>
    public const int MaxBodyLength = 1024 * 1024;

    /// <summary>Duplicate keys are refused: which of two 'accountId's counts would be a guess.</summary>
    private static readonly JsonDocumentOptions StrictJson = new() { AllowDuplicateProperties = false, MaxDepth = 64 };

    public static ParsedAccountEvent Parse(string body)
    {
        if (body.Length > MaxBodyLength)
        {
            return ParsedAccountEvent.Invalid($"message of {body.Length} characters is larger than any queue message ({MaxBodyLength})");
        }

        JsonNode? root;
        try
        {
            root = JsonNode.Parse(body, documentOptions: StrictJson);
        }
        catch (JsonException e)
        {
            return ParsedAccountEvent.Invalid($"not JSON: {e.Message}");
        }

        try
        {
            return Classify(root);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or FormatException)
        {
            // A shape no field check anticipated must still come back as a reason, not escape to the queue's retries.
            return ParsedAccountEvent.Invalid($"unexpected event shape: {e.Message}");
        }
    }

    private static ParsedAccountEvent Classify(JsonNode? root)
    {

        if (root is not JsonObject envelope)
        {
            return ParsedAccountEvent.Invalid("expected an EventBridge event (a JSON object)");
        }

        var source = Text(envelope, "source");
        var detailType = Text(envelope, "detail-type");
        if (source is null || detailType is null || envelope["detail"] is not JsonObject detail)
        {
            return ParsedAccountEvent.Invalid("expected an EventBridge event with 'source', 'detail-type' and a 'detail' object");
        }

        var eventName = Text(detail, "eventName");
        if (eventName is null)
        {
            return ParsedAccountEvent.Invalid($"event from {source} ({detailType}) has no detail.eventName");
        }

        var eventId = Text(envelope, "id") ?? Text(detail, "eventID") ?? "";
        var envelopeTime = ParseTimestamp(Text(envelope, "time")) ?? ParseTimestamp(Text(detail, "eventTime"));

        return (source, detailType) switch
        {
            ("aws.organizations", "AWS Service Event via CloudTrail") => OrganizationsServiceEvent(detail, eventName, eventId, envelopeTime),
            ("aws.controltower", "AWS Service Event via CloudTrail") => ControlTowerEvent(detail, eventName, eventId, envelopeTime),
            ("aws.organizations", "AWS API Call via CloudTrail") => OrganizationsApiCall(detail, eventName, eventId, envelopeTime),
            _ => ParsedAccountEvent.Invalid($"unexpected event: source '{source}', detail-type '{detailType}', eventName '{eventName}'"),
        };
    }

    public static DateTimeOffset? ParseTimestamp(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        return DateTimeOffset.TryParseExact(text.Trim(), TimestampFormats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed)
            || DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out parsed)
            ? parsed
            : null;
    }

    private static ParsedAccountEvent OrganizationsServiceEvent(JsonObject detail, string eventName, string eventId, DateTimeOffset? time)
    {
        if (eventName != "CreateAccountResult")
        {
            return ParsedAccountEvent.Invalid($"unexpected Organizations service event '{eventName}' (expected CreateAccountResult)");
        }

        if (Child(Child(detail, "serviceEventDetails"), "createAccountStatus") is not { } status)
        {
            return ParsedAccountEvent.Invalid("CreateAccountResult without serviceEventDetails.createAccountStatus");
        }

        var state = Text(status, "state");
        if (state != "SUCCEEDED")
        {
            return state is null
                ? ParsedAccountEvent.Invalid("CreateAccountResult without createAccountStatus.state")
                : ParsedAccountEvent.Ignore($"CreateAccountResult {Text(status, "id")} is {state}{(Text(status, "failureReason") is { } why ? $" ({why})" : "")}: no account to roll out to");
        }

        return Signal(Text(status, "accountId"), AccountSignalKind.Created, eventId, eventName, ParseTimestamp(Text(status, "completedTimestamp")) ?? time, null, "createAccountStatus.accountId");
    }

    private static ParsedAccountEvent ControlTowerEvent(JsonObject detail, string eventName, string eventId, DateTimeOffset? time)
    {
        var (statusKey, kind) = eventName switch
        {
            "CreateManagedAccount" => ("createManagedAccountStatus", AccountSignalKind.ManagedCreated),
            "UpdateManagedAccount" => ("updateManagedAccountStatus", AccountSignalKind.ManagedUpdated),
            _ => ((string?)null, default(AccountSignalKind)),
        };
        if (statusKey is null)
        {
            return ParsedAccountEvent.Invalid($"unexpected Control Tower event '{eventName}' (expected CreateManagedAccount or UpdateManagedAccount)");
        }

        if (Child(Child(detail, "serviceEventDetails"), statusKey) is not { } status)
        {
            return ParsedAccountEvent.Invalid($"{eventName} without serviceEventDetails.{statusKey}");
        }

        var state = Text(status, "state");
        if (state != "SUCCEEDED")
        {
            return state is null
                ? ParsedAccountEvent.Invalid($"{eventName} without {statusKey}.state")
                : ParsedAccountEvent.Ignore($"{eventName} is {state}{(Text(status, "message") is { } m ? $" ({m})" : "")}");
        }

        var ou = status["organizationalUnit"] is JsonObject unit ? Text(unit, "organizationalUnitId") : null;
        var account = status["account"] as JsonObject;
        return Signal(account is null ? null : Text(account, "accountId"), kind, eventId, eventName, ParseTimestamp(Text(status, "completedTimestamp")) ?? time, ou, $"{statusKey}.account.accountId");
    }

    private static ParsedAccountEvent OrganizationsApiCall(JsonObject detail, string eventName, string eventId, DateTimeOffset? time)
    {
        if (Text(detail, "errorCode") is { } error)
        {
            return ParsedAccountEvent.Ignore($"{eventName} failed ({error}): nothing changed");
        }

        var request = detail["requestParameters"] as JsonObject;
        var caller = detail["userIdentity"] is JsonObject identity ? Text(identity, "accountId") : null;
        var recipient = Text(detail, "recipientAccountId");
        return eventName switch
        {
            "MoveAccount" => Signal(request is null ? null : Text(request, "accountId"), AccountSignalKind.Moved, eventId, eventName, time, request is null ? null : Text(request, "destinationParentId"), "requestParameters.accountId"),
            "RemoveAccountFromOrganization" => Signal(request is null ? null : Text(request, "accountId"), AccountSignalKind.Left, eventId, eventName, time, null, "requestParameters.accountId"),
            "CloseAccount" => Signal(request is null ? null : Text(request, "accountId"), AccountSignalKind.Closed, eventId, eventName, time, null, "requestParameters.accountId"),

            // Called in the member account itself.
            "LeaveOrganization" => Signal(caller ?? recipient, AccountSignalKind.Left, eventId, eventName, time, null, "userIdentity.accountId"),
            "AcceptHandshake" => Signal(caller ?? recipient, AccountSignalKind.Joined, eventId, eventName, time, null, "userIdentity.accountId"),
            "InviteAccountToOrganization" => ParsedAccountEvent.Ignore("InviteAccountToOrganization: the account joins when it accepts the handshake"),
            _ => ParsedAccountEvent.Invalid($"unexpected Organizations API call '{eventName}'"),
        };
    }

    private static ParsedAccountEvent Signal(string? accountId, AccountSignalKind kind, string eventId, string eventName, DateTimeOffset? time, string? ou, string field)
    {
        if (accountId is null)
        {
            return ParsedAccountEvent.Invalid($"{eventName} without {field}");
        }

        if (AwsFormats.AccountId(accountId) is { } expected)
        {
            return ParsedAccountEvent.Invalid($"{eventName}: {field} is \"{JsonEncodedText.Encode(accountId, System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping)}\", expected {expected}");
        }

        return ParsedAccountEvent.Ok(new AccountSignal(accountId, kind, eventId, eventName, time, ou));
    }

    /// <summary>The member when it is an object: an array or a string where an object belongs is a missing object, not an exception.</summary>
    private static JsonObject? Child(JsonObject? node, string key) => node?[key] as JsonObject;

    private static string? Text(JsonObject node, string key) =>
        node[key] is JsonValue value && value.TryGetValue<string>(out var s) ? s : null;
}

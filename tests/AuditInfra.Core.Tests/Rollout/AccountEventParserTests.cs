using AuditInfra.Core.Rollout;

namespace AuditInfra.Core.Tests.Rollout;

/// <summary>The events of account-events.md, shaped as EventBridge delivers them to the queue.</summary>
public class AccountEventParserTests
{
    private const string CreateAccountResult = """
        {
          "version": "0",
          "id": "8f7b3c1e-2a4d-4c55-9a7e-0b1c2d3e4f50",
          "detail-type": "AWS Service Event via CloudTrail",
          "source": "aws.organizations",
          "account": "111111111111",
          "time": "2020-09-16T21:20:53Z",
          "region": "us-east-1",
          "resources": [],
          "detail": {
            "eventVersion": "1.05",
            "userIdentity": { "accountId": "111111111111", "invokedBy": "AWS Internal" },
            "eventTime": "2020-09-16T21:20:53Z",
            "eventSource": "organizations.amazonaws.com",
            "eventName": "CreateAccountResult",
            "awsRegion": "us-east-1",
            "sourceIPAddress": "AWS Internal",
            "userAgent": "AWS Internal",
            "requestParameters": null,
            "responseElements": null,
            "eventID": "f0a1b2c3-d4e5-4f60-8a7b-9c0d1e2f3a4b",
            "readOnly": false,
            "eventType": "AwsServiceEvent",
            "managementEvent": true,
            "recipientAccountId": "111111111111",
            "serviceEventDetails": {
              "createAccountStatus": {
                "id": "car-4f6b0a3e9c2d4e1f8a7b6c5d4e3f2a1b",
                "state": "SUCCEEDED",
                "accountName": "****",
                "accountId": "333333333333",
                "requestedTimestamp": "Sep 16, 2020 9:20:50 PM",
                "completedTimestamp": "Sep 16, 2020 9:20:53 PM"
              }
            },
            "eventCategory": "Management"
          }
        }
        """;

    private const string CreateManagedAccount = """
        {
          "version": "0",
          "id": "999cccaa-eaaa-0000-1111-123456789012",
          "detail-type": "AWS Service Event via CloudTrail",
          "source": "aws.controltower",
          "account": "111111111111",
          "time": "2019-11-16T12:09:32Z",
          "region": "us-west-2",
          "resources": [],
          "detail": {
            "eventVersion": "1.05",
            "userIdentity": { "accountId": "111111111111", "invokedBy": "AWS Internal" },
            "eventTime": "2019-11-16T12:09:32Z",
            "eventSource": "controltower.amazonaws.com",
            "eventName": "CreateManagedAccount",
            "awsRegion": "us-west-2",
            "sourceIPAddress": "AWS Internal",
            "userAgent": "AWS Internal",
            "requestParameters": null,
            "responseElements": null,
            "eventID": "0000000-0000-0000-1111-123456789012",
            "readOnly": false,
            "eventType": "AwsServiceEvent",
            "recipientAccountId": "111111111111",
            "serviceEventDetails": {
              "createManagedAccountStatus": {
                "organizationalUnit": { "organizationalUnitName": "Custom", "organizationalUnitId": "ou-abcd-l3zc8b3h" },
                "account": { "accountName": "LifeCycle1", "accountId": "444444444444" },
                "state": "SUCCEEDED",
                "message": "AWS Control Tower successfully created an enrolled account.",
                "requestedTimestamp": "2019-11-15T11:45:18+0000",
                "completedTimestamp": "2019-11-16T12:09:32+0000"
              }
            }
          }
        }
        """;

    private static string ApiCall(string eventName, string requestParameters, string caller = "111111111111", string? errorCode = null) => $$$"""
        {"version":"0","id":"api-{{{eventName}}}","detail-type":"AWS API Call via CloudTrail","source":"aws.organizations","account":"{{{caller}}}","time":"2024-03-01T10:00:00Z","region":"us-east-1","resources":[],
         "detail":{"eventVersion":"1.08","userIdentity":{"type":"AssumedRole","accountId":"{{{caller}}}"},"eventTime":"2024-03-01T10:00:00Z","eventSource":"organizations.amazonaws.com",
           "eventName":"{{{eventName}}}","awsRegion":"us-east-1",{{{(errorCode is null ? "" : $"\"errorCode\":\"{errorCode}\",")}}}"requestParameters":{{{requestParameters}}},"responseElements":null,"eventType":"AwsApiCall","recipientAccountId":"{{{caller}}}"}}
        """;

    [Fact]
    public void CreateAccountResult_succeeded_yields_the_account_with_its_odd_timestamp()
    {
        var parsed = AccountEventParser.Parse(CreateAccountResult);
        Assert.Equal(AccountEventOutcome.Signal, parsed.Outcome);
        var signal = parsed.Signal!;
        Assert.Equal("333333333333", signal.AccountId);
        Assert.Equal(AccountSignalKind.Created, signal.Kind);
        Assert.Equal("8f7b3c1e-2a4d-4c55-9a7e-0b1c2d3e4f50", signal.EventId);
        Assert.Equal(new DateTimeOffset(2020, 9, 16, 21, 20, 53, TimeSpan.Zero), signal.OccurredAt);
    }

    [Fact]
    public void CreateAccountResult_failed_is_ignored_with_the_reason()
    {
        var parsed = AccountEventParser.Parse(CreateAccountResult.Replace("\"state\": \"SUCCEEDED\"", "\"state\": \"FAILED\", \"failureReason\": \"EMAIL_ALREADY_EXISTS\""));
        Assert.Equal(AccountEventOutcome.Ignored, parsed.Outcome);
        Assert.Contains("FAILED (EMAIL_ALREADY_EXISTS)", parsed.Reason);
    }

    [Fact]
    public void Control_Tower_created_and_updated_accounts_carry_their_OU()
    {
        var created = AccountEventParser.Parse(CreateManagedAccount);
        Assert.Equal(AccountSignalKind.ManagedCreated, created.Signal!.Kind);
        Assert.Equal("444444444444", created.Signal.AccountId);
        Assert.Equal("ou-abcd-l3zc8b3h", created.Signal.OrganizationalUnitId);
        Assert.Equal(new DateTimeOffset(2019, 11, 16, 12, 9, 32, TimeSpan.Zero), created.Signal.OccurredAt);

        var updated = AccountEventParser.Parse(CreateManagedAccount.Replace("CreateManagedAccount", "UpdateManagedAccount").Replace("createManagedAccountStatus", "updateManagedAccountStatus"));
        Assert.Equal(AccountSignalKind.ManagedUpdated, updated.Signal!.Kind);

        var inProgress = AccountEventParser.Parse(CreateManagedAccount.Replace("\"state\": \"SUCCEEDED\"", "\"state\": \"FAILED\""));
        Assert.Equal(AccountEventOutcome.Ignored, inProgress.Outcome);
    }

    [Theory]
    [InlineData("MoveAccount", """{"accountId":"555555555555","sourceParentId":"r-ab12","destinationParentId":"ou-ab12-11111111"}""", "111111111111", AccountSignalKind.Moved, "555555555555")]
    [InlineData("RemoveAccountFromOrganization", """{"accountId":"555555555555"}""", "111111111111", AccountSignalKind.Left, "555555555555")]
    [InlineData("CloseAccount", """{"accountId":"555555555555"}""", "111111111111", AccountSignalKind.Closed, "555555555555")]
    [InlineData("LeaveOrganization", "null", "666666666666", AccountSignalKind.Left, "666666666666")]
    [InlineData("AcceptHandshake", """{"handshakeId":"h-0123456789abcdef"}""", "777777777777", AccountSignalKind.Joined, "777777777777")]
    public void Organizations_api_calls_say_who_joined_moved_or_left(string eventName, string request, string caller, AccountSignalKind kind, string account)
    {
        var parsed = AccountEventParser.Parse(ApiCall(eventName, request, caller));
        Assert.Equal(AccountEventOutcome.Signal, parsed.Outcome);
        Assert.Equal(kind, parsed.Signal!.Kind);
        Assert.Equal(account, parsed.Signal.AccountId);
        Assert.Equal(new DateTimeOffset(2024, 3, 1, 10, 0, 0, TimeSpan.Zero), parsed.Signal.OccurredAt);
    }

    [Fact]
    public void A_failed_call_and_an_invitation_are_ignored()
    {
        Assert.Equal(AccountEventOutcome.Ignored, AccountEventParser.Parse(ApiCall("MoveAccount", """{"accountId":"555555555555"}""", errorCode: "AccessDenied")).Outcome);
        Assert.Equal(AccountEventOutcome.Ignored, AccountEventParser.Parse(ApiCall("InviteAccountToOrganization", """{"target":{"id":"888888888888","type":"ACCOUNT"}}""")).Outcome);
    }

    [Theory]
    [InlineData("{not json", "not JSON")]
    [InlineData("[1,2]", "expected an EventBridge event")]
    [InlineData("""{"source":"aws.organizations","detail-type":"AWS Service Event via CloudTrail"}""", "'detail' object")]
    [InlineData("""{"source":"aws.s3","detail-type":"Object Created","detail":{"eventName":"PutObject"}}""", "unexpected event: source 'aws.s3'")]
    [InlineData("""{"source":"aws.organizations","detail-type":"AWS Service Event via CloudTrail","detail":{"eventName":"CreateAccountResult","serviceEventDetails":{"createAccountStatus":{"state":"SUCCEEDED"}}}}""", "without createAccountStatus.accountId")]
    [InlineData("""{"source":"aws.organizations","detail-type":"AWS Service Event via CloudTrail","detail":{"eventName":"CreateAccountResult","serviceEventDetails":{"createAccountStatus":{"state":"SUCCEEDED","accountId":"****"}}}}""", "expected a 12-digit AWS account id")]
    [InlineData("""{"source":"aws.organizations","detail-type":"AWS API Call via CloudTrail","detail":{"eventName":"CreateOrganizationalUnit"}}""", "unexpected Organizations API call 'CreateOrganizationalUnit'")]
    public void Anything_else_is_invalid_with_a_reason_for_the_dead_letter_queue(string body, string reason)
    {
        var parsed = AccountEventParser.Parse(body);
        Assert.Equal(AccountEventOutcome.Invalid, parsed.Outcome);
        Assert.Contains(reason, parsed.Reason);
    }

    [Theory]
    [InlineData("Sep 16, 2020 9:20:50 PM", "2020-09-16T21:20:50Z")]
    [InlineData("Jan 2, 2021 12:05:07 AM", "2021-01-02T00:05:07Z")]
    [InlineData("2019-11-15T11:45:18+0000", "2019-11-15T11:45:18Z")]
    [InlineData("2024-03-01T10:00:00Z", "2024-03-01T10:00:00Z")]
    public void Timestamps_in_every_format_are_read_as_UTC(string text, string expected)
    {
        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), AccountEventParser.ParseTimestamp(text));
    }
}

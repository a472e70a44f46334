using System.Text.Json.Nodes;

namespace AuditInfra.Core.Tests.Detection;

/// <summary>Real-shaped CloudTrail records (the fields CloudTrail writes), varied per test.</summary>
public static class CloudTrailRecords
{
    public static JsonObject AssumedRole(string eventSource, string eventName, string account = "333333333333", string region = "us-east-1") => new()
    {
        ["eventVersion"] = "1.09",
        ["userIdentity"] = new JsonObject
        {
            ["type"] = "AssumedRole",
            ["principalId"] = "AROAEXAMPLE:alice",
            ["arn"] = $"arn:aws:sts::{account}:assumed-role/Admin/alice",
            ["accountId"] = account,
            ["accessKeyId"] = "ASIAEXAMPLE",
            ["sessionContext"] = new JsonObject
            {
                ["sessionIssuer"] = new JsonObject { ["type"] = "Role", ["arn"] = $"arn:aws:iam::{account}:role/Admin", ["userName"] = "Admin" },
                ["attributes"] = new JsonObject { ["creationDate"] = "2026-11-20T10:00:00Z", ["mfaAuthenticated"] = "true" },
            },
        },
        ["eventTime"] = "2026-11-20T10:15:00Z",
        ["eventSource"] = eventSource,
        ["eventName"] = eventName,
        ["awsRegion"] = region,
        ["sourceIPAddress"] = "203.0.113.10",
        ["userAgent"] = "aws-cli/2.15.0",
        ["requestParameters"] = new JsonObject(),
        ["responseElements"] = null,
        ["requestID"] = "c0ffee00-0000-4000-8000-000000000001",
        ["eventID"] = "e0000000-0000-4000-8000-000000000001",
        ["readOnly"] = false,
        ["eventType"] = "AwsApiCall",
        ["managementEvent"] = true,
        ["recipientAccountId"] = account,
        ["eventCategory"] = "Management",
    };

    public static JsonObject ConsoleLogin(string type, string result, string mfa, string? error = null)
    {
        var record = new JsonObject
        {
            ["eventVersion"] = "1.09",
            ["userIdentity"] = type == "Root"
                ? new JsonObject { ["type"] = "Root", ["principalId"] = "333333333333", ["arn"] = "arn:aws:iam::333333333333:root", ["accountId"] = "333333333333" }
                : new JsonObject { ["type"] = "IAMUser", ["principalId"] = "AIDAEXAMPLE", ["arn"] = "arn:aws:iam::333333333333:user/bob", ["accountId"] = "333333333333", ["userName"] = "bob" },
            ["eventTime"] = "2026-11-20T08:00:00Z",
            ["eventSource"] = "signin.amazonaws.com",
            ["eventName"] = "ConsoleLogin",
            ["awsRegion"] = "us-east-1",
            ["sourceIPAddress"] = "198.51.100.7",
            ["userAgent"] = "Mozilla/5.0",
            ["requestParameters"] = null,
            ["responseElements"] = new JsonObject { ["ConsoleLogin"] = result },
            ["additionalEventData"] = new JsonObject { ["LoginTo"] = "https://console.aws.amazon.com/", ["MobileVersion"] = "No", ["MFAUsed"] = mfa },
            ["eventID"] = "e0000000-0000-4000-8000-000000000002",
            ["readOnly"] = false,
            ["eventType"] = "AwsConsoleSignIn",
            ["managementEvent"] = true,
            ["recipientAccountId"] = "333333333333",
            ["eventCategory"] = "Management",
        };
        if (error is not null)
        {
            record["errorMessage"] = error;
        }

        return record;
    }

    public static JsonObject With(this JsonObject record, Action<JsonObject> edit)
    {
        edit(record);
        return record;
    }
}

namespace AuditInfra.Rollout.Tests;

/// <summary>Queue message bodies shaped like the real events (account-events.md).</summary>
public static class Events
{
    public static string CreateAccountResult(string accountId, string state = "SUCCEEDED", string completed = "Sep 16, 2020 9:20:53 PM", string id = "e1") => $$$$$"""
        {"version":"0","id":"{{{{{id}}}}}","detail-type":"AWS Service Event via CloudTrail","source":"aws.organizations","account":"111111111111","time":"2020-09-16T21:20:53Z","region":"us-east-1","resources":[],
         "detail":{"eventVersion":"1.05","userIdentity":{"accountId":"111111111111","invokedBy":"AWS Internal"},"eventTime":"2020-09-16T21:20:53Z","eventSource":"organizations.amazonaws.com","eventName":"CreateAccountResult","awsRegion":"us-east-1","sourceIPAddress":"AWS Internal","userAgent":"AWS Internal","eventID":"{{{{{id}}}}}-ct","readOnly":false,"eventType":"AwsServiceEvent","managementEvent":true,"recipientAccountId":"111111111111",
           "serviceEventDetails":{"createAccountStatus":{"id":"car-4f6b0a3e9c2d4e1f","state":"{{{{{state}}}}}","accountName":"****","accountId":"{{{{{accountId}}}}}","requestedTimestamp":"Sep 16, 2020 9:20:50 PM","completedTimestamp":"{{{{{completed}}}}}"}}}}
        """;

    public static string MoveAccount(string accountId, string time, string id = "m1") => $$$$$"""
        {"version":"0","id":"{{{{{id}}}}}","detail-type":"AWS API Call via CloudTrail","source":"aws.organizations","account":"111111111111","time":"{{{{{time}}}}}","region":"us-east-1","resources":[],
         "detail":{"eventVersion":"1.08","userIdentity":{"type":"AssumedRole","accountId":"111111111111"},"eventTime":"{{{{{time}}}}}","eventSource":"organizations.amazonaws.com","eventName":"MoveAccount","awsRegion":"us-east-1",
           "requestParameters":{"accountId":"{{{{{accountId}}}}}","sourceParentId":"r-ab12","destinationParentId":"ou-ab12-11111111"},"responseElements":null,"eventID":"{{{{{id}}}}}-ct","eventType":"AwsApiCall","recipientAccountId":"111111111111"}}
        """;

    public static string RemoveAccount(string accountId, string time, string id = "r1") => $$$$$"""
        {"version":"0","id":"{{{{{id}}}}}","detail-type":"AWS API Call via CloudTrail","source":"aws.organizations","account":"111111111111","time":"{{{{{time}}}}}","region":"us-east-1","resources":[],
         "detail":{"eventVersion":"1.08","userIdentity":{"type":"AssumedRole","accountId":"111111111111"},"eventTime":"{{{{{time}}}}}","eventSource":"organizations.amazonaws.com","eventName":"RemoveAccountFromOrganization","awsRegion":"us-east-1",
           "requestParameters":{"accountId":"{{{{{accountId}}}}}"},"responseElements":null,"eventID":"{{{{{id}}}}}-ct","eventType":"AwsApiCall","recipientAccountId":"111111111111"}}
        """;
}

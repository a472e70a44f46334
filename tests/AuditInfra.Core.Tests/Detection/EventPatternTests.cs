using AuditInfra.Core.Detection;

namespace AuditInfra.Core.Tests.Detection;

/// <summary>EventBridge content filtering, operator by operator (cases after aws/event-ruler's).</summary>
public class EventPatternTests
{
    private static bool Match(string pattern, string evt) => EventPattern.Parse(pattern).Matches(evt);

    [Theory]
    // exact strings, numbers, booleans, null, empty string
    [InlineData("""{"source":["aws.iam"]}""", """{"source":"aws.iam"}""", true)]
    [InlineData("""{"source":["aws.iam"]}""", """{"source":"aws.IAM"}""", false)]
    [InlineData("""{"source":["aws.iam","aws.kms"]}""", """{"source":"aws.kms"}""", true)]
    [InlineData("""{"detail":{"count":[5]}}""", """{"detail":{"count":5.0}}""", true)]
    [InlineData("""{"detail":{"count":[5]}}""", """{"detail":{"count":"5"}}""", false)]
    [InlineData("""{"detail":{"ok":[true]}}""", """{"detail":{"ok":true}}""", true)]
    [InlineData("""{"detail":{"ok":[true]}}""", """{"detail":{"ok":"true"}}""", false)]
    [InlineData("""{"detail":{"v":[null]}}""", """{"detail":{"v":null}}""", true)]
    [InlineData("""{"detail":{"v":[null]}}""", """{"detail":{}}""", false)]
    [InlineData("""{"detail":{"v":[""]}}""", """{"detail":{"v":""}}""", true)]
    [InlineData("""{"detail":{"v":[""]}}""", """{"detail":{"v":null}}""", false)]
    // missing fields never match a value
    [InlineData("""{"detail":{"eventName":["X"]}}""", """{"source":"a"}""", false)]
    // arrays in the event: any element
    [InlineData("""{"resources":["arn:a"]}""", """{"resources":["arn:b","arn:a"]}""", true)]
    [InlineData("""{"resources":["arn:a"]}""", """{"resources":[]}""", false)]
    [InlineData("""{"detail":{"items":{"id":["x"]}}}""", """{"detail":{"items":[{"id":"y"},{"id":"x"}]}}""", true)]
    [InlineData("""{"detail":{"items":{"id":["x"]}}}""", """{"detail":{"items":[{"id":"y"}]}}""", false)]
    // prefix / suffix / equals-ignore-case (also nested in prefix and suffix)
    [InlineData("""{"detail":{"errorCode":[{"prefix":"AccessDenied"}]}}""", """{"detail":{"errorCode":"AccessDeniedException"}}""", true)]
    [InlineData("""{"detail":{"errorCode":[{"prefix":"AccessDenied"}]}}""", """{"detail":{"errorCode":"accessdenied"}}""", false)]
    [InlineData("""{"detail":{"errorCode":[{"prefix":{"equals-ignore-case":"ACCESSDENIED"}}]}}""", """{"detail":{"errorCode":"accessDeniedX"}}""", true)]
    [InlineData("""{"detail":{"errorCode":[{"suffix":"UnauthorizedOperation"}]}}""", """{"detail":{"errorCode":"Client.UnauthorizedOperation"}}""", true)]
    [InlineData("""{"detail":{"errorCode":[{"suffix":"UnauthorizedOperation"}]}}""", """{"detail":{"errorCode":"UnauthorizedOperationX"}}""", false)]
    [InlineData("""{"detail":{"f":[{"suffix":{"equals-ignore-case":".PNG"}}]}}""", """{"detail":{"f":"a.png"}}""", true)]
    [InlineData("""{"detail":{"n":[{"equals-ignore-case":"alice"}]}}""", """{"detail":{"n":"ALICE"}}""", true)]
    [InlineData("""{"detail":{"n":[{"equals-ignore-case":"alice"}]}}""", """{"detail":{"n":"alicex"}}""", false)]
    [InlineData("""{"detail":{"n":[{"prefix":"a"}]}}""", """{"detail":{"n":5}}""", false)]
    // wildcard, with escapes
    [InlineData("""{"detail":{"arn":[{"wildcard":"arn:aws:iam::*:role/admin-*"}]}}""", """{"detail":{"arn":"arn:aws:iam::123:role/admin-x"}}""", true)]
    [InlineData("""{"detail":{"arn":[{"wildcard":"arn:aws:iam::*:role/admin-*"}]}}""", """{"detail":{"arn":"arn:aws:iam::123:user/admin-x"}}""", false)]
    [InlineData("""{"detail":{"s":[{"wildcard":"a\\*b"}]}}""", """{"detail":{"s":"a*b"}}""", true)]
    [InlineData("""{"detail":{"s":[{"wildcard":"a\\*b"}]}}""", """{"detail":{"s":"axb"}}""", false)]
    [InlineData("""{"detail":{"s":[{"wildcard":"a.b"}]}}""", """{"detail":{"s":"axb"}}""", false)]
    // anything-but in all its forms
    [InlineData("""{"detail":{"t":[{"anything-but":"AwsServiceEvent"}]}}""", """{"detail":{"t":"AwsApiCall"}}""", true)]
    [InlineData("""{"detail":{"t":[{"anything-but":"AwsServiceEvent"}]}}""", """{"detail":{"t":"AwsServiceEvent"}}""", false)]
    [InlineData("""{"detail":{"t":[{"anything-but":"AwsServiceEvent"}]}}""", """{"detail":{}}""", false)]
    [InlineData("""{"detail":{"t":[{"anything-but":["a","b"]}]}}""", """{"detail":{"t":"b"}}""", false)]
    [InlineData("""{"detail":{"t":[{"anything-but":["a","b"]}]}}""", """{"detail":{"t":"c"}}""", true)]
    [InlineData("""{"detail":{"n":[{"anything-but":[1,2]}]}}""", """{"detail":{"n":3}}""", true)]
    [InlineData("""{"detail":{"n":[{"anything-but":[1,2]}]}}""", """{"detail":{"n":2}}""", false)]
    [InlineData("""{"detail":{"n":[{"anything-but":100}]}}""", """{"detail":{"n":"100"}}""", true)]
    [InlineData("""{"detail":{"s":[{"anything-but":{"prefix":"init"}}]}}""", """{"detail":{"s":"initializing"}}""", false)]
    [InlineData("""{"detail":{"s":[{"anything-but":{"prefix":"init"}}]}}""", """{"detail":{"s":"running"}}""", true)]
    [InlineData("""{"detail":{"s":[{"anything-but":{"suffix":".tmp"}}]}}""", """{"detail":{"s":"a.tmp"}}""", false)]
    [InlineData("""{"detail":{"s":[{"anything-but":{"equals-ignore-case":["YES","y"]}}]}}""", """{"detail":{"s":"Yes"}}""", false)]
    [InlineData("""{"detail":{"s":[{"anything-but":{"equals-ignore-case":["YES","y"]}}]}}""", """{"detail":{"s":"No"}}""", true)]
    [InlineData("""{"detail":{"s":[{"anything-but":{"wildcard":"*.internal"}}]}}""", """{"detail":{"s":"db.internal"}}""", false)]
    [InlineData("""{"detail":{"ip":[{"anything-but":"delivery.logs.amazonaws.com"}]}}""", """{"detail":{"ip":["delivery.logs.amazonaws.com","1.2.3.4"]}}""", true)]
    // numeric ranges and edges
    [InlineData("""{"detail":{"n":[{"numeric":[">",0,"<=",5]}]}}""", """{"detail":{"n":5}}""", true)]
    [InlineData("""{"detail":{"n":[{"numeric":[">",0,"<=",5]}]}}""", """{"detail":{"n":0}}""", false)]
    [InlineData("""{"detail":{"n":[{"numeric":[">",0,"<=",5]}]}}""", """{"detail":{"n":5.0000001}}""", false)]
    [InlineData("""{"detail":{"n":[{"numeric":[">=",-1.5]}]}}""", """{"detail":{"n":-1.5}}""", true)]
    [InlineData("""{"detail":{"n":[{"numeric":["=",3e2]}]}}""", """{"detail":{"n":300}}""", true)]
    [InlineData("""{"detail":{"n":[{"numeric":["<",10]}]}}""", """{"detail":{"n":"5"}}""", false)]
    [InlineData("""{"detail":{"n":[{"numeric":["<",10]}]}}""", """{"detail":{"n":[20,3]}}""", true)]
    // exists
    [InlineData("""{"detail":{"userIdentity":{"invokedBy":[{"exists":false}]}}}""", """{"detail":{"userIdentity":{"type":"Root"}}}""", true)]
    [InlineData("""{"detail":{"userIdentity":{"invokedBy":[{"exists":false}]}}}""", """{"detail":{"userIdentity":{"invokedBy":"s3.amazonaws.com"}}}""", false)]
    [InlineData("""{"detail":{"userIdentity":{"invokedBy":[{"exists":false}]}}}""", """{"detail":{}}""", true)]
    [InlineData("""{"detail":{"errorCode":[{"exists":true}]}}""", """{"detail":{"errorCode":"X"}}""", true)]
    [InlineData("""{"detail":{"errorCode":[{"exists":true}]}}""", """{"detail":{}}""", false)]
    [InlineData("""{"detail":{"errorCode":[{"exists":true}]}}""", """{"detail":{"errorCode":{"nested":1}}}""", false)]
    // cidr, v4 and v6
    [InlineData("""{"detail":{"sourceIPAddress":[{"cidr":"10.0.0.0/24"}]}}""", """{"detail":{"sourceIPAddress":"10.0.0.255"}}""", true)]
    [InlineData("""{"detail":{"sourceIPAddress":[{"cidr":"10.0.0.0/24"}]}}""", """{"detail":{"sourceIPAddress":"10.0.1.0"}}""", false)]
    [InlineData("""{"detail":{"sourceIPAddress":[{"cidr":"10.0.0.0/24"}]}}""", """{"detail":{"sourceIPAddress":"iam.amazonaws.com"}}""", false)]
    [InlineData("""{"detail":{"sourceIPAddress":[{"cidr":"2001:db8::/32"}]}}""", """{"detail":{"sourceIPAddress":"2001:db8:1::5"}}""", true)]
    [InlineData("""{"detail":{"sourceIPAddress":[{"cidr":"2001:db8::/32"}]}}""", """{"detail":{"sourceIPAddress":"10.0.0.1"}}""", false)]
    // $or, top level and nested
    [InlineData("""{"$or":[{"source":["aws.iam"]},{"detail":{"eventName":["StopLogging"]}}]}""", """{"source":"aws.s3","detail":{"eventName":"StopLogging"}}""", true)]
    [InlineData("""{"$or":[{"source":["aws.iam"]},{"detail":{"eventName":["StopLogging"]}}]}""", """{"source":"aws.s3","detail":{"eventName":"StartLogging"}}""", false)]
    [InlineData("""{"source":["aws.signin"],"detail":{"$or":[{"errorMessage":["Failed authentication"]},{"additionalEventData":{"MFAUsed":["No"]}}]}}""", """{"source":"aws.signin","detail":{"additionalEventData":{"MFAUsed":"No"}}}""", true)]
    [InlineData("""{"source":["aws.signin"],"detail":{"$or":[{"errorMessage":["Failed authentication"]},{"additionalEventData":{"MFAUsed":["No"]}}]}}""", """{"source":"aws.iam","detail":{"additionalEventData":{"MFAUsed":"No"}}}""", false)]
    // several alternatives of different kinds in one list
    [InlineData("""{"detail":{"errorCode":[{"suffix":"UnauthorizedOperation"},{"prefix":"AccessDenied"}]}}""", """{"detail":{"errorCode":"AccessDenied"}}""", true)]
    public void Operator_semantics(string pattern, string evt, bool expected) => Assert.Equal(expected, Match(pattern, evt));

    [Theory]
    [InlineData("""{"source":"aws.iam"}""", "source", "every leaf as a list")]
    [InlineData("""{"source":[]}""", "source", "empty list")]
    [InlineData("""{"source":[{"startsWith":"a"}]}""", "source[0]", "unknown operator \"startsWith\"")]
    [InlineData("""{"source":[{"prefix":"a","suffix":"b"}]}""", "source[0]", "exactly one operator")]
    [InlineData("""{"detail":{"n":[{"numeric":[">",5,"<",1]}]}}""", "detail.n[0].numeric", "range is empty")]
    [InlineData("""{"detail":{"n":[{"numeric":[">",1,">",2]}]}}""", "detail.n[0].numeric[2]", "at most one lower")]
    [InlineData("""{"detail":{"n":[{"numeric":["!=",1]}]}}""", "detail.n[0].numeric[0]", "unknown comparison")]
    [InlineData("""{"detail":{"n":[{"numeric":[">","1"]}]}}""", "detail.n[0].numeric[1]", "expected a number")]
    [InlineData("""{"detail":{"n":[{"numeric":[">",6e9]}]}}""", "detail.n[0].numeric[1]", "numeric range")]
    [InlineData("""{"detail":{"n":[{"numeric":[">"]}]}}""", "detail.n[0].numeric", "takes [op, number]")]
    [InlineData("""{"detail":{"s":[{"anything-but":{"anything-but":"x"}}]}}""", "detail.s[0].anything-but", "cannot nest")]
    [InlineData("""{"detail":{"s":[{"anything-but":{"numeric":[">",1]}}]}}""", "detail.s[0].anything-but", "not allowed inside anything-but")]
    [InlineData("""{"detail":{"s":[{"anything-but":["a",1]}]}}""", "detail.s[0].anything-but", "all strings or all numbers")]
    [InlineData("""{"detail":{"s":[{"exists":"yes"}]}}""", "detail.s[0]", "true or false")]
    [InlineData("""{"detail":{"s":[{"exists":true},"x"]}}""", "detail.s[0]", "cannot be combined")]
    [InlineData("""{"detail":{"s":[{"cidr":"10.0.0.0/33"}]}}""", "detail.s[0].cidr", "not a CIDR block")]
    [InlineData("""{"detail":{"s":[{"wildcard":"a**b"}]}}""", "detail.s[0].wildcard", "consecutive wildcard")]
    [InlineData("""{"detail":{"s":[["nested"]]}}""", "detail.s[0]", "lists cannot nest")]
    [InlineData("""{"$or":[{"source":["a"]}]}""", "$or", "at least two")]
    [InlineData("""{"detail":{}}""", "detail", "empty object")]
    [InlineData("""{"detail":{"s":[{"prefix":5}]}}""", "detail.s[0].prefix", "expected a string")]
    public void Invalid_patterns_are_rejected_with_the_path_and_reason(string pattern, string path, string reason)
    {
        var ex = Assert.Throws<EventPatternException>(() => EventPattern.Parse(pattern));
        Assert.Equal(path, ex.Path);
        Assert.Contains(reason, ex.Message);
    }

    [Fact]
    public void Non_object_and_malformed_patterns_are_rejected()
    {
        Assert.Contains("non-empty JSON object", Assert.Throws<EventPatternException>(() => EventPattern.Parse("[]")).Message);
        Assert.Contains("not valid JSON", Assert.Throws<EventPatternException>(() => EventPattern.Parse("{")).Message);
    }
}

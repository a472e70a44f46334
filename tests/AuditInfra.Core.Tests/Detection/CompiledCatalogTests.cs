using System.Text.Json;
using System.Text.Json.Nodes;
using AuditInfra.Core.Detection;
using AuditInfra.Core.Tests.Support;
using static AuditInfra.Core.Tests.Detection.CloudTrailRecords;

namespace AuditInfra.Core.Tests.Detection;

/// <summary>
/// The compiled catalog (indexes, gates, no-allocation paths) must fire exactly the rules that evaluating
/// every pattern on its own fires, in catalog order, whatever the event.
/// </summary>
public class CompiledCatalogTests
{
    private static readonly AuditInfra.Core.Configuration.AuditConfig Config = Samples.Config("audit");

    private static IEnumerable<JsonObject> Variants()
    {
        (string Source, string Name)[] calls =
        [
            ("s3.amazonaws.com", "GetObject"), ("s3.amazonaws.com", "PutBucketPolicy"), ("s3.amazonaws.com", "HeadBucket"), ("ec2.amazonaws.com", "AuthorizeSecurityGroupIngress"),
            ("ec2.amazonaws.com", "CreateRoute"), ("iam.amazonaws.com", "PutRolePolicy"), ("iam.amazonaws.com", "GetRole"), ("kms.amazonaws.com", "ScheduleKeyDeletion"),
            ("kms.amazonaws.com", "PutKeyPolicy"), ("cloudtrail.amazonaws.com", "StopLogging"), ("cloudtrail.amazonaws.com", "LookupEvents"), ("events.amazonaws.com", "DeleteRule"),
            ("guardduty.amazonaws.com", "DeleteDetector"), ("organizations.amazonaws.com", "CreateAccount"), ("config.amazonaws.com", "StopConfigurationRecorder"),
            ("secretsmanager.amazonaws.com", "GetSecretValue"), ("lambda.amazonaws.com", "Invoke"),
        ];
        string?[] errors = [null, "AccessDenied", "Client.UnauthorizedOperation", "ThrottlingException"];
        foreach (var (source, name) in calls)
        {
            foreach (var error in errors)
            {
                foreach (var identity in new[] { "AssumedRole", "Root", "IAMUser" })
                {
                    var record = AssumedRole(source, name);
                    record["userIdentity"]!["type"] = identity;
                    if (error is not null)
                    {
                        record["errorCode"] = error;
                    }

                    record["requestParameters"] = new JsonObject { ["name"] = "acme-org-trail", ["bucketName"] = "acme-audit-cloudtrail-222222222222-us-east-1" };
                    yield return record;
                }
            }
        }

        foreach (var (identity, result, mfa) in new[] { ("IAMUser", "Success", "No"), ("IAMUser", "Success", "Yes"), ("Root", "Success", "Yes"), ("IAMUser", "Failure", "No") })
        {
            yield return result == "Failure" ? ConsoleLogin(identity, result, mfa, "Failed authentication") : ConsoleLogin(identity, result, mfa);
        }
    }

    [Fact]
    public void The_compiled_catalog_fires_exactly_what_each_pattern_fires_alone_in_catalog_order()
    {
        var rules = DetectionCatalog.For(Config);
        var compiled = new CompiledCatalog(rules);
        var patterns = rules.Select(r => (r.Id, Pattern: EventPattern.Compile(r.Pattern))).ToList();
        var checkedEvents = 0;
        var multiple = 0;
        foreach (var record in Variants())
        {
            using var doc = JsonDocument.Parse(EventEnvelopes.Wrap(JsonDocument.Parse(record.ToJsonString()).RootElement));
            var expected = patterns.Where(p => p.Pattern.Matches(doc.RootElement)).Select(p => p.Id).ToList();
            var actual = compiled.Match(doc.RootElement).Select(r => r.Id).ToList();
            Assert.True(expected.SequenceEqual(actual), $"{record.ToJsonString()}\nexpected [{string.Join(", ", expected)}]\nactual   [{string.Join(", ", actual)}]");
            checkedEvents++;
            multiple += expected.Count > 1 ? 1 : 0;
        }

        Assert.True(checkedEvents > 200);
        Assert.True(multiple > 0, "some event must fire several rules, so their order is checked");
    }
}

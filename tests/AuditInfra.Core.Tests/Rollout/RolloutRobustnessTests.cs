using AuditInfra.Core.Configuration;
using AuditInfra.Core.Rollout;
using AuditInfra.Core.Tests.Support;

namespace AuditInfra.Core.Tests.Rollout;

/// <summary>Shapes and rules the fault-injection harness found unhandled (issue 17).</summary>
public class RolloutRobustnessTests
{
    private const string Envelope = """
        {"version":"0","id":"e1","detail-type":"AWS Service Event via CloudTrail","source":"aws.organizations","account":"111111111111","time":"2020-09-16T21:20:53Z","region":"us-east-1","resources":[],
         "detail":{"eventName":"CreateAccountResult","eventSource":"organizations.amazonaws.com","eventType":"AwsServiceEvent","serviceEventDetails":DETAILS}}
        """;

    private const string Status = """{"createAccountStatus":{"id":"car-1","state":"SUCCEEDED","accountName":"****","accountId":"ACCOUNT","completedTimestamp":"Sep 16, 2020 9:20:53 PM"}}""";

    private const string ControlTower = """
        {"version":"0","id":"c1","detail-type":"AWS Service Event via CloudTrail","source":"aws.controltower","account":"111111111111","time":"2020-09-16T21:20:53Z","region":"us-east-1","resources":[],
         "detail":{"eventName":"CreateManagedAccount","serviceEventDetails":DETAILS}}
        """;

    [Theory]
    [InlineData("[" + Status + "]", "without serviceEventDetails.createAccountStatus")]
    [InlineData("\"SUCCEEDED\"", "without serviceEventDetails.createAccountStatus")]
    [InlineData("42", "without serviceEventDetails.createAccountStatus")]
    [InlineData("""{"createAccountStatus":["SUCCEEDED"]}""", "without serviceEventDetails.createAccountStatus")]
    public void Service_event_details_of_the_wrong_shape_are_invalid_with_a_reason(string details, string reason)
    {
        var parsed = AccountEventParser.Parse(Envelope.Replace("DETAILS", details.Replace("ACCOUNT", "333333333333", StringComparison.Ordinal), StringComparison.Ordinal));
        Assert.Equal(AccountEventOutcome.Invalid, parsed.Outcome);
        Assert.Contains(reason, parsed.Reason);
    }

    [Theory]
    [InlineData("[1,2]")]
    [InlineData("\"x\"")]
    public void Control_Tower_details_of_the_wrong_shape_are_invalid_with_a_reason(string details)
    {
        var parsed = AccountEventParser.Parse(ControlTower.Replace("DETAILS", details, StringComparison.Ordinal));
        Assert.Equal(AccountEventOutcome.Invalid, parsed.Outcome);
        Assert.Equal("CreateManagedAccount without serviceEventDetails.createManagedAccountStatus", parsed.Reason);
    }

    [Fact]
    public void Duplicate_keys_are_invalid_not_a_guess_between_two_accounts()
    {
        var body = Envelope.Replace("DETAILS", Status.Replace("\"accountId\":\"ACCOUNT\"", "\"accountId\":\"333333333333\",\"accountId\":\"444444444444\"", StringComparison.Ordinal), StringComparison.Ordinal);
        var parsed = AccountEventParser.Parse(body);
        Assert.Equal(AccountEventOutcome.Invalid, parsed.Outcome);
        Assert.StartsWith("not JSON: Duplicate property 'accountId'", parsed.Reason);

        var topLevel = AccountEventParser.Parse(Envelope.Replace("\"source\":\"aws.organizations\",", "\"source\":\"aws.organizations\",\"source\":\"aws.controltower\",", StringComparison.Ordinal).Replace("DETAILS", Status, StringComparison.Ordinal));
        Assert.Equal(AccountEventOutcome.Invalid, topLevel.Outcome);
        Assert.Contains("Duplicate property 'source'", topLevel.Reason);
    }

    [Theory]
    [InlineData("500000000008\\n")]
    [InlineData("500000000008\\r\\n")]
    [InlineData("\\n500000000008")]
    [InlineData(" 500000000008")]
    [InlineData("5000000000080")]
    [InlineData("٥00000000008")]
    public void An_account_id_is_exactly_twelve_ascii_digits(string accountId)
    {
        var parsed = AccountEventParser.Parse(Envelope.Replace("DETAILS", Status.Replace("ACCOUNT", accountId, StringComparison.Ordinal), StringComparison.Ordinal));
        Assert.Equal(AccountEventOutcome.Invalid, parsed.Outcome);
        Assert.Contains("expected a 12-digit AWS account id", parsed.Reason);
        Assert.DoesNotContain('\n', parsed.Reason);
    }

    [Fact]
    public void Account_id_checks_everywhere_refuse_a_trailing_newline()
    {
        Assert.Null(AwsFormats.AccountId("500000000008"));
        Assert.NotNull(AwsFormats.AccountId("500000000008\n"));
        Assert.NotNull(AwsFormats.RoleArn("arn:aws:iam::500000000008:role/Deployer\n"));
        Assert.Equal("500000000008", StackNames.AccountOf("account-500000000008"));
        Assert.Null(StackNames.AccountOf("account-500000000008\n"));
        Assert.NotNull(RolloutSettings.EventBusArn("arn:aws:events:us-east-1:222222222222:event-bus/central\n"));
        Assert.Null(RolloutSettings.EventBusArn("arn:aws:events:us-east-1:222222222222:event-bus/central"));
    }

    [Theory]
    [InlineData("o-abcdefghij")]
    [InlineData("ou-ab12-abcdefgh")]
    [InlineData("r-ab12")]
    [InlineData("acme")]
    [InlineData("auditinfra-deployment")]
    [InlineData("security@example.com")]
    public void Every_configuration_format_refuses_a_trailing_newline(string valid)
    {
        // `$` matches before a final newline; a value read from a file or an event must match whole.
        Func<string, string?>[] formats = [AwsFormats.OrganizationId, AwsFormats.OrganizationalUnitId, AwsFormats.RootId, AwsFormats.NamePrefix, AwsFormats.RoleName, AwsFormats.Email];
        var accepting = formats.Where(f => f(valid) is null).ToList();
        Assert.NotEmpty(accepting);
        Assert.All(accepting, f => Assert.NotNull(f(valid + "\n")));
    }

    [Fact]
    public void An_event_retries_a_failed_account_only_if_it_happened_after_the_failure()
    {
        var failedAt = new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);
        var failed = new LedgerEntry("333333333333", AccountRolloutState.Failed, "1.0.0+a", null, 5, failedAt, "AccessDenied", null, null, null, failedAt, "event");
        Assert.Equal(EnqueueResult.StillFailed, LedgerRules.Enqueue(failed, "1.0.0+a", retryFailed: true, eventTime: failedAt.AddMinutes(-5)).Result);
        Assert.Equal(EnqueueResult.Requeued, LedgerRules.Enqueue(failed, "1.0.0+a", retryFailed: true, eventTime: failedAt.AddMinutes(5)).Result);
        Assert.Equal(EnqueueResult.Requeued, LedgerRules.Enqueue(failed, "1.0.0+a", retryFailed: true, eventTime: null).Result); // reconciliation
        Assert.Equal(EnqueueResult.StillFailed, LedgerRules.Enqueue(failed, "1.0.0+a", retryFailed: false, eventTime: null).Result);
    }

    [Fact]
    public void An_older_program_never_replaces_a_newer_one_in_the_ledger()
    {
        var at = new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);
        var deployed = new LedgerEntry("333333333333", AccountRolloutState.Deployed, "1.10.0+b", "1.10.0+b", 1, at, null, null, null, null, at, "event");
        Assert.Equal(EnqueueResult.Outdated, LedgerRules.Enqueue(deployed, "1.9.0+a", retryFailed: true).Result);
        Assert.Equal(EnqueueResult.Enqueued, LedgerRules.Enqueue(deployed, "1.11.0+a", retryFailed: true).Result);
        var pending = deployed with { State = AccountRolloutState.Pending, DesiredVersion = "2.0.0+c" };
        Assert.Equal(EnqueueResult.Outdated, LedgerRules.Enqueue(pending, "1.10.0+b", retryFailed: true).Result);

        // Same program, other inputs: not ordered (hosts share one configuration).
        Assert.Equal(EnqueueResult.Enqueued, LedgerRules.Enqueue(deployed, "1.10.0+z", retryFailed: true).Result);
    }

    [Theory]
    [InlineData("1.0.0", "1.0.1", -1)]
    [InlineData("1.9.0", "1.10.0", -1)]
    [InlineData("2.0.0", "1.99.99", 1)]
    [InlineData("1.0.0-rc.1", "1.0.0", -1)]
    [InlineData("1.0.0-rc.2", "1.0.0-rc.10", -1)]
    [InlineData("1.0.0-alpha", "1.0.0-alpha.1", -1)]
    [InlineData("1.0", "1.0.0", 0)]
    public void Program_versions_compare_by_semver_precedence(string left, string right, int expected)
    {
        Assert.Equal(expected, RolloutVersions.Compare(left, right));
        Assert.Equal(-expected, RolloutVersions.Compare(right, left));
    }

    [Fact]
    public void Unreadable_versions_are_never_older()
    {
        Assert.Null(RolloutVersions.Compare("v1", "1.0.0"));
        Assert.False(RolloutVersions.IsOlder("bench+1", "1.0.0+a"));
        Assert.True(RolloutVersions.IsOlder("1.0.0+abc", "1.1.0+abc"));
    }

    [Fact]
    public void Refresh_hours_bind_with_a_default_and_are_checked()
    {
        Assert.Equal(24, Samples.Config("prod").Rollout.RefreshHours);
        var yaml = Samples.Append(Samples.Text("prod"), """
              auditinfra:rollout:
                refreshHours: 6
            """);
        Assert.Equal(6, Samples.Bind(yaml, "prod").Config!.Rollout.RefreshHours);

        var bad = Samples.Append(Samples.Text("prod"), """
              auditinfra:rollout:
                refreshHours: 0
            """);
        var report = Samples.Bind(bad, "prod").Report.ToString();
        Assert.Contains("auditinfra:rollout.refreshHours", report);
        Assert.Contains("expected a whole number from 1 to 8760 hours", report);
    }
}

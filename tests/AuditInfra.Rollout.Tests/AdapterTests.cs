using Amazon.SQS;
using Amazon.SQS.Model;
using AuditInfra.Core.Rollout;
using AuditInfra.Rollout.Accounts;
using AuditInfra.Rollout.Engine;
using AuditInfra.Rollout.Intake;
using Moq;

namespace AuditInfra.Rollout.Tests;

public class AdapterTests
{
    private const string Queue = "https://sqs.us-east-1.amazonaws.com/111111111111/acme-audit-account-events";
    private const string Dlq = Queue + "-dlq";

    [Fact]
    public async Task Sqs_intake_long_polls_and_maps_messages()
    {
        var sqs = new Mock<IAmazonSQS>(MockBehavior.Strict);
        sqs.Setup(s => s.ReceiveMessageAsync(It.Is<ReceiveMessageRequest>(r => r.QueueUrl == Queue && r.MaxNumberOfMessages == 10 && r.WaitTimeSeconds == 20), It.IsAny<CancellationToken>()))
            .ReturnsAsync(new ReceiveMessageResponse
            {
                Messages = [new Message { MessageId = "m1", Body = "{}", ReceiptHandle = "rh1", Attributes = new() { ["ApproximateReceiveCount"] = "3" } }],
            });
        var intake = new SqsAccountIntake(sqs.Object, Queue, Dlq);
        var message = Assert.Single(await intake.ReceiveAsync(25, CancellationToken.None));
        Assert.Equal(new IntakeMessage("m1", "{}", "rh1", 3), message);

        // An empty poll (the SDK leaves Messages null) is an empty batch.
        sqs.Setup(s => s.ReceiveMessageAsync(It.IsAny<ReceiveMessageRequest>(), It.IsAny<CancellationToken>())).ReturnsAsync(new ReceiveMessageResponse());
        Assert.Empty(await intake.ReceiveAsync(10, CancellationToken.None));
    }

    [Fact]
    public async Task Sqs_dead_letter_stores_the_reason_before_deleting_the_message()
    {
        var sqs = new Mock<IAmazonSQS>(MockBehavior.Strict);
        var order = new List<string>();
        sqs.Setup(s => s.SendMessageAsync(It.IsAny<SendMessageRequest>(), It.IsAny<CancellationToken>()))
            .Callback((SendMessageRequest r, CancellationToken _) => order.Add($"send {r.QueueUrl} {r.MessageBody} {r.MessageAttributes[SqsAccountIntake.ReasonAttribute].StringValue} {r.MessageAttributes[SqsAccountIntake.SourceMessageAttribute].StringValue}"))
            .ReturnsAsync(new SendMessageResponse());
        sqs.Setup(s => s.DeleteMessageAsync(It.IsAny<DeleteMessageRequest>(), It.IsAny<CancellationToken>()))
            .Callback((DeleteMessageRequest r, CancellationToken _) => order.Add($"delete {r.QueueUrl} {r.ReceiptHandle}"))
            .ReturnsAsync(new DeleteMessageResponse());
        var intake = new SqsAccountIntake(sqs.Object, Queue, Dlq);
        await intake.DeadLetterAsync(new IntakeMessage("m1", "{bad", "rh1"), "not JSON", CancellationToken.None);
        Assert.Equal([$"send {Dlq} {{bad not JSON m1", $"delete {Queue} rh1"], order);
    }

    [Fact]
    public async Task Sqs_dead_letter_that_fails_to_send_does_not_delete_the_message()
    {
        var sqs = new Mock<IAmazonSQS>(MockBehavior.Strict);
        sqs.Setup(s => s.SendMessageAsync(It.IsAny<SendMessageRequest>(), It.IsAny<CancellationToken>())).ThrowsAsync(new AmazonSQSException("throttled"));
        var intake = new SqsAccountIntake(sqs.Object, Queue, Dlq);
        await Assert.ThrowsAsync<AmazonSQSException>(() => intake.DeadLetterAsync(new IntakeMessage("m1", "x", "rh1"), "why", CancellationToken.None));
        sqs.Verify(s => s.DeleteMessageAsync(It.IsAny<DeleteMessageRequest>(), It.IsAny<CancellationToken>()), Times.Never);
    }

    [Fact]
    public void List_accounts_output_is_parsed_with_State_or_Status()
    {
        const string json = """
            {
              "Accounts": [
                { "Id": "111111111111", "Arn": "arn:aws:organizations::111111111111:account/o-a1b2c3d4e5/111111111111", "Email": "mgmt@example.com", "Name": "management", "Status": "ACTIVE", "State": "ACTIVE", "JoinedMethod": "INVITED", "JoinedTimestamp": "2020-01-01T00:00:00.000000+00:00" },
                { "Id": "333333333333", "Arn": "arn:aws:organizations::111111111111:account/o-a1b2c3d4e5/333333333333", "Email": "dev@example.com", "Name": "dev", "Status": "ACTIVE", "JoinedMethod": "CREATED", "JoinedTimestamp": 1600291253.123 },
                { "Id": "444444444444", "Arn": "arn:aws:organizations::111111111111:account/o-a1b2c3d4e5/444444444444", "Email": "old@example.com", "Name": "old", "Status": "SUSPENDED", "State": "PENDING_CLOSURE", "JoinedMethod": "CREATED", "JoinedTimestamp": 1600291253.123 },
                { "Id": "555555555555", "Arn": "arn:aws:organizations::111111111111:account/o-a1b2c3d4e5/555555555555", "Email": "gone@example.com", "Name": "gone", "Status": "SUSPENDED", "JoinedMethod": "CREATED", "JoinedTimestamp": 1600291253.123 }
              ]
            }
            """;
        var accounts = OrganizationsJson.ParseListAccounts(json);
        Assert.Equal(
            [
                new OrganizationAccount("111111111111", "management", OrganizationAccountStatus.Active),
                new OrganizationAccount("333333333333", "dev", OrganizationAccountStatus.Active),
                new OrganizationAccount("444444444444", "old", OrganizationAccountStatus.PendingClosure),
                new OrganizationAccount("555555555555", "gone", OrganizationAccountStatus.Suspended),
            ],
            accounts);

        var error = Assert.Throws<FormatException>(() => OrganizationsJson.ParseListAccounts("""{"Accounts":[{"Id":"12","Status":"ACTIVE"}]}""", "accounts.json"));
        Assert.Equal("accounts.json: Accounts[0].Id is \"12\", expected a 12-digit AWS account id", error.Message);
        Assert.Throws<FormatException>(() => OrganizationsJson.ParseListAccounts("""{"accounts":[]}"""));
    }

    [Fact]
    public async Task The_cli_directory_runs_aws_organizations_list_accounts()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var folder = Path.Combine(Path.GetTempPath(), "auditinfra-awscli-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(folder);
        var fake = Path.Combine(folder, "aws");
        await File.WriteAllTextAsync(fake, """
            #!/bin/sh
            [ "$1 $2 $3 $4" = "organizations list-accounts --output json" ] || { echo "unexpected: $*" >&2; exit 2; }
            echo '{"Accounts":[{"Id":"333333333333","Name":"dev","Status":"ACTIVE"}]}'
            """);
        File.SetUnixFileMode(fake, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var accounts = await new AwsCliAccountDirectory(fake).ListAccountsAsync(CancellationToken.None);
        Assert.Equal("333333333333", Assert.Single(accounts).Id);

        await File.WriteAllTextAsync(fake, "#!/bin/sh\necho 'An error occurred (AccessDeniedException)' >&2\nexit 254\n");
        var error = await Assert.ThrowsAsync<AuditInfra.Core.Aws.AwsCliException>(() => new AwsCliAccountDirectory(fake).ListAccountsAsync(CancellationToken.None));
        Assert.Contains("exit 254", error.Message);
        Assert.Contains("AccessDeniedException", error.Message);
    }

    [Theory]
    [InlineData("ConcurrentUpdateException", "error: [409] Conflict: Another update is currently in progress.", DeploymentFailureKind.ConcurrentUpdate)]
    [InlineData("CommandException", "error: the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end or delete the lock file", DeploymentFailureKind.ConcurrentUpdate)]
    [InlineData("CommandException", "error: configuring provider: User: arn:aws:sts::111111111111:assumed-role/host/x is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::333333333333:role/OrganizationAccountAccessRole", DeploymentFailureKind.Permanent)]
    [InlineData("CommandException", "error: creating EventBridge Rule: ThrottlingException: Rate exceeded", DeploymentFailureKind.Transient)]
    public void Pulumi_failures_are_classified(string type, string message, DeploymentFailureKind kind) =>
        Assert.Equal(kind, DeploymentFailures.Classify(type, message));
}

public class RolloutProgressTests
{
    [Fact]
    public void Progress_prints_a_line_per_account_when_not_on_a_terminal_and_rewrites_one_on_a_terminal()
    {
        var plain = new StringWriter();
        var progress = new AuditInfra.Rollout.Status.RolloutProgress(2, isTerminal: false, plain);
        progress.Report(new OperationOutcome("333333333333", AccountRolloutState.Deployed, "v1", 1, TimeSpan.FromSeconds(2), null));
        progress.Report(new OperationOutcome("444444444444", AccountRolloutState.Failed, "v1", 3, TimeSpan.FromSeconds(1), "AccessDenied"));
        Assert.Equal(
            ["[1/2] 1 deployed, 0 failed — account-333333333333 deployed in 2.0s", "[2/2] 1 deployed, 1 failed — account-444444444444 failed in 1.0s: AccessDenied", ""],
            plain.ToString().Split(Environment.NewLine));

        var terminal = new StringWriter();
        var live = new AuditInfra.Rollout.Status.RolloutProgress(1, isTerminal: true, terminal);
        live.Report(new OperationOutcome("333333333333", AccountRolloutState.Deployed, "v1", 1, TimeSpan.FromSeconds(2), null));
        live.Finish();
        Assert.StartsWith("\r[1/1] 1 deployed", terminal.ToString());
        Assert.Single(terminal.ToString().Split(Environment.NewLine), l => l.Length > 0);
    }
}

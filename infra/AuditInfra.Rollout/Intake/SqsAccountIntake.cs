using Amazon.SQS;
using Amazon.SQS.Model;
using AuditInfra.Core.Rollout;

namespace AuditInfra.Rollout.Intake;

/// <summary>
/// The account-event queue (fed by the <c>prod</c> stack's AccountIntake rule). Long-polls;
/// a message is deleted only when the engine acknowledges it (its outcome is recorded), so a
/// crash redelivers it after the visibility timeout. A message the engine cannot parse is sent
/// to the dead-letter queue with the reason as a message attribute, then deleted.
/// </summary>
public sealed class SqsAccountIntake(IAmazonSQS sqs, string queueUrl, string deadLetterQueueUrl, int waitTimeSeconds = 20) : IAccountIntake
{
    public const string ReasonAttribute = "auditinfra-dead-letter-reason";
    public const string SourceMessageAttribute = "auditinfra-source-message-id";

    public async Task<IReadOnlyList<IntakeMessage>> ReceiveAsync(int maxMessages, CancellationToken cancellationToken)
    {
        var response = await sqs.ReceiveMessageAsync(new ReceiveMessageRequest
        {
            QueueUrl = queueUrl,
            MaxNumberOfMessages = Math.Clamp(maxMessages, 1, 10),
            WaitTimeSeconds = waitTimeSeconds,
            MessageSystemAttributeNames = ["ApproximateReceiveCount"],
        }, cancellationToken);
        return [.. (response.Messages ?? []).Select(m => new IntakeMessage(
            m.MessageId,
            m.Body ?? "",
            m.ReceiptHandle,
            m.Attributes is { } a && a.TryGetValue("ApproximateReceiveCount", out var n) && int.TryParse(n, out var count) ? count : 1))];
    }

    public Task AcknowledgeAsync(IntakeMessage message, CancellationToken cancellationToken) =>
        sqs.DeleteMessageAsync(new DeleteMessageRequest { QueueUrl = queueUrl, ReceiptHandle = message.ReceiptHandle }, cancellationToken);

    public async Task DeadLetterAsync(IntakeMessage message, string reason, CancellationToken cancellationToken)
    {
        await sqs.SendMessageAsync(new SendMessageRequest
        {
            QueueUrl = deadLetterQueueUrl,
            MessageBody = message.Body.Length == 0 ? "(empty message)" : message.Body,
            MessageAttributes = new Dictionary<string, MessageAttributeValue>
            {
                [ReasonAttribute] = new() { DataType = "String", StringValue = reason.Length > 1000 ? reason[..1000] : reason },
                [SourceMessageAttribute] = new() { DataType = "String", StringValue = message.MessageId },
            },
        }, cancellationToken);

        // Only once the dead letter is stored: a crash in between delivers the message again.
        await AcknowledgeAsync(message, cancellationToken);
    }
}

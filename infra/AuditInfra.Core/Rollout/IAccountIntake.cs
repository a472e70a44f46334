namespace AuditInfra.Core.Rollout;

/// <summary>One message from the intake queue: its body, and the handle that acknowledges it.</summary>
public sealed record IntakeMessage(string MessageId, string Body, string ReceiptHandle, int ReceiveCount = 1);

/// <summary>
/// Port: the account-event queue. A message is acknowledged only once its outcome is recorded;
/// one the engine cannot understand is dead-lettered with the reason, never dropped.
/// </summary>
public interface IAccountIntake
{
    /// <summary>Waits (long-polls) for up to <paramref name="maxMessages"/> messages; empty when none came.</summary>
    Task<IReadOnlyList<IntakeMessage>> ReceiveAsync(int maxMessages, CancellationToken cancellationToken);

    /// <summary>Deletes the message: its outcome is recorded.</summary>
    Task AcknowledgeAsync(IntakeMessage message, CancellationToken cancellationToken);

    /// <summary>Moves the message to the dead-letter queue with the reason, then deletes it from the queue.</summary>
    Task DeadLetterAsync(IntakeMessage message, string reason, CancellationToken cancellationToken);
}

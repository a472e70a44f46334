using System.Collections.Concurrent;
using AuditInfra.Core.Rollout;

namespace AuditInfra.Rollout.Tests.Support;

/// <summary>An in-memory queue that records acknowledgements and dead letters.</summary>
public sealed class FakeIntake : IAccountIntake
{
    private readonly ConcurrentQueue<IntakeMessage> _queue = new();
    private int _next;

    public List<IntakeMessage> Acknowledged { get; } = [];

    public List<(IntakeMessage Message, string Reason)> DeadLettered { get; } = [];

    public void Add(params string[] bodies)
    {
        foreach (var body in bodies)
        {
            var id = $"msg-{Interlocked.Increment(ref _next)}";
            _queue.Enqueue(new IntakeMessage(id, body, "receipt-" + id));
        }
    }

    public Task<IReadOnlyList<IntakeMessage>> ReceiveAsync(int maxMessages, CancellationToken cancellationToken)
    {
        var batch = new List<IntakeMessage>();
        while (batch.Count < maxMessages && _queue.TryDequeue(out var m))
        {
            batch.Add(m);
        }

        return Task.FromResult<IReadOnlyList<IntakeMessage>>(batch);
    }

    public Task AcknowledgeAsync(IntakeMessage message, CancellationToken cancellationToken)
    {
        lock (Acknowledged)
        {
            Acknowledged.Add(message);
        }

        return Task.CompletedTask;
    }

    public Task DeadLetterAsync(IntakeMessage message, string reason, CancellationToken cancellationToken)
    {
        lock (DeadLettered)
        {
            DeadLettered.Add((message, reason));
        }

        return Task.CompletedTask;
    }
}

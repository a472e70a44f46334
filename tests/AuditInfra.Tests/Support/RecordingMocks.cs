using System.Collections.Concurrent;
using System.Collections.Immutable;
using Pulumi.Testing;

namespace AuditInfra.Tests.Support;

/// <summary>
/// Records every resource the program registers (type, name, inputs, parent) and answers with
/// plausible cloud-computed outputs (ids, ARNs), as the AWS provider would.
/// </summary>
public sealed class RecordingMocks : IMocks
{
    private readonly Func<MockCallArgs, ImmutableDictionary<string, object>?>? _calls;

    public RecordingMocks(Func<MockCallArgs, ImmutableDictionary<string, object>?>? calls = null) => _calls = calls;

    public ConcurrentDictionary<string, RecordedResource> Resources { get; } = new();

    public Task<(string? id, object state)> NewResourceAsync(MockResourceArgs args)
    {
        var name = args.Name ?? "";
        var type = args.Type ?? "";
        var state = args.Inputs.ToBuilder();
        var id = type switch
        {
            "aws:s3/bucket:Bucket" => args.Inputs.TryGetValue("bucket", out var bucket) ? (string)bucket : name,
            _ => $"{name}-id",
        };
        state["id"] = id;
        state["arn"] = type switch
        {
            "aws:s3/bucket:Bucket" => $"arn:aws:s3:::{id}",
            "aws:kms/key:Key" => $"arn:aws:kms:us-east-1:222222222222:key/{name}-keyid",
            _ => $"arn:aws:mock:::{type}/{name}",
        };
        if (type == "aws:kms/key:Key")
        {
            state["keyId"] = $"{name}-keyid";
        }

        if (type == "aws:s3/bucket:Bucket")
        {
            state["bucket"] = id;
        }

        if (type == "aws:sqs/queue:Queue")
        {
            state["url"] = $"https://sqs.us-east-1.amazonaws.com/111111111111/{(args.Inputs.TryGetValue("name", out var queueName) ? queueName : name)}";
        }

        var outputs = state.ToImmutable();
        Resources[name] = new RecordedResource(type, name, args.Inputs, outputs, args.Id);
        return Task.FromResult<(string?, object)>((id, outputs));
    }

    public Task<object> CallAsync(MockCallArgs args) =>
        Task.FromResult<object>(_calls?.Invoke(args) ?? ImmutableDictionary<string, object>.Empty);

    public IEnumerable<RecordedResource> OfType(string type) => Resources.Values.Where(r => r.Type == type);

    public RecordedResource Named(string name) =>
        Resources.TryGetValue(name, out var r) ? r : throw new KeyNotFoundException($"no resource named {name}; have: {string.Join(", ", Resources.Keys.Order())}");
}

public sealed record RecordedResource(string Type, string Name, ImmutableDictionary<string, object> Inputs, ImmutableDictionary<string, object> Outputs, string? Id);

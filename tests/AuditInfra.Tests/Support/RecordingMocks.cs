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

    /// <summary>The options (protect, dependsOn, parent…) the program gave each resource: filled by <see cref="ObservedStack"/>.</summary>
    public OptionsRecorder Options { get; } = new();

    /// <summary>What a referenced stack exports (StackReference outputs); null: the stack has no outputs.</summary>
    public Dictionary<string, object>? StackOutputs { get; set; } = new()
    {
        ["logBucketName"] = "acme-audit-cloudtrail-222222222222-us-east-1",
        ["trailKeyArn"] = "arn:aws:kms:us-east-1:222222222222:key/trail-key-id",
        ["logArchiveReady"] = "policy-id|arn:aws:kms:us-east-1:222222222222:key/trail-key-id",
    };

    /// <summary>What aws:organizations/getOrganization answers.</summary>
    public string OrganizationId { get; set; } = "o-a1b2c3d4e5";

    public List<string> ServiceAccessPrincipals { get; set; } = ["cloudtrail.amazonaws.com", "member.org.stacksets.cloudformation.amazonaws.com"];

    public List<string> Invokes { get; } = [];

    /// <summary>The id Organizations gives an account the program creates.</summary>
    public string NewAccountId { get; set; } = "222222222222";

    public Task<(string? id, object state)> NewResourceAsync(MockResourceArgs args)
    {
        var name = args.Name ?? "";
        var type = args.Type ?? "";
        var state = args.Inputs.ToBuilder();
        var id = type switch
        {
            "aws:s3/bucket:Bucket" => args.Inputs.TryGetValue("bucket", out var bucket) ? (string)bucket : name,
            "aws:organizations/account:Account" => NewAccountId,
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

        if (type == "pulumi:pulumi:StackReference")
        {
            var exported = (StackOutputs ?? []).ToImmutableDictionary(kv => kv.Key, kv => kv.Value);
            state["outputs"] = exported;
            state["secretOutputNames"] = ImmutableArray<object>.Empty;
            var reference = state.ToImmutable();

            // Outputs are addressable as ${reference.output} in plans.
            Resources[name] = new RecordedResource(type, name, args.Inputs, reference.SetItems(exported), args.Id);
            return Task.FromResult<(string?, object)>((args.Id ?? name, reference));
        }

        var outputs = state.ToImmutable();
        Resources[name] = new RecordedResource(type, name, args.Inputs, outputs, args.Id) { Provider = string.IsNullOrEmpty(args.Provider) ? null : args.Provider };
        return Task.FromResult<(string?, object)>((id, outputs));
    }

    public Task<object> CallAsync(MockCallArgs args)
    {
        lock (Invokes)
        {
            Invokes.Add(args.Token ?? "");
        }

        if (_calls?.Invoke(args) is { } answer)
        {
            return Task.FromResult<object>(answer);
        }

        if (args.Token == "aws:organizations/getOrganization:getOrganization")
        {
            return Task.FromResult<object>(ImmutableDictionary<string, object>.Empty
                .Add("id", OrganizationId)
                .Add("arn", $"arn:aws:organizations::111111111111:organization/{OrganizationId}")
                .Add("masterAccountId", "111111111111")
                .Add("featureSet", "ALL")
                .Add("awsServiceAccessPrincipals", ServiceAccessPrincipals.Cast<object>().ToImmutableArray()));
        }

        return Task.FromResult<object>(ImmutableDictionary<string, object>.Empty);
    }

    public IEnumerable<RecordedResource> OfType(string type) => Resources.Values.Where(r => r.Type == type);

    public RecordedResource Named(string name) =>
        Resources.TryGetValue(name, out var r) ? r : throw new KeyNotFoundException($"no resource named {name}; have: {string.Join(", ", Resources.Keys.Order())}");
}

public sealed record RecordedResource(string Type, string Name, ImmutableDictionary<string, object> Inputs, ImmutableDictionary<string, object> Outputs, string? Id)
{
    /// <summary>The provider reference the resource was registered with (urn::id), null for the default provider.</summary>
    public string? Provider { get; init; }

    /// <summary>The provider's resource name, from its reference: <c>urn:pulumi:stack::project::type::name::id</c>.</summary>
    public string? ProviderName => Provider?.Split("::")[^2];
}

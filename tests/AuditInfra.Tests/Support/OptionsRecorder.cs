using System.Collections.Concurrent;
using System.Collections.Immutable;
using Pulumi;

namespace AuditInfra.Tests.Support;

/// <summary>The resource options the program wrote for one resource, as a stack transformation sees them.</summary>
public sealed record RecordedOptions(string Type, string? Parent, bool Protect, bool RetainOnDelete)
{
    public ImmutableArray<string> DependsOn { get; set; } = [];
}

/// <summary>
/// Records protect, retainOnDelete, dependsOn and parent of every resource: IMocks sees only type,
/// name, inputs and provider, so a stack transformation (which sees each resource's options
/// before Pulumi fills in inherited ones) observes what the program wrote.
/// </summary>
public sealed class OptionsRecorder
{
    public ConcurrentDictionary<string, RecordedOptions> Options { get; } = new();

    public ResourceTransformationResult? Observe(ResourceTransformationArgs args)
    {
        var options = args.Options;
        var recorded = new RecordedOptions(
            args.Resource.GetResourceType(),
            options.Parent?.GetResourceName(),
            options.Protect ?? false,
            options.RetainOnDelete ?? false);
        Options[args.Resource.GetResourceName()] = recorded;

        // Output<T> registers with the deployment, so the run waits for this before it completes.
        options.DependsOn.Apply(resources =>
        {
            recorded.DependsOn = [.. resources.Select(r => r.GetResourceName())];
            return resources.Length;
        });
        return null;
    }

    public RecordedOptions Named(string name) =>
        Options.TryGetValue(name, out var o) ? o : throw new KeyNotFoundException($"no options recorded for {name}");
}

/// <summary>The program under test as a stack whose transformation observes every resource's options.</summary>
public sealed class ObservedStack : Stack
{
    public ObservedStack(Func<IDictionary<string, object?>> program, OptionsRecorder recorder)
        : base(new StackOptions { ResourceTransformations = { recorder.Observe } })
    {
        ProgramOutputs = program();
    }

    /// <summary>What the program returned: the stack outputs `pulumi up` would export.</summary>
    public IDictionary<string, object?> ProgramOutputs { get; }
}

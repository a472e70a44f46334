using AuditInfra.Core.Configuration;
using AuditInfra.Stacks;
using Pulumi;
using Pulumi.Testing;

namespace AuditInfra.Tests.Support;

/// <summary>Deployment is process-global: every Pulumi test runs in this one serial collection.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class PulumiCollection
{
    public const string Name = "pulumi";
}

public static class PulumiTests
{
    public static string SampleText(string stack) =>
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "samples", $"Pulumi.{stack}.yaml"));

    public static AuditConfig Sample(string stack, Func<string, string>? edit = null)
    {
        var text = SampleText(stack);
        if (edit is not null)
        {
            text = edit(text);
        }

        var (raw, error) = RawConfig.ParseYaml(text, $"Pulumi.{stack}.yaml", stack);
        return AuditConfigBinder.BindOrThrow(raw ?? throw new InvalidOperationException(error!.ToString()));
    }

    /// <summary>Runs the program for a stack against mocks; returns the mocks and the stack outputs.</summary>
    public static async Task<(RecordingMocks Mocks, IDictionary<string, object?> Outputs)> RunAsync(AuditConfig config, RecordingMocks? mocks = null)
    {
        mocks ??= new RecordingMocks();
        var (_, outputs) = await Deployment.TestAsync(mocks, new TestOptions { StackName = config.StackName, ProjectName = "auditinfra", IsPreview = false }, () => AuditInfraProgram.Build(config));
        return (mocks, outputs);
    }

    public static Task<T> ValueAsync<T>(Output<T> output)
    {
        var completion = new TaskCompletionSource<T>();
        output.Apply(v =>
        {
            completion.SetResult(v);
            return v;
        });
        return completion.Task;
    }
}

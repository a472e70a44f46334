using System.Runtime.CompilerServices;
using AuditInfra.Core.Integrity;

namespace AuditInfra.Cli.Tests.Support;

/// <summary>
/// A bucket in memory, listed as S3 lists (keys under a prefix, folders by '/'), whose objects are served once
/// <paramref name="gate"/> lets each through; keys are taken as given, hostile ones included.
/// </summary>
internal sealed class InMemoryBucket(string name, IReadOnlyDictionary<string, byte[]> objects, Func<string, Task>? gate = null) : IObjectStore
{
    public string Description => $"s3://{name}/";

    public string? Bucket => name;

    public string Prefix => "";

    public bool IsLocal => false;

    /// <summary>Every listing asked, in order: <c>objects PREFIX</c> or <c>folders PREFIX</c>.</summary>
    public System.Collections.Concurrent.ConcurrentQueue<string> Listed { get; } = new();

    /// <summary>Each listing starts once this lets it (given what <see cref="Listed"/> records for it).</summary>
    public Func<string, Task>? ListingGate { get; init; }

    public async IAsyncEnumerable<ObjectEntry> ListAsync(string subPrefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        Listed.Enqueue("objects " + subPrefix);
        await (ListingGate?.Invoke("objects " + subPrefix) ?? Task.CompletedTask);
        await Task.Yield();
        foreach (var (key, content) in objects.Where(o => o.Key.StartsWith(subPrefix, StringComparison.Ordinal)))
        {
            yield return new ObjectEntry(key, content.Length);
        }
    }

    public async IAsyncEnumerable<string> ListFoldersAsync(string subPrefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        Listed.Enqueue("folders " + subPrefix);
        await (ListingGate?.Invoke("folders " + subPrefix) ?? Task.CompletedTask);
        await Task.Yield();
        foreach (var folder in objects.Keys.Where(k => k.StartsWith(subPrefix, StringComparison.Ordinal)).Select(k => k[subPrefix.Length..]).Where(r => r.Contains('/')).Select(r => subPrefix + r[..(r.IndexOf('/') + 1)]).Distinct())
        {
            yield return folder;
        }
    }

    public async Task<StoredObject> OpenAsync(string key, bool withSignature, CancellationToken cancellationToken)
    {
        if (gate is not null)
        {
            await gate(key);
        }

        return new StoredObject(new MemoryStream(objects[key]), null);
    }
}

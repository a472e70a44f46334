using AuditInfra.Core.Integrity;

namespace AuditInfra.Cli.Query;

/// <summary>
/// What <c>query --verify</c> asks of the verifier: the integrity of each of these log keys, judged against the
/// digests of the hours covering them. One seam, so the verifier behind it can change without the query knowing.
/// </summary>
internal interface ILogFileVerifier
{
    Task<IReadOnlyDictionary<string, LogIntegrity>> VerifyAsync(IReadOnlyCollection<string> logKeys, CancellationToken cancellationToken);
}

internal static class LogFileVerifiers
{
    public static ILogFileVerifier For(IObjectStore store, PublicKeySet keys) => new Verifier(new IntegrityVerifier(store, keys));

    private sealed class Verifier(IntegrityVerifier verifier) : ILogFileVerifier
    {
        public Task<IReadOnlyDictionary<string, LogIntegrity>> VerifyAsync(IReadOnlyCollection<string> logKeys, CancellationToken cancellationToken) =>
            verifier.VerifyLogsAsync(logKeys, cancellationToken);
    }
}

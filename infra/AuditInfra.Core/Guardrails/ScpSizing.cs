using System.Collections.Immutable;
using AuditInfra.Core.Policies;

namespace AuditInfra.Core.Guardrails;

/// <summary>
/// Service control policies are limited to 5,120 characters, and a target takes at most 5 SCPs
/// (one is usually FullAWSAccess). Statements are packed into as few documents as fit, in order;
/// what cannot fit is an error, never a truncation.
/// </summary>
public static class ScpSizing
{
    public const int MaxCharacters = 5120;

    /// <summary>SCPs a target may have, less the FullAWSAccess policy every target keeps.</summary>
    public const int MaxPoliciesPerTarget = 4;

    public static ImmutableArray<PolicyDocument> Pack(string policyName, IReadOnlyList<PolicyStatement> statements, int maxCharacters = MaxCharacters, int maxPolicies = MaxPoliciesPerTarget)
    {
        var documents = ImmutableArray.CreateBuilder<PolicyDocument>();
        var current = ImmutableArray.CreateBuilder<PolicyStatement>();
        foreach (var statement in statements)
        {
            var alone = new PolicyDocument(statement).ToJson().Length;
            if (alone > maxCharacters)
            {
                throw new ScpTooLargeException($"SCP '{policyName}': statement '{statement.Sid}' alone is {alone} characters, over the {maxCharacters}-character limit; shorten its action or resource lists");
            }

            current.Add(statement);
            if (new PolicyDocument(current.ToImmutable()).ToJson().Length > maxCharacters)
            {
                current.RemoveAt(current.Count - 1);
                documents.Add(new PolicyDocument(current.ToImmutable()));
                current.Clear();
                current.Add(statement);
            }
        }

        if (current.Count > 0)
        {
            documents.Add(new PolicyDocument(current.ToImmutable()));
        }

        if (documents.Count > maxPolicies)
        {
            throw new ScpTooLargeException($"SCP '{policyName}' needs {documents.Count} policies of at most {maxCharacters} characters, but a target takes only {maxPolicies} besides FullAWSAccess");
        }

        return documents.ToImmutable();
    }
}

public sealed class ScpTooLargeException(string message) : Exception(message);

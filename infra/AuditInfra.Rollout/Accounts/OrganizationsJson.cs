using System.Text.Json;
using System.Text.Json.Nodes;
using AuditInfra.Core.Configuration;
using AuditInfra.Core.Rollout;

namespace AuditInfra.Rollout.Accounts;

/// <summary>
/// Parses the output of <c>aws organizations list-accounts --output json</c>:
/// <c>{"Accounts":[{"Id","Arn","Email","Name","Status","State","JoinedMethod","JoinedTimestamp"}]}</c>.
/// <c>State</c> (ACTIVE, SUSPENDED, PENDING_ACTIVATION, PENDING_CLOSURE, CLOSED) supersedes the
/// older <c>Status</c>; either is read.
/// </summary>
public static class OrganizationsJson
{
    public static IReadOnlyList<OrganizationAccount> ParseListAccounts(string json, string source = "list-accounts output")
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(json);
        }
        catch (JsonException e)
        {
            throw new FormatException($"{source}: not JSON ({e.Message})", e);
        }

        if (root?["Accounts"] is not JsonArray accounts)
        {
            throw new FormatException($"{source}: expected an object with an 'Accounts' list (aws organizations list-accounts --output json)");
        }

        var result = new List<OrganizationAccount>();
        for (var i = 0; i < accounts.Count; i++)
        {
            if (accounts[i] is not JsonObject account)
            {
                throw new FormatException($"{source}: Accounts[{i}] is not an object");
            }

            var id = Text(account, "Id") ?? throw new FormatException($"{source}: Accounts[{i}] has no Id");
            if (AwsFormats.AccountId(id) is { } expected)
            {
                throw new FormatException($"{source}: Accounts[{i}].Id is \"{id}\", expected {expected}");
            }

            var state = Text(account, "State") ?? Text(account, "Status")
                ?? throw new FormatException($"{source}: Accounts[{i}] ({id}) has neither State nor Status");
            var status = state switch
            {
                "ACTIVE" => OrganizationAccountStatus.Active,
                "SUSPENDED" or "CLOSED" => OrganizationAccountStatus.Suspended,
                "PENDING_CLOSURE" => OrganizationAccountStatus.PendingClosure,

                // Invited, not yet joined: not a member to roll out to.
                "PENDING_ACTIVATION" => OrganizationAccountStatus.Suspended,
                _ => throw new FormatException($"{source}: Accounts[{i}] ({id}) has unknown state \"{state}\""),
            };
            result.Add(new OrganizationAccount(id, Text(account, "Name") ?? "", status));
        }

        return result;
    }

    private static string? Text(JsonObject node, string key) =>
        node[key] is JsonValue value && value.TryGetValue<string>(out var s) ? s : null;
}

using System.Collections.Immutable;
using System.Text.Json;

namespace AuditInfra.Core.Documentation;

public sealed record OrgAccount(string Id, string Name, string Status);

public sealed class DocumentationInputException(string message) : Exception(message);

/// <summary>The JSON `aws organizations list-accounts` prints: {"Accounts":[{"Id","Name","Status"|"State",...}]}.</summary>
public static class AccountList
{
    public static ImmutableArray<OrgAccount> Read(string path)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(InputFile.ReadAllText(path));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new DocumentationInputException($"{path}: cannot be read ({ex.Message})");
        }
        catch (JsonException ex)
        {
            throw new DocumentationInputException($"{path}: not valid JSON (line {ex.LineNumber + 1}): expected the output of `aws organizations list-accounts`");
        }

        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("Accounts", out var accounts) || accounts.ValueKind != JsonValueKind.Array)
            {
                throw new DocumentationInputException($"{path}: expected {{\"Accounts\": [...]}} as printed by `aws organizations list-accounts --output json`");
            }

            var list = ImmutableArray.CreateBuilder<OrgAccount>();
            var index = 0;
            foreach (var account in accounts.EnumerateArray())
            {
                if (account.ValueKind != JsonValueKind.Object)
                {
                    throw new DocumentationInputException($"{path}: Accounts[{index}]: expected an object with Id, Name and State (found {JsonKinds.Describe(account)})");
                }

                string? Field(string name) => account.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
                var id = Field("Id");
                if (id is null || Configuration.AwsFormats.AccountId(id) is not null)
                {
                    throw new DocumentationInputException($"{path}: Accounts[{index}].Id: expected a 12-digit account id (found {(id is null ? "nothing" : $"\"{Messages.OneLine(id, 100)}\"")})");
                }

                list.Add(new OrgAccount(id, Field("Name") ?? "", Field("State") ?? Field("Status") ?? "UNKNOWN"));
                index++;
            }

            return list.ToImmutable();
        }
    }
}

using System.Text.RegularExpressions;
using AuditInfra.Core.Documentation;
using AuditInfra.Core.Tests.Support;

namespace AuditInfra.Core.Tests.Documentation;

public class DocumentationTests
{
    private static readonly AuditInfra.Core.Configuration.AuditConfig Config = Samples.Config("prod");

    private static string AccountsFile(string json)
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("auditinfra-docs").FullName, "accounts.json");
        File.WriteAllText(path, json);
        return path;
    }

    private const string ThreeAccounts = """
        {"Accounts":[
          {"Id":"111111111111","Name":"Management","Status":"ACTIVE"},
          {"Id":"222222222222","Name":"Log Archive","Status":"ACTIVE"},
          {"Id":"333333333333","Name":"Payments Prod","State":"ACTIVE"},
          {"Id":"444444444444","Name":"Sandbox","Status":"PENDING_CLOSURE"}
        ]}
        """;

    [Fact]
    public void Every_account_gets_a_page_and_a_row_in_the_coverage_table()
    {
        var site = DocumentationGenerator.Build(Config, AccountList.Read(AccountsFile(ThreeAccounts)));
        Assert.Equal(["index", "accounts/111111111111", "accounts/222222222222", "accounts/333333333333", "accounts/444444444444", "controls"], site.Pages.Select(p => p.Path).ToArray());
        var index = Renderers.Markdown(site.Pages[0]);
        foreach (var id in new[] { "111111111111", "222222222222", "333333333333", "444444444444" })
        {
            Assert.Contains($"[{id}](accounts/{id}.md)", index);
        }

        Assert.Contains("4 accounts, from the organization's account list", index);
        Assert.Contains("| Sandbox | PENDING_CLOSURE | retired: logs kept |", index);
    }

    [Fact]
    public void Without_an_account_list_the_coverage_says_it_is_partial()
    {
        var index = Renderers.Markdown(DocumentationGenerator.Build(Config).Pages[0]);
        Assert.Contains("PARTIAL LIST", index);
    }

    [Fact]
    public void Numbers_match_the_configuration()
    {
        var index = Renderers.Markdown(DocumentationGenerator.Build(Config).Pages[0]);
        Assert.Contains("Logs are kept 7 years (2555 days)", index);
        Assert.Contains("Object Lock GOVERNANCE, 365 days", index);
        Assert.Contains("| 30 | STANDARD_IA |", index);
        Assert.Contains("| 90 | GLACIER_IR |", index);
        Assert.Contains("| 180 | GLACIER |", index);
        Assert.Contains("| 365 | DEEP_ARCHIVE |", index);
        Assert.Contains("| 2555 | deleted (expired) |", index);
        Assert.Contains("deletion waiting period 30 days", index);
        Assert.Contains("us-east-1, us-west-2, eu-west-1", index);
        Assert.Contains("arn:aws:cloudtrail:us-east-1:111111111111:trail/acme-org-trail", index);
        Assert.Contains("s3://acme-audit-cloudtrail-222222222222-us-east-1/cloudtrail/AWSLogs/o-a1b2c3d4e5/<account>/CloudTrail/<region>/YYYY/MM/DD/", index);
        Assert.Contains("arn:aws:iam::222222222222:role/auditinfra-deployment and arn:aws:iam::222222222222:role/auditinfra-break-glass", index);

        var changed = Samples.Bind(Samples.Text("prod").Replace("auditinfra:retentionYears: 7", "auditinfra:retentionYears: 10").Replace("    retentionDays: 365", "    retentionDays: 400"), "prod").Config!;
        var changedIndex = Renderers.Markdown(DocumentationGenerator.Build(changed).Pages[0]);
        Assert.Contains("Logs are kept 10 years (3650 days)", changedIndex);
        Assert.Contains("Object Lock GOVERNANCE, 400 days", changedIndex);
    }

    [Fact]
    public void An_account_page_names_its_paths_per_region_and_the_commands_to_check_them()
    {
        var page = DocumentationGenerator.Build(Config, AccountList.Read(AccountsFile(ThreeAccounts))).Pages.Single(p => p.Path == "accounts/333333333333");
        var md = Renderers.Markdown(page);
        foreach (var region in Config.GovernedRegions)
        {
            Assert.Contains($"s3://acme-audit-cloudtrail-222222222222-us-east-1/cloudtrail/AWSLogs/o-a1b2c3d4e5/333333333333/CloudTrail/{region}/", md);
            Assert.Contains($"s3://acme-audit-cloudtrail-222222222222-us-east-1/cloudtrail/AWSLogs/o-a1b2c3d4e5/333333333333/CloudTrail-Digest/{region}/", md);
        }

        Assert.Contains("auditinfra query --source ./logs --account 333333333333", md);
        // Without the span, CloudTrail lists only today's key: older digests could not be checked with the file.
        Assert.Contains("aws cloudtrail list-public-keys --region us-east-1 --start-time YYYY-MM-DDT00:00:00Z --end-time YYYY-MM-DDT23:59:59Z --output json > keys.json", md);
        Assert.Contains("aws cloudtrail validate-logs --trail-arn arn:aws:cloudtrail:us-east-1:111111111111:trail/acme-org-trail", md);
        Assert.Contains("stack account-333333333333", md);
    }

    [Fact]
    public void The_control_matrix_names_each_control_how_it_is_met_and_by_what()
    {
        var md = Renderers.Markdown(DocumentationGenerator.Build(Config).Pages.Single(p => p.Path == "controls"));
        Assert.Contains("| CloudTrail.4 | Log file validation (signed digests) is on. | trail-log-file-validation | prod: acme-audit-organization-trail |", md);
        Assert.Contains("| CIS 3.6 | Every symmetric KMS key rotates (KMS cannot rotate asymmetric keys: a customerMasterKeySpec other than SYMMETRIC_DEFAULT is exempt). | key-rotation |", md);
        Assert.Contains("| CIS 4.3 | Detection: Root user activity (critical) | root-account-use | audit: acme-audit-detect-root-account-use |", md);
        Assert.Contains("| CloudTrail.7 |", md);
    }

    [Fact]
    public void Evidence_comes_from_the_verification_report_per_account_and_region()
    {
        var report = AccountsFile("""{"summaries":[{"account":"333333333333","region":"us-east-1","digestsVerified":24,"logsVerified":310,"findings":0,"firstDigest":"2026-11-20T00:00:00Z","lastDigest":"2026-11-20T23:00:00Z","verdict":"verified"}]}""");
        var site = DocumentationGenerator.Build(Config, AccountList.Read(AccountsFile(ThreeAccounts)), VerificationReport.Read(report));
        Assert.Contains("| 333333333333 | us-east-1 | verified | 24 | 310 | 0 |", Renderers.Markdown(site.Pages.Single(p => p.Path == "accounts/333333333333")));
        Assert.Contains("no result for account 444444444444", Renderers.Markdown(site.Pages.Single(p => p.Path == "accounts/444444444444")));
    }

    [Theory]
    [InlineData("{\"Accounts\": 5}", "expected {\"Accounts\": [...]}")]
    [InlineData("{\"Accounts\": [{\"Id\": \"12\"}]}", "Accounts[0].Id: expected a 12-digit account id")]
    [InlineData("not json", "not valid JSON")]
    public void Bad_account_files_name_the_file_and_the_problem(string json, string expected)
    {
        var path = AccountsFile(json);
        var ex = Assert.Throws<DocumentationInputException>(() => AccountList.Read(path));
        Assert.StartsWith(path, ex.Message);
        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void Bad_verification_reports_are_named()
    {
        var path = AccountsFile("""{"summaries":[{"account":"333333333333","region":"us-east-1","digestsVerified":-1}]}""");
        Assert.Contains("summaries[0].digestsVerified: expected a whole number", Assert.Throws<DocumentationInputException>(() => VerificationReport.Read(path)).Message);
    }

    [Fact]
    public void The_html_site_is_self_contained_and_every_link_resolves()
    {
        var dir = Path.Combine(Directory.CreateTempSubdirectory("auditinfra-site").FullName, "site");
        var files = SiteWriter.Write(DocumentationGenerator.Build(Config, AccountList.Read(AccountsFile(ThreeAccounts))), dir);
        Assert.Contains("index.html", files);
        foreach (var html in Directory.GetFiles(dir, "*.html", SearchOption.AllDirectories))
        {
            var text = File.ReadAllText(html);
            Assert.DoesNotContain("http://", text);
            Assert.DoesNotContain("https://", text);
            Assert.DoesNotContain("<script", text);
            foreach (Match link in Regex.Matches(text, "href=\"([^\"#]+)(#[^\"]*)?\""))
            {
                var target = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(html)!, link.Groups[1].Value));
                Assert.True(File.Exists(target), $"{html}: broken link {link.Groups[1].Value}");
            }
        }
    }

    [Fact]
    public void Writing_again_replaces_the_sites_pages_removes_its_stale_ones_and_leaves_no_temporary_behind()
    {
        var parent = Directory.CreateTempSubdirectory("auditinfra-site").FullName;
        var dir = Path.Combine(parent, "site");
        SiteWriter.Write(DocumentationGenerator.Build(Config, AccountList.Read(AccountsFile(ThreeAccounts))), dir);
        Assert.True(File.Exists(Path.Combine(dir, "accounts", "444444444444.html")));

        var files = SiteWriter.Write(DocumentationGenerator.Build(Config), dir);

        Assert.False(File.Exists(Path.Combine(dir, "accounts", "444444444444.html")));
        Assert.True(File.Exists(Path.Combine(dir, "index.md")));
        var listed = File.ReadAllLines(Path.Combine(dir, SiteWriter.MarkerFileName)).Where(l => !l.StartsWith('#')).ToList();
        Assert.Equal(files.Order(StringComparer.Ordinal), listed);
        Assert.Equal([.. files.Append(SiteWriter.MarkerFileName).Order(StringComparer.Ordinal)], Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(dir, f)).Order(StringComparer.Ordinal));
        Assert.Equal(["site"], Directory.GetFileSystemEntries(parent).Select(p => Path.GetFileName(p)!).ToArray());
    }

    [Fact]
    public void A_doctored_marker_cannot_make_the_writer_remove_anything_but_its_own_pages()
    {
        var parent = Directory.CreateTempSubdirectory("auditinfra-site").FullName;
        var dir = Path.Combine(parent, "site");
        SiteWriter.Write(DocumentationGenerator.Build(Config), dir);
        File.WriteAllText(Path.Combine(parent, "outside.md"), "not the site's");
        File.WriteAllText(Path.Combine(dir, "notes.txt"), "not a page");
        File.AppendAllLines(Path.Combine(dir, SiteWriter.MarkerFileName), ["../outside.md", "notes.txt", "/etc/hostname.md"]);

        SiteWriter.Write(DocumentationGenerator.Build(Config), dir);

        Assert.Equal("not the site's", File.ReadAllText(Path.Combine(parent, "outside.md")));
        Assert.Equal("not a page", File.ReadAllText(Path.Combine(dir, "notes.txt")));
    }
}

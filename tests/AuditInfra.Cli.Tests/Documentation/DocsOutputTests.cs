using AuditInfra.Cli.Tests.Support;

namespace AuditInfra.Cli.Tests.Documentation;

/// <summary><c>docs --out</c> writes only the site's own files: a folder that is not the site's is refused, never emptied.</summary>
public class DocsOutputTests
{
    private const string TwoAccounts = """{"Accounts":[{"Id":"111111111111","Name":"Management","Status":"ACTIVE"},{"Id":"333333333333","Name":"Payments","Status":"ACTIVE"}]}""";
    private const string OneAccount = """{"Accounts":[{"Id":"111111111111","Name":"Management","Status":"ACTIVE"}]}""";

    private static Task<CliResult> DocsAsync(string output, string accounts) =>
        CliRunner.RunAsync("docs", "--stack", "prod", "--sample", "--accounts", accounts, "--out", output);

    private static string Accounts(string json)
    {
        var path = Path.Combine(CliRunner.TempDir(), "accounts.json");
        File.WriteAllText(path, json);
        return path;
    }

    [Fact]
    public async Task A_checkout_with_unrelated_files_and_a_git_folder_is_refused_and_left_as_it_was()
    {
        var checkout = CliRunner.TempDir();
        File.WriteAllText(Path.Combine(checkout, "notes.txt"), "mine");
        Directory.CreateDirectory(Path.Combine(checkout, ".git", "objects"));
        File.WriteAllText(Path.Combine(checkout, ".git", "HEAD"), "ref: refs/heads/main");

        // "<folder>/." stands for `--out .` run inside the folder.
        var result = await DocsAsync(Path.Combine(checkout, "."), Accounts(TwoAccounts));

        Assert.True(result.ExitCode == 2, result.Out + result.Err);
        Assert.Single(result.Err.Trim().Split('\n'));
        Assert.Contains("not empty", result.Err, StringComparison.Ordinal);
        Assert.Equal("mine", File.ReadAllText(Path.Combine(checkout, "notes.txt")));
        Assert.Equal("ref: refs/heads/main", File.ReadAllText(Path.Combine(checkout, ".git", "HEAD")));
        Assert.True(Directory.Exists(Path.Combine(checkout, ".git", "objects")));
        Assert.Equal(["notes.txt", ".git"], Directory.EnumerateFileSystemEntries(checkout).Select(Path.GetFileName).Order(StringComparer.Ordinal).Reverse());
    }

    [Fact]
    public async Task A_second_run_replaces_only_the_sites_own_files_and_removes_only_its_own_stale_pages()
    {
        var site = Path.Combine(CliRunner.TempDir(), "site");
        Assert.Equal(0, (await DocsAsync(site, Accounts(TwoAccounts))).ExitCode);
        Assert.True(File.Exists(Path.Combine(site, "accounts", "333333333333.html")));
        File.WriteAllText(Path.Combine(site, "auditor-notes.md"), "kept");
        File.WriteAllText(Path.Combine(site, "accounts", "333333333333.annotations.txt"), "kept too");

        var again = await DocsAsync(site, Accounts(OneAccount));

        Assert.True(again.ExitCode == 0, again.Err);
        Assert.Equal("kept", File.ReadAllText(Path.Combine(site, "auditor-notes.md")));
        Assert.Equal("kept too", File.ReadAllText(Path.Combine(site, "accounts", "333333333333.annotations.txt")));
        Assert.False(File.Exists(Path.Combine(site, "accounts", "333333333333.html")), "the stale page of an account no longer listed stays");
        Assert.False(File.Exists(Path.Combine(site, "accounts", "333333333333.md")));
        Assert.True(File.Exists(Path.Combine(site, "accounts", "111111111111.html")));
        Assert.Empty(Directory.EnumerateFiles(Path.GetDirectoryName(site)!, "*.tmp", SearchOption.AllDirectories));
        Assert.Equal(["site"], Directory.EnumerateFileSystemEntries(Path.GetDirectoryName(site)!).Select(Path.GetFileName));
    }

    [Fact]
    public async Task A_file_in_the_site_the_tool_did_not_write_is_never_overwritten()
    {
        var site = CliRunner.TempDir();
        File.WriteAllText(Path.Combine(site, "index.html"), "someone else's index");

        var result = await DocsAsync(site, Accounts(OneAccount));

        Assert.Equal(2, result.ExitCode);
        Assert.Single(result.Err.Trim().Split('\n'));
        Assert.Equal("someone else's index", File.ReadAllText(Path.Combine(site, "index.html")));
    }

    [Fact]
    public async Task Canary_metrics_show_in_the_pages_and_a_bad_metrics_file_exits_2_naming_it()
    {
        var metrics = Path.Combine(CliRunner.TempDir(), "canary-metrics.json");
        File.WriteAllText(metrics, """{"MetricDataResults":[{"Id":"canary","Label":"333333333333 us-west-2","Timestamps":["2026-12-04T21:00:00Z"],"Values":[57.2],"StatusCode":"Complete"}],"Messages":[]}""");
        var site = CliRunner.TempDir();
        var result = await CliRunner.RunAsync("docs", "--stack", "prod", "--sample", "--accounts", Accounts(TwoAccounts), "--canary-metrics", metrics, "--out", site);
        Assert.True(result.ExitCode == 0, result.Err);
        var page = File.ReadAllText(Path.Combine(site, "accounts", "333333333333.md"));
        Assert.Contains("| us-west-2 | 333333333333 | 57.2 s | 57.2 s | 2026-12-04 21:00 UTC |", page);
        Assert.Contains("| eu-west-1 | 333333333333 | not measured |", page);

        File.WriteAllText(metrics, """{"MetricDataResults":[{"Label":"everything","Timestamps":[],"Values":[]}]}""");
        var bad = await CliRunner.RunAsync("docs", "--stack", "prod", "--sample", "--canary-metrics", metrics, "--out", CliRunner.TempDir());
        Assert.Equal(2, bad.ExitCode);
        Assert.Equal($"{metrics}: MetricDataResults[0].Label: expected \"<account id> <region>\" (the GROUP BY AccountId, Region of the query docs prints), found \"everything\"", bad.Err.Trim());
    }

    [Fact]
    public async Task An_empty_folder_is_used_as_it_is()
    {
        var site = CliRunner.TempDir();

        var result = await DocsAsync(site, Accounts(OneAccount));

        Assert.True(result.ExitCode == 0, result.Err);
        Assert.True(File.Exists(Path.Combine(site, "index.html")));
    }
}

using System.Diagnostics;
using System.Text.RegularExpressions;
using AuditInfra.Cli.Tests.Support;

namespace AuditInfra.Cli.Tests.Documentation;

/// <summary>
/// The generated HTML opened in headless Chromium (Debian's chromium): text read from the DOM it
/// renders, and every link followed. Run by test.sh as the Browser category; CI installs Chromium.
/// </summary>
[Trait("Category", "Browser")]
public partial class DocsBrowserTests
{
    private const string Accounts = """
        {"Accounts":[
          {"Id":"111111111111","Name":"Management","Status":"ACTIVE"},
          {"Id":"222222222222","Name":"Log Archive","Status":"ACTIVE"},
          {"Id":"333333333333","Name":"Payments Prod","Status":"ACTIVE"}
        ]}
        """;

    private static readonly string? ChromiumPath = new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser" }.FirstOrDefault(File.Exists);

    /// <summary>A real skip where Chromium is missing, except in CI, which installs it and must run these tests.</summary>
    private static string Chromium()
    {
        const string missing = "Chromium is not installed (apt-get install chromium): the browser tests need it";
        Skip.If(ChromiumPath is null && Environment.GetEnvironmentVariable("CI") != "true", missing);
        return ChromiumPath ?? throw new InvalidOperationException(missing + " (CI must run them)");
    }

    private static string DumpDom(string file)
    {
        var profile = Directory.CreateTempSubdirectory("auditinfra-chromium").FullName;
        var start = new ProcessStartInfo(Chromium())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            ArgumentList =
            {
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", $"--user-data-dir={profile}", "--dump-dom", new Uri(file).AbsoluteUri,
            },
        };
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var dom = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(60_000), "chromium did not finish in 60 s");
        Assert.True(dom.Contains("</html>", StringComparison.Ordinal), $"chromium rendered nothing for {file}: {stderr.Result}");
        return dom;
    }

    [SkippableFact]
    public async Task The_site_renders_in_chromium_with_every_account_and_working_links()
    {
        Chromium();
        var dir = CliRunner.TempDir();
        var accounts = Path.Combine(dir, "accounts.json");
        await File.WriteAllTextAsync(accounts, Accounts);
        var site = Path.Combine(dir, "site");
        var result = await CliRunner.RunAsync("docs", "--stack", "prod", "--sample", "--accounts", accounts, "--out", site);
        Assert.Equal(0, result.ExitCode);

        var index = DumpDom(Path.Combine(site, "index.html"));
        foreach (var text in new[] { "Audit logging of o-a1b2c3d4e5", "Coverage", "Payments Prod", "Retention and lifecycle", "DEEP_ARCHIVE", "Object Lock GOVERNANCE, 365 days", "Root user activity" })
        {
            Assert.Contains(text, index);
        }

        var links = Href().Matches(index).Select(m => m.Groups[1].Value).Where(h => !h.StartsWith('#')).Distinct().ToList();
        Assert.Contains("accounts/333333333333.html", links);
        Assert.Contains("controls.html", links);
        foreach (var link in links)
        {
            var target = Path.GetFullPath(Path.Combine(site, link.Split('#')[0]));
            Assert.True(File.Exists(target), $"broken link {link}");
            var page = DumpDom(target);
            Assert.Contains("<h1>", page);
        }

        var account = DumpDom(Path.Combine(site, "accounts", "333333333333.html"));
        Assert.Contains("CloudTrail-Digest/eu-west-1/", account);
        Assert.Contains("auditinfra verify --source ./logs", account);
        Assert.Contains("href=\"../index.html\"", account);
    }

    [GeneratedRegex("href=\"([^\"]+)\"")]
    private static partial Regex Href();
}

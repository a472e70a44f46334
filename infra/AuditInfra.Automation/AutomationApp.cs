using System.CommandLine;
using Amazon.SQS;
using AuditInfra.Automation.Rollout;
using AuditInfra.Core.Configuration;
using AuditInfra.Core.Documentation;
using AuditInfra.Core.Rollout;
using AuditInfra.Rollout.Accounts;
using AuditInfra.Rollout.Engine;
using AuditInfra.Rollout.Intake;
using AuditInfra.Rollout.Ledger;
using AuditInfra.Rollout.Status;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AuditInfra.Automation;

/// <summary>
/// <c>auditinfra-automation run | rollout | status</c>: the rollout host's commands. Exit codes as
/// the CLI's: 0 ok, 1 an account failed (or a preview found violations), 2 bad usage or input,
/// 3 an unexpected error (one line on stderr, never a stack trace).
/// </summary>
public static class AutomationApp
{
    private static readonly Option<DirectoryInfo> ConfigDir = new("--config-dir")
    {
        Description = "The folder holding Pulumi.<stack>.yaml (organization, regions, auditinfra:rollout settings)",
        DefaultValueFactory = _ => new DirectoryInfo("."),
    };

    private static readonly Option<string> Stack = new("--stack")
    {
        Description = "The stack file whose configuration the host follows",
        DefaultValueFactory = _ => "prod",
    };

    private static readonly Option<FileInfo?> Ledger = new("--ledger")
    {
        Description = $"The SQLite ledger file (default {RolloutLedgers.DefaultSqlitePath})",
    };

    private static readonly Option<string?> Postgres = new("--postgres")
    {
        Description = $"A PostgreSQL ledger shared by several hosts (default ${RolloutLedgers.PostgresEnvironmentVariable})",
    };

    private static readonly Option<FileInfo?> AccountsFile = new("--accounts-file")
    {
        Description = "Read the organization from an exported 'aws organizations list-accounts' JSON instead of calling the AWS CLI",
    };

    private static readonly Option<string?> Backend = new("--backend")
    {
        Description = "Pulumi state backend URL for the account stacks (default: PULUMI_BACKEND_URL or the current login)",
    };

    private static readonly Option<DirectoryInfo?> WorkDir = new("--work-dir")
    {
        Description = "Where the Pulumi workspaces of the account stacks live",
    };

    private static readonly Option<int?> Concurrency = new("--concurrency")
    {
        Description = "Accounts deployed at once (overrides auditinfra:rollout.concurrency)",
    };

    private static readonly Option<DirectoryInfo?> DocsOut = new("--docs-out")
    {
        Description = "The folder of `auditinfra docs`: each account's page is rewritten after its baseline is deployed",
    };

    private static readonly Option<string?> SecretsProvider = new("--secrets-provider")
    {
        Description = "Secrets provider of new account stacks (DIY backends): awskms://alias/NAME?region=REGION, azurekeyvault://..., gcpkms://..., hashivault://..., or passphrase",
    };

    private static readonly Option<DirectoryInfo[]> PolicyPack = new("--policy-pack")
    {
        Description = "A CrossGuard policy pack folder applied to every update and preview (repeatable)",
    };

    private static readonly Option<FileInfo[]> PolicyPackConfig = new("--policy-pack-config")
    {
        Description = "A policy config JSON file for the --policy-pack in the same position (repeatable)",
    };

    private static readonly string[] SecretsProviderSchemes = ["awskms", "azurekeyvault", "gcpkms", "hashivault"];

    /// <summary>What the commands build on: the stack deployer (Pulumi in production, a fake in tests).</summary>
    internal sealed record Ports(Func<PulumiDeployerOptions, ILoggerFactory, IStackDeployer> Deployer)
    {
        public static Ports Default { get; } = new((options, loggers) => new PulumiStackDeployer(options, loggers.CreateLogger<PulumiStackDeployer>()));
    }

    public static Task<int> RunAsync(string[] args) => RunAsync(args, Ports.Default, CancellationToken.None);

    internal static async Task<int> RunAsync(string[] args, Ports ports, CancellationToken cancellationToken)
    {
        var root = new RootCommand("AuditInfra rollout host: keeps the account baseline deployed to every member account.");
        foreach (var option in new Option[] { ConfigDir, Stack, Ledger, Postgres, AccountsFile, Backend, WorkDir, Concurrency, DocsOut, SecretsProvider, PolicyPack, PolicyPackConfig })
        {
            option.Recursive = true;
            root.Options.Add(option);
        }

        root.Subcommands.Add(RunCommand(ports));
        root.Subcommands.Add(RolloutCommand(ports));
        root.Subcommands.Add(StatusCommand());
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
            {
                Console.Error.WriteLine(error.Message);
            }

            return 2;
        }

        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false }, cancellationToken);
        }
        catch (Exception e) when (e is FormatException or FileNotFoundException or DirectoryNotFoundException or InvalidDataException or System.Text.Json.JsonException)
        {
            // Bad input (an accounts file, a ledger path): one line, exit 2, as the CLI does.
            Console.Error.WriteLine($"error: {e.Message.ReplaceLineEndings(" ")}");
            return 2;
        }
        catch (OperationCanceledException)
        {
            // Ctrl+C or SIGTERM during a one-shot command: leases were released, nothing half-done.
            Console.Error.WriteLine("cancelled");
            return 130;
        }
        catch (Exception e)
        {
            // Exit 1 means an account failed; a crash is neither that nor bad input.
            Console.Error.WriteLine($"error: unexpected {e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")}");
            return 3;
        }
    }

    private static Command RunCommand(Ports ports)
    {
        var queueUrl = new Option<string?>("--queue-url") { Description = "The account-event queue (prod stack output accountIntakeQueueUrl); without it the host only reconciles" };
        var dlqUrl = new Option<string?>("--dlq-url") { Description = "Its dead-letter queue (output accountIntakeDeadLetterQueueUrl)" };
        var command = new Command("run", "Run the service: reconcile on start and on schedule, consume the account-event queue, deploy.");
        command.Options.Add(queueUrl);
        command.Options.Add(dlqUrl);
        command.SetAction(async (parse, ct) =>
        {
            if (Load(parse) is not { } setup || DeployerOptions(parse, setup) is not { } deployerOptions)
            {
                return 2;
            }

            var queue = parse.GetValue(queueUrl);
            var dlq = parse.GetValue(dlqUrl) ?? (queue is null ? null : queue + "-dlq");
            var builder = Host.CreateApplicationBuilder();
            builder.Logging.ClearProviders();
            builder.Logging.AddJsonConsole(o => o.IncludeScopes = true);
            builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(60));
            var ledger = await OpenLedgerAsync(parse, ct);
            builder.Services.AddSingleton(ledger);
            builder.Services.AddSingleton<IStackDeployer>(sp => Documented(parse, setup, ports.Deployer(deployerOptions, sp.GetRequiredService<ILoggerFactory>())));
            builder.Services.AddSingleton(sp => new RolloutEngine(
                sp.GetRequiredService<IRolloutLedger>(), sp.GetRequiredService<IStackDeployer>(), Directory(parse), SystemClock.Instance,
                setup.Spec, setup.Options, sp.GetRequiredService<ILoggerFactory>().CreateLogger<RolloutEngine>()));
            if (queue is not null)
            {
                builder.Services.AddSingleton<IAmazonSQS>(_ => new AmazonSQSClient());
                builder.Services.AddSingleton<IAccountIntake>(sp => new SqsAccountIntake(sp.GetRequiredService<IAmazonSQS>(), queue, dlq!));
            }

            builder.Services.AddHostedService(sp => new RolloutHostedService(sp.GetRequiredService<RolloutEngine>(), sp.GetService<IAccountIntake>()));
            try
            {
                await builder.Build().RunAsync(ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                // SIGTERM/Ctrl+C is how the service is meant to stop.
            }

            return 0;
        });
        return command;
    }

    private static Command RolloutCommand(Ports ports)
    {
        var all = new Option<bool>("--all") { Description = "Every governed ACTIVE account of the organization" };
        var accounts = new Option<string[]>("--account") { Description = "An account id (repeatable)", AllowMultipleArgumentsPerToken = true };
        var preview = new Option<bool>("--preview") { Description = "Preview only (pulumi preview): nothing is deployed or recorded, no stack is created" };
        var command = new Command("rollout", "One-shot rollout (or preview) to the named accounts or to all of them; used by CI for policy-as-code previews.");
        foreach (var option in new Option[] { all, accounts, preview })
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parse, ct) =>
        {
            if (Load(parse) is not { } setup || DeployerOptions(parse, setup) is not { } deployerOptions)
            {
                return 2;
            }

            var ids = parse.GetValue(accounts) ?? [];
            if (parse.GetValue(all) == ids.Length > 0)
            {
                Console.Error.WriteLine("Give either --all or one or more --account ID.");
                return 2;
            }

            if (ids.FirstOrDefault(id => AwsFormats.AccountId(id) is not null) is { } bad)
            {
                Console.Error.WriteLine($"--account {bad}: expected a 12-digit AWS account id.");
                return 2;
            }

            using var loggers = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(Console.IsOutputRedirected ? LogLevel.Information : LogLevel.Warning));
            var deployer = Documented(parse, setup, ports.Deployer(deployerOptions, loggers));
            var ledger = await OpenLedgerAsync(parse, ct);
            var engine = new RolloutEngine(ledger, deployer, Directory(parse), SystemClock.Instance, setup.Spec, setup.Options, loggers.CreateLogger<RolloutEngine>());
            var targets = ids.Length > 0 ? ids : await engine.ActiveAccountsAsync(ct);

            if (parse.GetValue(preview))
            {
                // The packs are in the deployer's options, applied to previews and updates alike.
                var previews = await engine.PreviewAsync(targets, null, ct);
                foreach (var (id, result) in previews)
                {
                    Console.WriteLine($"{StackNames.ForAccount(id)}: {(result.Succeeded ? "ok" : "FAILED")} {result.Summary}");
                    foreach (var violation in result.PolicyViolations)
                    {
                        Console.WriteLine($"  {violation}");
                    }
                }

                return previews.All(p => p.Result.Succeeded) ? 0 : 1;
            }

            var progress = new RolloutProgress(targets.Count, !Console.IsOutputRedirected);
            engine.OperationCompleted += progress.Report;
            var entries = await engine.RolloutAsync(targets, ct);
            progress.Finish();
            Console.Write(RolloutStatusReport.Table(entries));
            return entries.Any(e => e.State == AccountRolloutState.Failed) ? 1 : 0;
        });
        return command;
    }

    private static Command StatusCommand()
    {
        var json = new Option<bool>("--json") { Description = "Print the ledger as JSON" };
        var command = new Command("status", "The ledger as a table: account, state, program version, attempts, last attempt, error.");
        command.Options.Add(json);
        command.SetAction(async (parse, ct) =>
        {
            var ledger = await OpenLedgerAsync(parse, ct);
            var entries = await ledger.ListAsync(ct);
            Console.Write(parse.GetValue(json) ? RolloutStatusReport.JsonText(entries) + Environment.NewLine : RolloutStatusReport.Table(entries));
            return entries.Any(e => e.State == AccountRolloutState.Failed) ? 1 : 0;
        });
        return command;
    }

    private sealed record Setup(RolloutSpec Spec, RolloutEngineOptions Options, AuditConfig Config);

    /// <summary>With --docs-out, deployments rewrite their account's documentation page.</summary>
    private static IStackDeployer Documented(ParseResult parse, Setup setup, IStackDeployer deployer) =>
        parse.GetValue(DocsOut) is { } docs ? new DocumentingDeployer(deployer, setup.Config, docs.FullName) : deployer;

    /// <summary>How the deployer runs Pulumi; null (after a one-line error) when an option is unusable.</summary>
    private static PulumiDeployerOptions? DeployerOptions(ParseResult parse, Setup setup)
    {
        var packs = parse.GetValue(PolicyPack) ?? [];
        var configs = parse.GetValue(PolicyPackConfig) ?? [];
        if (packs.FirstOrDefault(p => !p.Exists) is { } missingPack)
        {
            Console.Error.WriteLine($"--policy-pack {missingPack}: no such folder (expected a CrossGuard policy pack folder with PulumiPolicy.yaml).");
            return null;
        }

        if (configs.FirstOrDefault(c => !c.Exists) is { } missingConfig)
        {
            Console.Error.WriteLine($"--policy-pack-config {missingConfig}: no such file (expected a policy config JSON file).");
            return null;
        }

        if (configs.Length > packs.Length)
        {
            Console.Error.WriteLine($"--policy-pack-config: {configs.Length} config file(s) for {packs.Length} --policy-pack folder(s); give one per pack, in the same order.");
            return null;
        }

        var secrets = parse.GetValue(SecretsProvider);
        if (secrets is not null && secrets != "passphrase" && secrets != "default"
            && !(Uri.TryCreate(secrets, UriKind.Absolute, out var uri) && SecretsProviderSchemes.Contains(uri.Scheme)))
        {
            Console.Error.WriteLine($"--secrets-provider {secrets}: expected passphrase, default, or a URL awskms://..., azurekeyvault://..., gcpkms://..., hashivault://...");
            return null;
        }

        return new PulumiDeployerOptions
        {
            BackendUrl = parse.GetValue(Backend),
            WorkDir = parse.GetValue(WorkDir)?.FullName,
            SecretsProvider = secrets,
            PolicyPacks = [.. packs.Select(p => p.FullName)],
            PolicyPackConfigs = [.. configs.Select(c => c.FullName)],
            StaleLockAfter = setup.Options.Lease,
        };
    }

    private static Setup? Load(ParseResult parse)
    {
        var stack = parse.GetValue(Stack)!;
        var (config, report) = AuditConfigBinder.Load(parse.GetValue(ConfigDir)!.FullName, stack);
        if (config is null)
        {
            Console.Error.WriteLine($"The configuration of stack '{stack}' is not valid:");
            foreach (var issue in report.Issues)
            {
                Console.Error.WriteLine("  " + issue);
            }

            return null;
        }

        var target = new RolloutTarget(config, config.Rollout, AccountBaselineProgram.ProgramVersion);
        var options = RolloutEngineOptions.From(config.Rollout);
        if (parse.GetValue(Concurrency) is { } n and > 0)
        {
            options = options with { Concurrency = n };
        }

        return new Setup(RolloutSpec.From(target), options, config);
    }

    private static async Task<IRolloutLedger> OpenLedgerAsync(ParseResult parse, CancellationToken ct) =>
        await RolloutLedgers.OpenAsync(
            parse.GetValue(Ledger)?.FullName,
            parse.GetValue(Postgres) ?? Environment.GetEnvironmentVariable(RolloutLedgers.PostgresEnvironmentVariable),
            ct);

    private static IAccountDirectory Directory(ParseResult parse) =>
        parse.GetValue(AccountsFile) is { } file ? new FileAccountDirectory(file.FullName) : new AwsCliAccountDirectory();
}

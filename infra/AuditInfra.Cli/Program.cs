using AuditInfra.Cli;

return await CliApp.RunAsync(args, CliIo.FromConsole());

using AuditInfra.Automation;

return await AutomationApp.RunAsync(args);

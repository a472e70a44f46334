using AuditInfra.Stacks;
using Pulumi;

return await Deployment.RunAsync(AuditInfraProgram.Run);

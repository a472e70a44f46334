using AuditInfra.Core.Rollout;
using AuditInfra.Rollout.Engine;
using Microsoft.Extensions.Hosting;

namespace AuditInfra.Automation.Rollout;

/// <summary>
/// The long-running service: the engine reconciles on start and on schedule, drains the intake
/// queue and runs its workers until the host stops (SIGTERM: stop taking work, release leases).
/// </summary>
public sealed class RolloutHostedService(RolloutEngine engine, IAccountIntake? intake) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => engine.RunAsync(intake, stoppingToken);
}

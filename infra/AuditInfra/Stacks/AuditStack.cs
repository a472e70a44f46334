using AuditInfra.AuditAccount;
using AuditInfra.Core.AuditAccount;
using AuditInfra.Core.Configuration;
using AuditInfra.Core.Detection;
using AuditInfra.Core.Integrity.Monitor;
using AuditInfra.Core.Query;
using AuditInfra.Core.Storage;
using AuditInfra.Detection;
using AuditInfra.Integrity;
using AuditInfra.Query;
using AuditInfra.Storage;
using Pulumi;

namespace AuditInfra.Stacks;

/// <summary>The <c>audit</c> stack: everything that lives in the audit (log-archive) account.</summary>
public static class AuditStack
{
    public static IDictionary<string, object?> Build(AuditConfig config)
    {
        var accountDesign = AuditAccountDesigner.Design(config);
        var design = LogArchiveDesigner.Design(config);
        var hubDesign = DetectionHubDesigner.Design(config);
        var queryDesign = QueryLayerDesigner.Design(config);
        LogArchive? logArchive = null;
        DetectionHub? hub = null;
        QueryLayer? query = null;
        IntegrityMonitor? monitor = null;

        // Everything that holds or protects the logs is built inside the audit account, through the
        // account's provider, before the account's lock-down is attached.
        var account = new AuditInfra.AuditAccount.AuditAccount(accountDesign.Names.Logical("audit-account-component"), new AuditAccountArgs
        {
            Design = accountDesign,
            BuildInside = provider =>
            {
                var inAuditAccount = new ComponentResourceOptions { Providers = { provider } };
                logArchive = new LogArchive(accountDesign.Names.Logical(InAccountComponentNames.LogArchive), new LogArchiveArgs { Design = design }, inAuditAccount);
                hub = new DetectionHub(accountDesign.Names.Logical(InAccountComponentNames.DetectionHub), new DetectionHubArgs { Design = hubDesign }, inAuditAccount);
                query = new QueryLayer(accountDesign.Names.Logical(InAccountComponentNames.QueryLayer), new QueryLayerArgs { Design = queryDesign }, inAuditAccount);
                if (!config.Integrity.Enabled)
                {
                    return [logArchive, hub, query];
                }

                monitor = new IntegrityMonitor(accountDesign.Names.Logical(InAccountComponentNames.IntegrityMonitor), new IntegrityMonitorArgs { Design = IntegrityMonitorDesigner.Design(config), DetectionHub = hub }, inAuditAccount);
                return [logArchive, hub, query, monitor];
            },
        });

        var outputs = new Dictionary<string, object?>
        {
            ["logBucketName"] = logArchive!.LogBucketName,
            ["logBucketArn"] = logArchive.LogBucketArn,
            ["accessLogBucketName"] = logArchive.AccessLogBucketName,
            ["trailKeyArn"] = logArchive.TrailKeyArn,
            ["trailKeyAliasArn"] = design.Names.TrailKeyAliasArn,
            ["trailArn"] = design.Names.TrailArn,
            ["s3KeyPrefix"] = config.S3KeyPrefix,
            ["auditAccountId"] = account.AccountId,
            ["logArchiveReady"] = logArchive.Ready,
            ["detectionBusArn"] = hub!.BusArn,
            ["detectionTopicArn"] = hub.TopicArn,
            ["athenaWorkgroup"] = query!.WorkgroupName,
        };
        if (monitor is not null)
        {
            // The plan's outputs of the component, under the same names (CI reads the repository URL).
            var monitorDesign = IntegrityMonitorDesigner.Design(config);
            outputs["integrityImageRepositoryUrl"] = monitorDesign.Monitor.RepositoryUrl;
            outputs["integrityAttestationKeyArn"] = monitor.AttestationKeyArn;
            outputs["integrityStateBucket"] = monitorDesign.Monitor.StateBucket;
            outputs["integrityBackfillJobQueue"] = monitorDesign.Monitor.BackfillName;
            outputs["integrityBackfillJobDefinition"] = monitorDesign.Monitor.BackfillName;
        }

        return outputs;
    }
}

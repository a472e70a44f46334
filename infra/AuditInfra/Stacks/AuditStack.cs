using AuditInfra.AuditAccount;
using AuditInfra.Core.AuditAccount;
using AuditInfra.Core.Configuration;
using AuditInfra.Core.Detection;
using AuditInfra.Core.Query;
using AuditInfra.Core.Storage;
using AuditInfra.Detection;
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
        var account = new AuditInfra.AuditAccount.AuditAccount(accountDesign.Names.Logical("audit-account-component"), new AuditAccountArgs { Design = accountDesign });

        // Everything that holds or protects the logs is built inside the audit account.
        var inAuditAccount = new ComponentResourceOptions { Providers = { account.Provider } };
        var design = LogArchiveDesigner.Design(config);
        var logArchive = new LogArchive(design.Names.Logical("log-archive"), new LogArchiveArgs { Design = design }, inAuditAccount);
        var hubDesign = DetectionHubDesigner.Design(config);
        var hub = new DetectionHub(hubDesign.Names.Logical("detection-hub"), new DetectionHubArgs { Design = hubDesign }, inAuditAccount);
        var queryDesign = QueryLayerDesigner.Design(config);
        var query = new QueryLayer(queryDesign.Names.Logical("query-layer"), new QueryLayerArgs { Design = queryDesign }, inAuditAccount);

        return new Dictionary<string, object?>
        {
            ["logBucketName"] = logArchive.LogBucketName,
            ["logBucketArn"] = logArchive.LogBucketArn,
            ["accessLogBucketName"] = logArchive.AccessLogBucketName,
            ["trailKeyArn"] = logArchive.TrailKeyArn,
            ["trailKeyAliasArn"] = design.Names.TrailKeyAliasArn,
            ["trailArn"] = design.Names.TrailArn,
            ["s3KeyPrefix"] = config.S3KeyPrefix,
            ["auditAccountId"] = account.AccountId,
            ["logArchiveReady"] = logArchive.Ready,
            ["detectionBusArn"] = hub.BusArn,
            ["detectionTopicArn"] = hub.TopicArn,
            ["athenaWorkgroup"] = query.WorkgroupName,
        };
    }
}

using AuditInfra.Core.Configuration;
using AuditInfra.Core.Detection;
using AuditInfra.Core.Storage;
using AuditInfra.Detection;
using AuditInfra.Storage;

namespace AuditInfra.Stacks;

/// <summary>The <c>audit</c> stack: everything that lives in the audit (log-archive) account.</summary>
public static class AuditStack
{
    public static IDictionary<string, object?> Build(AuditConfig config)
    {
        var design = LogArchiveDesigner.Design(config);
        var logArchive = new LogArchive(design.Names.Logical("log-archive"), new LogArchiveArgs { Design = design });
        var hubDesign = DetectionHubDesigner.Design(config);
        var hub = new DetectionHub(hubDesign.Names.Logical("detection-hub"), new DetectionHubArgs { Design = hubDesign });

        return new Dictionary<string, object?>
        {
            ["logBucketName"] = logArchive.LogBucketName,
            ["logBucketArn"] = logArchive.LogBucketArn,
            ["accessLogBucketName"] = logArchive.AccessLogBucketName,
            ["trailKeyArn"] = logArchive.TrailKeyArn,
            ["trailKeyAliasArn"] = design.Names.TrailKeyAliasArn,
            ["trailArn"] = design.Names.TrailArn,
            ["s3KeyPrefix"] = config.S3KeyPrefix,
            ["logArchiveReady"] = logArchive.Ready,
            ["detectionBusArn"] = hub.BusArn,
            ["detectionTopicArn"] = hub.TopicArn,
        };
    }
}

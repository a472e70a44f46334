// Which resources of a stack are the audit resources the pack protects, decided exactly as the
// C# offline check (infra/AuditInfra.Core/Checks/DesignCheck.cs) decides, so both report the same
// violations on the same plan.
import { AuditResource, Types, asArray, byType, get, links, statements, strings, text } from "./model";

/** Every trail in the stack is the audit trail: the pack runs on the audit-infrastructure stacks only. */
export function trails(resources: readonly AuditResource[]): AuditResource[] {
  return byType(resources, Types.trail);
}

/** The first resource of `type` whose `bucket` input names `bucket` (as the offline check). */
export function bucketPart(resources: readonly AuditResource[], bucket: AuditResource, type: string): AuditResource | undefined {
  return byType(resources, type).find((r) => links(r, "bucket", bucket));
}

function allowsCloudTrailWrites(policy: unknown): boolean {
  return statements(policy).some(
    (s) =>
      get(s, "Effect") === "Allow" &&
      strings(get(s, "Principal", "Service")).includes("cloudtrail.amazonaws.com") &&
      strings(get(s, "Action")).includes("s3:PutObject"),
  );
}

/**
 * The log buckets: those whose BucketPolicy lets CloudTrail write (s3:PutObject); when no bucket
 * has such a policy, every bucket that is not the target of server access logs.
 */
export function logBuckets(resources: readonly AuditResource[]): AuditResource[] {
  const buckets = byType(resources, Types.bucket);
  const policies = byType(resources, Types.bucketPolicy);
  const found = buckets.filter((b) => policies.some((p) => links(p, "bucket", b) && allowsCloudTrailWrites(get(p.props, "policy"))));
  if (found.length > 0) {
    return found;
  }
  const targets = new Set(byType(resources, Types.bucketLogging).map((l) => text(get(l.props, "targetBucket"))));
  return buckets.filter((b) => !targets.has(text(get(b.props, "bucket"))) && !targets.has(b.name));
}

/** The KMS keys a log bucket's default encryption names: the trail keys. */
export function trailKeys(resources: readonly AuditResource[]): AuditResource[] {
  const keys = byType(resources, Types.kmsKey);
  const used = new Set<AuditResource>();
  for (const bucket of logBuckets(resources)) {
    const sse = bucketPart(resources, bucket, Types.bucketEncryption);
    if (!sse) continue;
    for (const rule of asArray(get(sse.props, "rules"))) {
      const keyRef = get(rule, "applyServerSideEncryptionByDefault", "kmsMasterKeyId");
      for (const key of keys) {
        const byReference = typeof keyRef === "string" && keyRef.startsWith("${" + key.name + ".");
        const byValue = typeof keyRef === "string" && keyRef !== "" && [get(key.props, "arn"), get(key.props, "keyId"), get(key.props, "id")].includes(keyRef);
        const byDependency = (sse.propertyDependencies?.["rules"] ?? []).includes(key.urn);
        if (byReference || byValue || byDependency) used.add(key);
      }
    }
  }
  return keys.filter((k) => used.has(k));
}

export type StackRole = "audit" | "management";

/**
 * The stack's role: the stack tag `auditinfra:role` (set once on each stack, outside the program,
 * so a pull request cannot change it); without it, what the stack deploys (the LogArchive
 * component: audit; the OrganizationTrail component: management).
 */
export function stackRoles(resources: readonly AuditResource[], stackTags: ReadonlyMap<string, string>): StackRole[] {
  const tag = stackTags.get("auditinfra:role");
  if (tag === "audit" || tag === "management") {
    return [tag];
  }
  const roles: StackRole[] = [];
  if (resources.some((r) => r.type === Types.logArchiveComponent)) roles.push("audit");
  if (resources.some((r) => r.type === Types.organizationTrailComponent)) roles.push("management");
  return roles;
}

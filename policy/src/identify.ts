// Which resources of a stack are the audit resources the pack protects. Identification uses
// signals a pull request cannot remove without also breaking the audit design (or triggering
// another policy), so that a change cannot escape the checks by disguising a resource.
import {
  AuditResource,
  Types,
  allowsService,
  asArray,
  byType,
  get,
  refersTo,
} from "./model";

const BUCKET_OUTPUTS = ["bucket", "id"] as const;
const KEY_OUTPUTS = ["arn", "keyId", "id"] as const;
const TRAIL_BUCKET_NAME = /-cloudtrail-/;

/** Every trail in the stack is an audit trail: the pack runs on the audit-infrastructure stacks only. */
export function trails(resources: readonly AuditResource[]): AuditResource[] {
  return byType(resources, Types.trail);
}

/** Resources of `type` that configure `bucket` (their `bucket` input names it). */
export function bucketParts(resources: readonly AuditResource[], bucket: AuditResource, type: string): AuditResource[] {
  return byType(resources, type).filter((r) => refersTo(get(r.props, "bucket"), bucket, BUCKET_OUTPUTS));
}

/**
 * A bucket is a trail bucket when a trail of the stack writes to it (s3BucketName), when a
 * bucket policy lets CloudTrail write to it, or when its name follows the design's
 * `<prefix>-cloudtrail-<account>-<region>` convention.
 */
export function trailBuckets(resources: readonly AuditResource[]): AuditResource[] {
  const trailList = trails(resources);
  return byType(resources, Types.bucket).filter((bucket) => {
    if (trailList.some((t) => refersTo(get(t.props, "s3BucketName"), bucket, BUCKET_OUTPUTS))) {
      return true;
    }
    if (bucketParts(resources, bucket, Types.bucketPolicy).some((p) => allowsService(get(p.props, "policy"), "cloudtrail.amazonaws.com", "s3:PutObject"))) {
      return true;
    }
    const name = get(bucket.props, "bucket");
    return typeof name === "string" && TRAIL_BUCKET_NAME.test(name);
  });
}

/** Does `value` (a key id, key ARN, alias name or alias ARN) designate `key`? */
export function designatesKey(resources: readonly AuditResource[], value: unknown, key: AuditResource): boolean {
  if (refersTo(value, key, KEY_OUTPUTS)) {
    return true;
  }
  if (typeof value !== "string" || value === "") {
    return false;
  }
  return byType(resources, Types.kmsAlias).some((alias) => {
    const aliasName = get(alias.props, "name");
    const named =
      refersTo(value, alias, ["arn", "id", "name"]) ||
      (typeof aliasName === "string" && aliasName !== "" && (value === aliasName || value.endsWith(`:${aliasName}`)));
    return named && refersTo(get(alias.props, "targetKeyId"), key, KEY_OUTPUTS);
  });
}

/**
 * A KMS key is a trail key when a trail of the stack encrypts with it, when a trail bucket's
 * default encryption uses it, or when its key policy lets CloudTrail generate data keys.
 */
export function trailKeys(resources: readonly AuditResource[]): AuditResource[] {
  const trailList = trails(resources);
  const buckets = trailBuckets(resources);
  return byType(resources, Types.kmsKey).filter((key) => {
    if (trailList.some((t) => designatesKey(resources, get(t.props, "kmsKeyId"), key))) {
      return true;
    }
    const encryptedBuckets = buckets.some((b) =>
      bucketParts(resources, b, Types.bucketEncryption).some((enc) =>
        asArray(get(enc.props, "rules")).some((rule) =>
          designatesKey(resources, get(rule, "applyServerSideEncryptionByDefault", "kmsMasterKeyId"), key),
        ),
      ),
    );
    if (encryptedBuckets) {
      return true;
    }
    return allowsService(get(key.props, "policy"), "cloudtrail.amazonaws.com", "kms:GenerateDataKey");
  });
}

export type StackRole = "audit" | "management";

/**
 * The stack's role: the stack tag `auditinfra:role` (set once on each stack, outside the
 * program, so a pull request cannot change it), else what the stack deploys.
 */
export function stackRoles(resources: readonly AuditResource[], stackTags: ReadonlyMap<string, string>): StackRole[] {
  const tag = stackTags.get("auditinfra:role");
  if (tag === "audit" || tag === "management") {
    return [tag];
  }
  const roles: StackRole[] = [];
  if (resources.some((r) => r.type === Types.logArchiveComponent)) {
    roles.push("audit");
  }
  if (resources.some((r) => r.type.startsWith("auditinfra:trail:"))) {
    roles.push("management");
  }
  return roles;
}

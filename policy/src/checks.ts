// Every invariant's check as a pure function: resource checks take a resource's inputs, stack
// checks take every resource of the stack. The PolicyPack (index.ts) only wraps them.
import { Invariant, evaluateSimpleCheck, invariants } from "./invariants";
import { bucketParts, stackRoles, trailBuckets, trailKeys, trails } from "./identify";
import {
  AuditResource,
  Finding,
  Types,
  actions,
  asArray,
  asDocument,
  get,
  isSet,
  label,
  refersTo,
  statements,
} from "./model";

export type ResourceCheck = (props: Record<string, any>, config: Record<string, any>) => string[];
export type StackCheck = (resources: readonly AuditResource[], config: Record<string, any>, stackTags: ReadonlyMap<string, string>) => Finding[];

// ---- the trail --------------------------------------------------------------------------------

function managementEvents(props: Record<string, any>): string[] {
  const advanced = asArray(props.advancedEventSelectors);
  const basic = asArray(props.eventSelectors);
  if (advanced.length > 0) {
    const covered = new Set<string>();
    const problems: string[] = [];
    for (const selector of advanced) {
      const fields = asArray(get(selector, "fieldSelectors"));
      const category = fields.find((f) => get(f, "field") === "eventCategory");
      if (!category || !asArray(get(category, "equals")).includes("Management")) {
        continue;
      }
      for (const f of fields) {
        const field = get(f, "field");
        if (field === "eventSource" || field === "eventName") {
          problems.push(`advanced event selector '${get(selector, "name") ?? ""}' filters management events by ${field}`);
        }
      }
      const readOnly = fields.find((f) => get(f, "field") === "readOnly");
      if (!readOnly) {
        covered.add("true").add("false");
      } else {
        for (const v of asArray<string>(get(readOnly, "equals"))) {
          covered.add(String(v).toLowerCase());
        }
      }
    }
    if (!covered.has("true") || !covered.has("false")) {
      problems.push("advancedEventSelectors must select read and write management events (eventCategory = Management without a readOnly filter)");
    }
    return problems;
  }
  if (basic.length > 0) {
    const covered = new Set<string>();
    const problems: string[] = [];
    for (const selector of basic) {
      if (get(selector, "includeManagementEvents") === false) {
        continue;
      }
      const excluded = asArray(get(selector, "excludeManagementEventSources"));
      if (excluded.length > 0) {
        problems.push(`an event selector excludes management event sources ${JSON.stringify(excluded)}`);
      }
      const rw = get(selector, "readWriteType") ?? "All";
      if (rw === "All" || rw === "ReadOnly") covered.add("read");
      if (rw === "All" || rw === "WriteOnly") covered.add("write");
    }
    if (!covered.has("read") || !covered.has("write")) {
      problems.push("eventSelectors must record read and write management events (readWriteType All, includeManagementEvents not false)");
    }
    return problems;
  }
  return [];
}

// ---- the detection bus and its rules -------------------------------------------------------

const ORG_ID = /^o-[a-z0-9]{10,32}$/;

function busOrganizationOnly(props: Record<string, any>, config: Record<string, any>): string[] {
  const document = asDocument(props.policy);
  if (!document || typeof document !== "object") {
    return ["the bus policy is not a JSON policy document"];
  }
  const problems: string[] = [];
  const expected: string = config.organizationId ?? "";
  statements(document).forEach((s, index) => {
    if (get(s, "Effect") !== "Allow") {
      return;
    }
    const sid = get(s, "Sid") ?? `#${index}`;
    const orgValues = asArray<string>(get(s, "Condition", "StringEquals", "aws:PrincipalOrgID"));
    if (orgValues.length !== 1 || typeof orgValues[0] !== "string" || !ORG_ID.test(orgValues[0])) {
      problems.push(`statement ${sid} allows ${JSON.stringify(get(s, "Principal"))} without a StringEquals aws:PrincipalOrgID condition on one organization id`);
    } else if (expected !== "" && orgValues[0] !== expected) {
      problems.push(`statement ${sid} accepts organization ${orgValues[0]}, expected ${expected}`);
    }
  });
  return problems;
}

function ruleEnabled(props: Record<string, any>): string[] {
  const problems: string[] = [];
  const state = props.state;
  if (state !== undefined && state !== null && state !== "ENABLED" && state !== "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS") {
    problems.push(`state must be ENABLED, is ${JSON.stringify(state)}`);
  }
  if (props.isEnabled === false) {
    problems.push("isEnabled must not be false");
  }
  return problems;
}

// ---- the trail bucket --------------------------------------------------------------------------

type BucketCheck = (resources: readonly AuditResource[], bucket: AuditResource, config: Record<string, any>) => string[];

function part(resources: readonly AuditResource[], bucket: AuditResource, type: string): AuditResource[] {
  return bucketParts(resources, bucket, type);
}

function missing(what: string): string[] {
  return [`has no ${what}`];
}

const versioning: BucketCheck = (resources, bucket) => {
  const parts = part(resources, bucket, Types.bucketVersioning);
  if (parts.length === 0) return missing("BucketVersioning");
  return parts.some((p) => get(p.props, "versioningConfiguration", "status") === "Enabled")
    ? []
    : [`versioning must be Enabled, is ${JSON.stringify(parts.map((p) => get(p.props, "versioningConfiguration", "status")))}`];
};

const objectLock: BucketCheck = (resources, bucket, config) => {
  const problems: string[] = [];
  if (get(bucket.props, "objectLockEnabled") !== true) {
    problems.push("must be created with objectLockEnabled = true");
  }
  const parts = part(resources, bucket, Types.bucketObjectLock);
  if (parts.length === 0) return [...problems, ...missing("BucketObjectLockConfiguration (default retention)")];
  const minimum = Number(config.minimumRetentionDays);
  const modes: string[] = asArray(config.allowedModes);
  const ok = parts.some((p) => {
    const enabled = get(p.props, "objectLockEnabled") ?? "Enabled";
    const retention = get(p.props, "rule", "defaultRetention");
    if (enabled !== "Enabled" || !retention) {
      problems.push(`${label(p)} has no default retention`);
      return false;
    }
    const mode = get(retention, "mode");
    const days = typeof get(retention, "days") === "number" ? get(retention, "days") : typeof get(retention, "years") === "number" ? get(retention, "years") * 365 : 0;
    if (!modes.includes(mode)) {
      problems.push(`default retention mode ${JSON.stringify(mode)} is not one of ${modes.join(", ")}`);
      return false;
    }
    if (days < minimum) {
      problems.push(`default retention of ${days} days is shorter than ${minimum} days (minimumRetentionDays)`);
      return false;
    }
    return true;
  });
  return ok && problems.length === 0 ? [] : problems;
};

const sseKms: BucketCheck = (resources, bucket) => {
  const parts = part(resources, bucket, Types.bucketEncryption);
  if (parts.length === 0) return missing("BucketServerSideEncryptionConfiguration");
  const problems: string[] = [];
  for (const p of parts) {
    const rules = asArray(get(p.props, "rules"));
    if (rules.length === 0) problems.push(`${label(p)} has no rule`);
    for (const rule of rules) {
      const algorithm = get(rule, "applyServerSideEncryptionByDefault", "sseAlgorithm");
      if (algorithm !== "aws:kms" && algorithm !== "aws:kms:dsse") {
        problems.push(`default encryption must be SSE-KMS, is ${JSON.stringify(algorithm)}`);
      } else if (!isSet(get(rule, "applyServerSideEncryptionByDefault", "kmsMasterKeyId"))) {
        problems.push("default encryption names no kmsMasterKeyId");
      }
    }
  }
  return problems;
};

const publicAccess: BucketCheck = (resources, bucket) => {
  const parts = part(resources, bucket, Types.bucketPublicAccessBlock);
  if (parts.length === 0) return missing("BucketPublicAccessBlock");
  const flags = ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"];
  const off = flags.filter((f) => !parts.some((p) => get(p.props, f) === true));
  return off.length === 0 ? [] : [`public access block must set ${off.join(", ")} to true`];
};

const ownerEnforced: BucketCheck = (resources, bucket) => {
  const parts = part(resources, bucket, Types.bucketOwnership);
  if (parts.length === 0) return missing("BucketOwnershipControls");
  const owners = parts.flatMap((p) => asArray(get(p.props, "rule")).map((r) => get(r, "objectOwnership")));
  return owners.includes("BucketOwnerEnforced") ? [] : [`object ownership must be BucketOwnerEnforced, is ${JSON.stringify(owners)}`];
};

function isEveryone(principal: unknown): boolean {
  if (principal === "*") return true;
  return asArray(get(principal, "AWS")).includes("*");
}

function deniesInsecureTransport(statement: any, bucketName: unknown): boolean {
  if (get(statement, "Effect") !== "Deny" || !isEveryone(get(statement, "Principal"))) return false;
  if (!actions(statement).some((a) => a === "s3:*" || a === "*")) return false;
  const condition = get(statement, "Condition");
  const operators = condition && typeof condition === "object" ? Object.keys(condition) : [];
  const bool = get(condition, "Bool");
  const keys = bool && typeof bool === "object" ? Object.keys(bool) : [];
  const value = get(bool, "aws:SecureTransport");
  if (operators.length !== 1 || keys.length !== 1 || !(value === "false" || value === false)) return false;
  const resources = asArray<string>(get(statement, "Resource"));
  if (resources.includes("*")) return true;
  if (typeof bucketName === "string" && bucketName !== "") {
    const arn = `arn:aws:s3:::${bucketName}`;
    return resources.includes(arn) && resources.includes(`${arn}/*`);
  }
  return resources.some((r) => !r.includes("/")) && resources.some((r) => r.endsWith("/*"));
}

const denyInsecureTransport: BucketCheck = (resources, bucket) => {
  const parts = part(resources, bucket, Types.bucketPolicy);
  if (parts.length === 0) return missing("BucketPolicy");
  const name = get(bucket.props, "bucket");
  return parts.some((p) => statements(get(p.props, "policy")).some((s) => deniesInsecureTransport(s, name)))
    ? []
    : ["the bucket policy must deny s3:* to every principal on the bucket and its objects when aws:SecureTransport is false (and under no other condition)"];
};

const lifecycle: BucketCheck = (resources, bucket, config) => {
  const parts = part(resources, bucket, Types.bucketLifecycle);
  if (parts.length === 0) return missing("BucketLifecycleConfiguration");
  const minimum = Number(config.minimumExpirationDays);
  const enabled = parts.flatMap((p) => asArray(get(p.props, "rules"))).filter((r) => get(r, "status") === "Enabled");
  if (enabled.length === 0) return ["the lifecycle configuration has no Enabled rule"];
  const problems: string[] = [];
  for (const rule of enabled) {
    const days = get(rule, "expiration", "days");
    if (typeof days === "number" && days < minimum) {
      problems.push(`lifecycle rule '${get(rule, "id") ?? ""}' expires logs after ${days} days, sooner than ${minimum} days (minimumExpirationDays)`);
    }
  }
  return problems;
};

const accessLogging: BucketCheck = (resources, bucket) => {
  const parts = part(resources, bucket, Types.bucketLogging);
  if (parts.length === 0) return missing("BucketLogging (server access logging)");
  const good = parts.some((p) => {
    const target = get(p.props, "targetBucket");
    return isSet(target) && !refersTo(target, bucket, ["bucket", "id"]);
  });
  return good ? [] : ["server access logs must go to a different bucket (targetBucket set and not the trail bucket)"];
};

function perTrailBucket(check: BucketCheck): StackCheck {
  return (resources, config) =>
    trailBuckets(resources).flatMap((bucket) => check(resources, bucket, config).map((m) => ({ message: `trail bucket '${bucket.name}': ${m}`, urn: bucket.urn })));
}

// ---- the trail key ------------------------------------------------------------------------------

function perTrailKey(inv: Invariant): StackCheck {
  const check = inv.check!;
  return (resources, config) =>
    trailKeys(resources).flatMap((key) => {
      const reason = evaluateSimpleCheck(check, key.props, config);
      return reason ? [{ message: `trail key '${key.name}': ${reason}`, urn: key.urn }] : [];
    });
}

// ---- the stack ------------------------------------------------------------------------------------

const protectedResources: StackCheck = (resources) => {
  const subjects = [
    ...trails(resources).map((r) => ["trail", r] as const),
    ...trailBuckets(resources).map((r) => ["trail bucket", r] as const),
    ...trailKeys(resources).map((r) => ["trail key", r] as const),
  ];
  return subjects
    .filter(([, r]) => !r.protect)
    .map(([what, r]) => ({ message: `${what} '${r.name}' must be deployed with protect: true (deleting or replacing it must fail)`, urn: r.urn }));
};

const presentResources: StackCheck = (resources, _config, stackTags) => {
  const findings: Finding[] = [];
  for (const role of stackRoles(resources, stackTags)) {
    if (role === "audit") {
      if (trailBuckets(resources).length === 0) findings.push({ message: "the audit stack no longer contains the trail bucket: this update would delete it" });
      if (trailKeys(resources).length === 0) findings.push({ message: "the audit stack no longer contains the trail key: this update would delete it" });
    } else if (trails(resources).length === 0) {
      findings.push({ message: "the management stack no longer contains the organization trail: this update would delete it" });
    }
  }
  return findings;
};

// ---- the registry ----------------------------------------------------------------------------------

function simpleResourceCheck(inv: Invariant): ResourceCheck {
  return (props, config) => {
    const reason = evaluateSimpleCheck(inv.check!, props, config);
    return reason ? [reason] : [];
  };
}

const customResourceChecks: Record<string, ResourceCheck> = {
  "trail-management-events": (props) => managementEvents(props),
  "detection-bus-organization-only": busOrganizationOnly,
  "detection-rule-enabled": (props) => ruleEnabled(props),
};

const customStackChecks: Record<string, StackCheck> = {
  "log-bucket-versioning": perTrailBucket(versioning),
  "log-bucket-object-lock": perTrailBucket(objectLock),
  "log-bucket-sse-kms": perTrailBucket(sseKms),
  "log-bucket-public-access-blocked": perTrailBucket(publicAccess),
  "log-bucket-owner-enforced": perTrailBucket(ownerEnforced),
  "log-bucket-deny-insecure-transport": perTrailBucket(denyInsecureTransport),
  "log-bucket-lifecycle": perTrailBucket(lifecycle),
  "log-bucket-access-logging": perTrailBucket(accessLogging),
  "audit-resources-protected": protectedResources,
  "audit-resources-present": presentResources,
};

export function resourceCheck(inv: Invariant): ResourceCheck {
  const custom = customResourceChecks[inv.id];
  if (custom) return custom;
  if (inv.check) return simpleResourceCheck(inv);
  throw new Error(`invariant '${inv.id}' has no resource check`);
}

export function stackCheck(inv: Invariant): StackCheck {
  const custom = customStackChecks[inv.id];
  if (custom) return custom;
  if (inv.subject === "trail-key" && inv.check) return perTrailKey(inv);
  throw new Error(`invariant '${inv.id}' has no stack check`);
}

/** Every invariant must have an implementation: checked when the pack loads. */
export function assertComplete(list: readonly Invariant[] = invariants): void {
  for (const inv of list) {
    if (inv.policyType === "resource") resourceCheck(inv);
    else stackCheck(inv);
  }
}

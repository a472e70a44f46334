// Every policy's check as a pure function over the stack's resources. Shared invariants
// (invariants.json) follow the C# offline check's semantics exactly, with configuration whose
// defaults reproduce it; pack-only policies (detection) follow detections.md.
import { bucketPart, logBuckets, stackRoles, trailKeys, trails } from "./identify";
import { shared } from "./invariants";
import {
  AuditResource,
  Finding,
  Types,
  UNKNOWN,
  asArray,
  asDocument,
  byType,
  get,
  isFalse,
  isTrue,
  links,
  num,
  refersTo,
  statements,
  strings,
  text,
} from "./model";

export type Config = Record<string, any>;
export type StackCheck = (resources: readonly AuditResource[], config: Config, stackTags: ReadonlyMap<string, string>) => Finding[];
export type ResourceCheck = (resource: AuditResource, config: Config) => string[];

/** A JSON schema property of a policy's configuration (CrossGuard configSchema). */
export interface ConfigProperty {
  readonly type: "integer" | "string" | "array";
  readonly default: unknown;
  readonly description: string;
  readonly [key: string]: unknown;
}

export interface PolicySpec {
  readonly id: string;
  /** resource: validateResource on `resourceType`; stack: validateStack over every resource. */
  readonly kind: "resource" | "stack";
  readonly resourceType?: string;
  readonly config?: Readonly<Record<string, ConfigProperty>>;
  readonly resourceCheck?: ResourceCheck;
  readonly stackCheck?: StackCheck;
}

// ---- the trail ------------------------------------------------------------------------------

function trailFlag(property: string, mustBe: "true" | "notFalse", message: string): ResourceCheck {
  return (trail) => {
    const value = get(trail.props, property);
    if (value === UNKNOWN) return [];
    const ok = mustBe === "true" ? isTrue(value) : !isFalse(value);
    return ok ? [] : [`${message} (is ${value === undefined ? "not set" : JSON.stringify(value)})`];
  };
}

function managementEventsProblem(props: Record<string, any>): string | undefined {
  const advanced = asArray(get(props, "advancedEventSelectors"));
  if (advanced.length > 0) {
    const management = advanced.filter((s) =>
      asArray(get(s, "fieldSelectors")).some((f) => get(f, "field") === "eventCategory" && strings(get(f, "equals")).includes("Management")),
    );
    if (management.length === 0) return "no advanced event selector records management events";
    return management.some((s) => !asArray(get(s, "fieldSelectors")).some((f) => get(f, "field") === "readOnly"))
      ? undefined
      : "management events are filtered by readOnly: both read and write events must be recorded";
  }
  const basic = asArray(get(props, "eventSelectors"));
  if (basic.length > 0) {
    return basic.some((s) => !isFalse(get(s, "includeManagementEvents")) && (text(get(s, "readWriteType")) ?? "All") === "All")
      ? undefined
      : "no event selector records management events with readWriteType All";
  }
  return undefined;
}

const trailOrganization: StackCheck = (resources, _config, tags) => {
  const list = trails(resources);
  const findings: Finding[] = list
    .filter((t) => !isTrue(get(t.props, "isOrganizationTrail")))
    .map((t) => ({ message: `trail '${t.name}': isOrganizationTrail must be true`, urn: t.urn }));
  if (list.length === 0 && stackRoles(resources, tags).includes("management")) {
    findings.push({ message: "the management-account stack creates no organization trail (removing it from the program deletes it)" });
  }
  return findings;
};

// ---- the log bucket -----------------------------------------------------------------------------

type BucketCheck = (resources: readonly AuditResource[], bucket: AuditResource, config: Config) => string | undefined;

function perLogBucket(check: BucketCheck): StackCheck {
  return (resources, config) =>
    logBuckets(resources).flatMap((bucket) => {
      const problem = check(resources, bucket, config);
      return problem ? [{ message: `log bucket '${bucket.name}': ${problem}`, urn: bucket.urn }] : [];
    });
}

const versioning: BucketCheck = (resources, bucket) =>
  text(get(bucketPart(resources, bucket, Types.bucketVersioning)?.props, "versioningConfiguration", "status")) === "Enabled"
    ? undefined
    : "no BucketVersioning with status Enabled";

const objectLock: BucketCheck = (resources, bucket, config) => {
  const retention = get(bucketPart(resources, bucket, Types.bucketObjectLock)?.props, "rule", "defaultRetention");
  const days = num(get(retention, "days")) ?? 0;
  const years = num(get(retention, "years")) ?? 0;
  if (!isTrue(get(bucket.props, "objectLockEnabled")) || !retention || days + years <= 0) {
    return "Object Lock must be enabled with a default retention";
  }
  const effectiveDays = days + years * 365;
  const minimum = Number(config.minimumRetentionDays ?? 1);
  if (effectiveDays < minimum) {
    return `the default retention of ${effectiveDays} days is shorter than minimumRetentionDays (${minimum})`;
  }
  const modes = strings(config.allowedModes);
  const mode = text(get(retention, "mode"));
  if (modes.length > 0 && !modes.includes(mode ?? "")) {
    return `the default retention mode ${JSON.stringify(mode)} is not one of allowedModes (${modes.join(", ")})`;
  }
  return undefined;
};

const sseKms: BucketCheck = (resources, bucket) => {
  const rules = asArray(get(bucketPart(resources, bucket, Types.bucketEncryption)?.props, "rules"));
  return rules.some((r) => ["aws:kms", "aws:kms:dsse"].includes(text(get(r, "applyServerSideEncryptionByDefault", "sseAlgorithm")) ?? ""))
    ? undefined
    : "default encryption must be SSE-KMS (aws:kms)";
};

const publicAccess: BucketCheck = (resources, bucket) => {
  const pab = bucketPart(resources, bucket, Types.bucketPublicAccessBlock);
  return pab && ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"].every((k) => isTrue(get(pab.props, k)))
    ? undefined
    : "all four public access block settings must be true";
};

const ownerEnforced: BucketCheck = (resources, bucket) =>
  text(get(bucketPart(resources, bucket, Types.bucketOwnership)?.props, "rule", "objectOwnership")) === "BucketOwnerEnforced"
    ? undefined
    : "object ownership must be BucketOwnerEnforced";

const tlsOnly: BucketCheck = (resources, bucket) => {
  const policy = get(bucketPart(resources, bucket, Types.bucketPolicy)?.props, "policy");
  const denies = statements(asDocument(policy)).some(
    (s) =>
      get(s, "Effect") === "Deny" &&
      strings(get(s, "Action")).some((a) => a === "s3:*" || a === "*") &&
      strings(get(s, "Condition", "Bool", "aws:SecureTransport")).some((x) => x.toLowerCase() === "false"),
  );
  return denies ? undefined : "the bucket policy must deny s3:* when aws:SecureTransport is false";
};

const lifecycle: BucketCheck = (resources, bucket, config) => {
  const rules = asArray(get(bucketPart(resources, bucket, Types.bucketLifecycle)?.props, "rules"));
  const enabled = rules.filter((r) => text(get(r, "status")) === "Enabled");
  if (!enabled.some((r) => (num(get(r, "expiration", "days")) ?? 0) > 0)) {
    return "an enabled lifecycle rule with an expiration is required";
  }
  const minimum = Number(config.minimumExpirationDays ?? 1);
  const early = enabled.find((r) => {
    const days = num(get(r, "expiration", "days")) ?? 0;
    return days > 0 && days < minimum;
  });
  return early ? `lifecycle rule '${get(early, "id") ?? ""}' expires logs after ${get(early, "expiration", "days")} days, sooner than minimumExpirationDays (${minimum})` : undefined;
};

const accessLogging: BucketCheck = (resources, bucket) => {
  const logging = bucketPart(resources, bucket, Types.bucketLogging);
  const target = text(get(logging?.props, "targetBucket"));
  if (!logging || target === undefined || target === text(get(bucket.props, "bucket")) || refersTo(get(logging.props, "targetBucket"), bucket)) {
    return "server access logs must go to a different bucket";
  }
  return undefined;
};

const logBucketPresent: StackCheck = (resources, _config, tags) =>
  stackRoles(resources, tags).includes("audit") && logBuckets(resources).length === 0
    ? [{ message: "the audit stack creates no log bucket (removing it from the program deletes it)" }]
    : [];

// ---- keys, protection, guardrails -------------------------------------------------------------

/** As the offline check: KMS rotates symmetric keys only, so an asymmetric key spec is exempt. */
const keyRotation: ResourceCheck = (key) => {
  const spec = get(key.props, "customerMasterKeySpec");
  if (spec === UNKNOWN || (text(spec) ?? "SYMMETRIC_DEFAULT") !== "SYMMETRIC_DEFAULT") return [];
  return isTrue(get(key.props, "enableKeyRotation")) ? [] : ["enableKeyRotation must be true"];
};

const keyDeletionWindow: ResourceCheck = (key, config) => {
  const minimum = Number(config.minimumDeletionWindowDays ?? shared.parameters.minimumKeyDeletionWindowDays);
  const days = num(get(key.props, "deletionWindowInDays")) ?? 30;
  return days < minimum ? [`deletionWindowInDays must be at least ${minimum} (is ${days})`] : [];
};

const resourcesProtected: StackCheck = (resources) => {
  const subjects: [string, AuditResource][] = [
    ...trails(resources).map((r) => ["trail", r] as [string, AuditResource]),
    ...logBuckets(resources).map((r) => ["log bucket", r] as [string, AuditResource]),
    ...trailKeys(resources).map((r) => ["trail key", r] as [string, AuditResource]),
  ];
  return subjects
    .filter(([, r]) => !r.protect)
    .map(([what, r]) => ({ message: `the ${what} '${r.name}' must be protected (protect: true): an update that deletes or replaces it must fail`, urn: r.urn }));
};

const guardrailsAttached: StackCheck = (resources) => {
  const attachments = byType(resources, Types.organizationsPolicyAttachment);
  return byType(resources, Types.organizationsPolicy)
    .filter((p) => (text(get(p.props, "type")) ?? "SERVICE_CONTROL_POLICY") === "SERVICE_CONTROL_POLICY")
    .filter((p) => !attachments.some((a) => links(a, "policyId", p) || attachedByArn(get(a.props, "policyId"), p)))
    .map((p) => ({ message: `the SCP '${p.name}' is attached to no root or OU`, urn: p.urn }));
};

/** At preview time an attachment's policyId is the policy's id, the last segment of its ARN. */
function attachedByArn(policyId: unknown, policy: AuditResource): boolean {
  const arn = text(get(policy.props, "arn"));
  return typeof policyId === "string" && policyId !== "" && arn !== undefined && arn.endsWith(`/${policyId}`);
}

// ---- the audit account's lock-down ------------------------------------------------------------------

/**
 * As the offline check: in the audit stack, an attached SCP denies s3:PutObject and
 * s3:DeleteObjectVersion on log objects to everyone but at most two exempt principals.
 */
const auditAccountLockdown: StackCheck = (resources, _config, tags) => {
  if (!stackRoles(resources, tags).includes("audit")) return [];
  const attachments = byType(resources, Types.organizationsPolicyAttachment);
  const locked = byType(resources, Types.organizationsPolicy)
    .filter((p) => attachments.some((a) => links(a, "policyId", p) || attachedByArn(get(a.props, "policyId"), p)))
    .flatMap((p) => statements(asDocument(get(p.props, "content"))))
    .some((s) => {
      const actions = strings(get(s, "Action"));
      const exempt = strings(get(s, "Condition", "ArnNotLike", "aws:PrincipalArn")).length;
      return get(s, "Effect") === "Deny"
        && actions.includes("s3:PutObject") && actions.includes("s3:DeleteObjectVersion")
        && strings(get(s, "Resource")).some((r) => r.endsWith("/*"))
        && exempt > 0 && exempt <= 2;
    });
  return locked ? [] : [{ message: "no attached SCP denies writes to the log objects outside the deployment and break-glass roles" }];
};

/**
 * As the offline check: every Deny of every attached SCP exempts (aws:PrincipalArn under
 * ArnNotLike, ArnNotEquals, StringNotLike or StringNotEquals) each role the audit stack's AWS
 * providers assume; otherwise the stack locks itself out of the audit account once it is attached.
 */
const auditStackRoleExempt: StackCheck = (resources, _config, tags) => {
  if (!stackRoles(resources, tags).includes("audit")) return [];
  const providers = new Map<string, { name: string; props: Record<string, any> }>();
  for (const r of byType(resources, Types.awsProvider)) providers.set(r.urn || r.name, r);
  for (const r of resources) {
    if (r.provider?.type === Types.awsProvider) providers.set(r.provider.urn || r.provider.name, r.provider);
  }
  const acting = [...providers.values()].flatMap((p) => assumedRoles(get(p.props, "assumeRoles")).map((role) => ({ provider: p.name, role })));
  const attachments = byType(resources, Types.organizationsPolicyAttachment);
  const findings: Finding[] = [];
  for (const scp of byType(resources, Types.organizationsPolicy)) {
    if (!attachments.some((a) => links(a, "policyId", scp) || attachedByArn(get(a.props, "policyId"), scp))) continue;
    statements(asDocument(get(scp.props, "content"))).forEach((s, index) => {
      if (get(s, "Effect") !== "Deny") return;
      const exempt = ["ArnNotLike", "ArnNotEquals", "StringNotLike", "StringNotEquals"].flatMap((op) => strings(get(s, "Condition", op, "aws:PrincipalArn")));
      for (const { provider, role } of acting) {
        if (exempt.some((pattern) => arnLike(pattern, role))) continue;
        const sid = text(get(s, "Sid")) ?? `#${index}`;
        findings.push({
          message: `statement ${sid} of '${scp.name}' denies ${role}, the role provider '${provider}' assumes to build inside the audit account: once attached, every later update there is denied (exempt that role: it is deploymentRoleArn)`,
          urn: scp.urn,
        });
      }
    });
  }
  return findings;
};

/**
 * As the offline check: every lock-down attachment of the audit stack depends on each resource
 * created through a provider that assumes a role (inside the audit account). The engine expands a
 * dependency on a component into its children, so the dependencies name the resources themselves.
 */
const auditLockdownAfterContents: StackCheck = (resources, _config, tags) => {
  if (!stackRoles(resources, tags).includes("audit")) return [];
  const inside = resources.filter((r) => r.provider?.type === Types.awsProvider && assumedRoles(get(r.provider.props, "assumeRoles")).length > 0);
  const scps = byType(resources, Types.organizationsPolicy);
  const findings: Finding[] = [];
  for (const attachment of byType(resources, Types.organizationsPolicyAttachment)) {
    if (!scps.some((p) => links(attachment, "policyId", p) || attachedByArn(get(attachment.props, "policyId"), p))) continue;
    const waitsFor = new Set(attachment.dependencies ?? []);
    for (const r of inside.filter((r) => !waitsFor.has(r.urn))) {
      findings.push({
        message: `the lock-down attachment '${attachment.name}' does not wait for '${r.name}', built inside the audit account through provider '${r.provider!.name}': on the first run the lock-down can be attached before it exists and deny creating it`,
        urn: attachment.urn,
      });
    }
  }
  return findings;
};

/** A provider's assumeRoles: a list in the plan, a JSON string among the engine's provider inputs. */
function assumedRoles(value: unknown): string[] {
  const list = asDocument(value);
  return asArray(list).map((r) => text(get(r, "roleArn"))).filter((r): r is string => r !== undefined);
}

/** IAM's ArnLike: '*' any run of characters, '?' one character. */
function arnLike(pattern: string, arn: string): boolean {
  const regex = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${regex}$`).test(arn);
}

// ---- detection ------------------------------------------------------------------------------------

/**
 * As the offline check: the bus policy has Allow statements and each is conditioned on
 * aws:PrincipalOrgID (under any operator). With `organizationId` configured, each must also be
 * StringEquals aws:PrincipalOrgID on exactly that organization.
 */
const busOrganizationOnly: ResourceCheck = (bus, config) => {
  const allows = statements(asDocument(get(bus.props, "policy"))).filter((s) => get(s, "Effect") === "Allow");
  if (allows.length === 0) return ["the bus policy has no Allow statement conditioned on aws:PrincipalOrgID"];
  const problems: string[] = [];
  const expected = text(config.organizationId) ?? "";
  allows.forEach((s, index) => {
    const sid = text(get(s, "Sid")) ?? `#${index}`;
    const condition = get(s, "Condition");
    const operators = condition && typeof condition === "object" ? Object.keys(condition) : [];
    const conditioned = operators.some((op) => {
      const keys = get(condition, op);
      return keys && typeof keys === "object" && Object.keys(keys).includes("aws:PrincipalOrgID");
    });
    if (!conditioned) {
      problems.push(`statement ${sid} allows ${JSON.stringify(get(s, "Principal"))} without an aws:PrincipalOrgID condition`);
    } else if (expected !== "") {
      const org = strings(get(condition, "StringEquals", "aws:PrincipalOrgID"));
      if (org.length !== 1 || org[0] !== expected) {
        problems.push(`statement ${sid} must accept exactly organization ${expected} (StringEquals aws:PrincipalOrgID), accepts ${JSON.stringify(get(condition))}`);
      }
    }
  });
  return problems;
};

/** As the offline check: state DISABLED or the deprecated isEnabled false. */
const ruleEnabled: ResourceCheck = (rule) => {
  const problems: string[] = [];
  if (get(rule.props, "state") === "DISABLED") problems.push("state is DISABLED");
  if (isFalse(get(rule.props, "isEnabled"))) problems.push("isEnabled is false");
  return problems;
};

/** The canary alarms, recognised by their namespace (values unknown at preview are judged at the end of `up`). */
const canaryAlarmed: ResourceCheck = (alarm) => {
  if (get(alarm.props, "namespace") !== "AuditInfra/DetectionCanary") return [];
  const problems: string[] = [];
  const missing = get(alarm.props, "treatMissingData");
  if (missing !== UNKNOWN && missing !== "breaching") problems.push("missing data must be breaching: silent canaries publish nothing");
  const actions = get(alarm.props, "alarmActions");
  if (isFalse(get(alarm.props, "actionsEnabled")) || (actions !== UNKNOWN && asArray(actions).length === 0)) problems.push("the alarm notifies nobody (no alarm action, or actions disabled)");
  return problems;
};

// ---- the integrity monitor ----------------------------------------------------------------------

/** Actions that delete, unlock or unprotect stored objects: never for a role tasks assume. */
const destructiveS3Actions = [
  "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:BypassGovernanceRetention", "s3:PutObjectRetention", "s3:PutObjectLegalHold",
  "s3:PutBucketPolicy", "s3:PutLifecycleConfiguration", "s3:DeleteBucket",
];

/** IAM action matching: case-insensitive, '*' any run of characters, '?' one character. */
function actionLike(pattern: string, action: string): boolean {
  const regex = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${regex}$`, "i").test(action);
}

/** The actions an Allow statement grants among `candidates` (Action patterns, or everything NotAction leaves). */
function grants(statement: any, candidates: readonly string[]): string[] {
  const notActions = strings(get(statement, "NotAction"));
  if (notActions.length > 0) return candidates.filter((a) => !notActions.some((p) => actionLike(p, a)));
  const patterns = strings(get(statement, "Action"));
  return candidates.filter((a) => patterns.some((p) => actionLike(p, a)));
}

/** Roles of the stack that ECS and Batch tasks assume (their trust names ecs-tasks.amazonaws.com). */
function taskRoles(resources: readonly AuditResource[]): AuditResource[] {
  return byType(resources, Types.iamRole).filter((r) =>
    statements(asDocument(get(r.props, "assumeRolePolicy"))).some((s) => get(s, "Effect") === "Allow" && strings(get(s, "Principal", "Service")).includes("ecs-tasks.amazonaws.com")),
  );
}

function roleOf(source: AuditResource, roles: readonly AuditResource[]): AuditResource | undefined {
  const value = get(source.props, "role");
  return roles.find((role) => links(source, "role", role) || (typeof value === "string" && value !== "" && value === text(get(role.props, "name"))));
}

/** As the offline check: every schedule is ENABLED (state DISABLED stops the monitor silently). */
const scheduleEnabled: ResourceCheck = (schedule) =>
  get(schedule.props, "state") === "DISABLED" ? ["the schedule is DISABLED: the archive is no longer proven continuously"] : [];

/** As the offline check: no Allow of a task role's inline policies covers a destructive S3 action; no managed policy attached to it. */
const taskRoleNoDelete: StackCheck = (resources) => {
  const roles = taskRoles(resources);
  const findings: Finding[] = [];
  for (const policy of byType(resources, Types.iamRolePolicy)) {
    const role = roleOf(policy, roles);
    if (!role) continue;
    for (const s of statements(asDocument(get(policy.props, "policy"))).filter((s) => get(s, "Effect") === "Allow")) {
      for (const action of grants(s, destructiveS3Actions)) {
        findings.push({
          message: `role policy '${policy.name}': statement ${text(get(s, "Sid")) ?? "(no Sid)"} allows ${action} to role '${role.name}', which ECS/Batch tasks assume: a task must never delete, unlock or unprotect evidence`,
          urn: policy.urn,
        });
      }
    }
  }
  for (const attachment of byType(resources, Types.iamRolePolicyAttachment)) {
    const role = roleOf(attachment, roles);
    if (!role) continue;
    findings.push({
      message: `'${attachment.name}' attaches ${text(get(attachment.props, "policyArn")) ?? "a managed policy"} to role '${role.name}', which ECS/Batch tasks assume: only inline policies, which this check reads, may grant it permissions`,
      urn: attachment.urn,
    });
  }
  return findings;
};

/** As the offline check: a SIGN_VERIFY key's policy lets at most one principal sign, a task role named by its exact ARN. */
const signOnlyTaskRole: StackCheck = (resources) => {
  const roleNames = new Set(taskRoles(resources).map((r) => text(get(r.props, "name"))).filter((n): n is string => n !== undefined));
  const findings: Finding[] = [];
  for (const key of byType(resources, Types.kmsKey).filter((k) => get(k.props, "keyUsage") === "SIGN_VERIFY")) {
    const signers = new Set<string>();
    for (const s of statements(asDocument(get(key.props, "policy"))).filter((s) => get(s, "Effect") === "Allow")) {
      if (grants(s, ["kms:Sign"]).length === 0) continue;
      const principal = get(s, "Principal");
      if (typeof principal === "string") signers.add(principal);
      else if (principal && typeof principal === "object") {
        for (const [kind, values] of Object.entries(principal)) for (const v of strings(values)) signers.add(kind === "AWS" ? v : `${kind}:${v}`);
      } else signers.add("(a NotPrincipal or no principal)");
    }
    const list = [...signers].sort();
    if (list.length > 1) {
      findings.push({ message: `key '${key.name}': kms:Sign is allowed to ${list.length} principals (${list.join(", ")}): only the integrity monitor's task role may sign attestations`, urn: key.urn });
    } else if (list.length === 1 && !(/^arn:aws[a-z-]*:iam::[0-9]{12}:role\/[A-Za-z0-9+=,.@_/-]+$/.test(list[0]) && roleNames.has(list[0].split("/").pop()!))) {
      findings.push({ message: `key '${key.name}': kms:Sign is allowed to ${list[0]}: only a role that ECS/Batch tasks assume (the integrity monitor's task role), named by its ARN without wildcards, may sign attestations`, urn: key.urn });
    }
  }
  return findings;
};

// ---- the catalog ----------------------------------------------------------------------------------

const trailResource = (id: string, check: ResourceCheck): PolicySpec => ({ id, kind: "resource", resourceType: Types.trail, resourceCheck: check });

export const specs: readonly PolicySpec[] = [
  { id: "trail-organization", kind: "stack", stackCheck: trailOrganization },
  trailResource("trail-multi-region", trailFlag("isMultiRegionTrail", "true", "isMultiRegionTrail must be true")),
  trailResource("trail-global-service-events", trailFlag("includeGlobalServiceEvents", "notFalse", "includeGlobalServiceEvents must not be false")),
  trailResource("trail-management-events-read-write", (t) => {
    const problem = managementEventsProblem(t.props);
    return problem ? [problem] : [];
  }),
  trailResource("trail-log-file-validation", trailFlag("enableLogFileValidation", "true", "enableLogFileValidation must be true")),
  trailResource("trail-kms-encrypted", (t) => {
    // Unknown during a preview (the key is created in the same update): set, known at update time.
    const keyId = get(t.props, "kmsKeyId");
    return keyId === UNKNOWN || (text(keyId) ?? "") !== "" ? [] : ["kmsKeyId must name the trail key"];
  }),
  trailResource("trail-logging-enabled", trailFlag("enableLogging", "notFalse", "enableLogging is false: the trail records nothing")),
  { id: "log-bucket-present", kind: "stack", stackCheck: logBucketPresent },
  { id: "bucket-versioning", kind: "stack", stackCheck: perLogBucket(versioning) },
  {
    id: "bucket-object-lock",
    kind: "stack",
    stackCheck: perLogBucket(objectLock),
    config: {
      minimumRetentionDays: { type: "integer", minimum: 1, default: 1, description: "Shortest default Object Lock retention accepted, in days (years count 365 days)." },
      allowedModes: { type: "array", items: { type: "string", enum: ["GOVERNANCE", "COMPLIANCE"] }, default: [], description: "Object Lock modes accepted for the default retention; empty accepts any." },
    },
  },
  { id: "bucket-sse-kms", kind: "stack", stackCheck: perLogBucket(sseKms) },
  { id: "bucket-public-access-blocked", kind: "stack", stackCheck: perLogBucket(publicAccess) },
  { id: "bucket-owner-enforced", kind: "stack", stackCheck: perLogBucket(ownerEnforced) },
  { id: "bucket-tls-only", kind: "stack", stackCheck: perLogBucket(tlsOnly) },
  {
    id: "bucket-lifecycle",
    kind: "stack",
    stackCheck: perLogBucket(lifecycle),
    config: {
      minimumExpirationDays: { type: "integer", minimum: 1, default: 1, description: "Shortest expiration (days after creation) an enabled lifecycle rule may give the logs." },
    },
  },
  { id: "bucket-access-logging", kind: "stack", stackCheck: perLogBucket(accessLogging) },
  { id: "key-rotation", kind: "resource", resourceType: Types.kmsKey, resourceCheck: keyRotation },
  {
    id: "key-deletion-window",
    kind: "resource",
    resourceType: Types.kmsKey,
    resourceCheck: keyDeletionWindow,
    config: {
      minimumDeletionWindowDays: {
        type: "integer",
        minimum: 7,
        maximum: 30,
        default: shared.parameters.minimumKeyDeletionWindowDays,
        description: "Shortest waiting period accepted before a key is deleted (default: parameters.minimumKeyDeletionWindowDays of invariants.json).",
      },
    },
  },
  { id: "resources-protected", kind: "stack", stackCheck: resourcesProtected },
  {
    id: "detection-bus-org-only",
    kind: "resource",
    resourceType: Types.eventBusPolicy,
    resourceCheck: busOrganizationOnly,
    config: {
      organizationId: { type: "string", pattern: "^(|o-[a-z0-9]{10,32})$", default: "", description: "When set, every Allow must be StringEquals aws:PrincipalOrgID on exactly this organization." },
    },
  },
  { id: "event-rules-enabled", kind: "resource", resourceType: Types.eventRule, resourceCheck: ruleEnabled },
  { id: "detection-canary-alarmed", kind: "resource", resourceType: Types.metricAlarm, resourceCheck: canaryAlarmed },
  { id: "audit-account-lockdown", kind: "stack", stackCheck: auditAccountLockdown },
  { id: "audit-stack-role-exempt", kind: "stack", stackCheck: auditStackRoleExempt },
  { id: "audit-lockdown-after-contents", kind: "stack", stackCheck: auditLockdownAfterContents },
  { id: "monitor-kms-sign-only-task-role", kind: "stack", stackCheck: signOnlyTaskRole },
  { id: "monitor-task-role-no-delete", kind: "stack", stackCheck: taskRoleNoDelete },
  { id: "monitor-schedule-enabled", kind: "resource", resourceType: Types.schedule, resourceCheck: scheduleEnabled },
  { id: "guardrails-attached", kind: "stack", stackCheck: guardrailsAttached },
];

/** Policies of this pack that the shared list does not have (none today: the detection policies joined it). */
export const packOnly: readonly (PolicySpec & { description: string; controls: string[] })[] = [];

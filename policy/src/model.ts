// The view of a resource every check works on: the same shape for a resource seen by the Pulumi
// engine (preview/update) and for a resource of the offline plan (`auditinfra plan --json`).

/** Pulumi.Aws 7.x type tokens (checked against `__pulumiType` in @pulumi/aws 7.48.0). */
export const Types = {
  trail: "aws:cloudtrail/trail:Trail",
  bucket: "aws:s3/bucket:Bucket",
  bucketVersioning: "aws:s3/bucketVersioning:BucketVersioning",
  bucketObjectLock: "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
  bucketEncryption: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  bucketPublicAccessBlock: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
  bucketOwnership: "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
  bucketPolicy: "aws:s3/bucketPolicy:BucketPolicy",
  bucketLifecycle: "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
  bucketLogging: "aws:s3/bucketLogging:BucketLogging",
  kmsKey: "aws:kms/key:Key",
  kmsAlias: "aws:kms/alias:Alias",
  eventBusPolicy: "aws:cloudwatch/eventBusPolicy:EventBusPolicy",
  eventRule: "aws:cloudwatch/eventRule:EventRule",
  metricAlarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
  organizationsPolicy: "aws:organizations/policy:Policy",
  organizationsPolicyAttachment: "aws:organizations/policyAttachment:PolicyAttachment",
  awsProvider: "pulumi:providers:aws",
  iamRole: "aws:iam/role:Role",
  iamRolePolicy: "aws:iam/rolePolicy:RolePolicy",
  iamRolePolicyAttachment: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
  schedule: "aws:scheduler/schedule:Schedule",
  logArchiveComponent: "auditinfra:storage:LogArchive",
  organizationTrailComponent: "auditinfra:trail:OrganizationTrail",
} as const;

export interface AuditResource {
  readonly type: string;
  readonly name: string;
  readonly urn: string;
  readonly props: Record<string, any>;
  readonly protect: boolean;
  /** URNs each top-level input depends on (the engine's propertyDependencies; empty offline). */
  readonly propertyDependencies?: Readonly<Record<string, readonly string[]>>;
  /** The provider the resource is created through (the engine's, or the plan's effective provider). */
  readonly provider?: ProviderView;
  /** URNs of the resources it depends on (the engine's dependencies: a component stands for its children). */
  readonly dependencies?: readonly string[];
}

/** A provider resource as the engine shows it to a policy. */
export interface ProviderView {
  readonly type: string;
  readonly name: string;
  readonly urn: string;
  readonly props: Record<string, any>;
}

/** A violation found by a check: the message and, for stack checks, the resource it is about. */
export interface Finding {
  readonly message: string;
  readonly urn?: string;
}

/** Marks a value that is not known yet (during a preview, before the resource exists). */
export const UNKNOWN: unique symbol = Symbol("unknown");
export type Maybe<T> = T | undefined | typeof UNKNOWN;

/**
 * Reads a property without failing on values unknown during preview: @pulumi/policy throws an
 * UnknownValueError when a policy touches an unknown value; identification code uses this so
 * one unknown value elsewhere in the stack does not stop every check.
 */
export function get(obj: unknown, ...path: string[]): any {
  let cur: any = obj;
  for (const key of path) {
    if (cur === undefined || cur === null || cur === UNKNOWN) {
      return cur === UNKNOWN ? UNKNOWN : undefined;
    }
    try {
      cur = cur[key];
    } catch (e) {
      if (e instanceof Error && e.constructor.name === "UnknownValueError") {
        return UNKNOWN;
      }
      throw e;
    }
  }
  return cur;
}

/** Policy documents are JSON objects in the offline plan and JSON strings at preview time. */
export function asDocument(value: unknown): any {
  if (typeof value === "string") {
    try {
      return JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  return value === UNKNOWN ? undefined : value;
}

export function asArray<T = any>(value: unknown): T[] {
  if (value === undefined || value === null || value === UNKNOWN) {
    return [];
  }
  return Array.isArray(value) ? (value as T[]) : [value as T];
}

export function statements(document: unknown): any[] {
  return asArray(get(asDocument(document), "Statement"));
}

/** True when a string value is set (an unknown value counts as set: it will be known later). */
export function isSet(value: unknown): boolean {
  return value === UNKNOWN || (typeof value === "string" && value.trim() !== "");
}

/**
 * Does the value of `source`'s input `prop` name `target`? As the C# offline check decides: an
 * offline-plan reference `${<target name>.<output>}`, or the target's bucket name or id; at
 * preview time also the engine's record that the input depends on the target.
 */
export function links(source: AuditResource, prop: string, target: AuditResource, value: unknown = get(source.props, prop)): boolean {
  if ((source.propertyDependencies?.[prop] ?? []).includes(target.urn)) {
    return true;
  }
  return refersTo(value, target);
}

export function refersTo(value: unknown, target: AuditResource): boolean {
  if (typeof value !== "string" || value === "") {
    return false;
  }
  if (value.startsWith("${" + target.name + ".")) {
    return true;
  }
  return [get(target.props, "bucket"), get(target.props, "id")].some((own) => typeof own === "string" && own !== "" && own === value);
}

/** True, or the string "true" (the offline check accepts both). */
export function isTrue(value: unknown): boolean {
  return value === true || value === "true";
}

export function isFalse(value: unknown): boolean {
  return value === false || value === "false";
}

export function text(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

export function num(value: unknown): number | undefined {
  if (typeof value === "number") return value;
  if (typeof value === "string" && value.trim() !== "" && !Number.isNaN(Number(value))) return Number(value);
  return undefined;
}

/** A string or an array of strings (booleans as "true"/"false"), as policy documents write them. */
export function strings(value: unknown): string[] {
  return asArray(value)
    .map((v) => (typeof v === "boolean" ? String(v) : v))
    .filter((v): v is string => typeof v === "string");
}

export function byType(resources: readonly AuditResource[], type: string): AuditResource[] {
  return resources.filter((r) => r.type === type);
}

export function label(r: AuditResource): string {
  return `${r.type.split(":").pop()} '${r.name}'`;
}

export function principalServices(statement: any): string[] {
  const principal = get(statement, "Principal");
  return asArray<string>(get(principal, "Service")).filter((s) => typeof s === "string");
}

export function actions(statement: any): string[] {
  return asArray<string>(get(statement, "Action")).filter((s) => typeof s === "string");
}

export function allowsService(document: unknown, service: string, actionPrefix: string): boolean {
  return statements(document).some(
    (s) =>
      get(s, "Effect") === "Allow" &&
      principalServices(s).includes(service) &&
      actions(s).some((a) => a.toLowerCase().startsWith(actionPrefix.toLowerCase())),
  );
}

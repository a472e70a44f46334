// Derives the broken fixtures from the two compliant ones: each mutation breaks one invariant in
// one way and names the violations it must produce. The files are committed (the C# offline check
// reads them too); the tests fail when they differ from what this generator produces.
//   node bin/tools/fixtures.js --write     regenerates policy/fixtures/*.json
import * as fs from "fs";
import * as path from "path";

export const fixturesDir = path.resolve(__dirname, "..", "..", "fixtures");

export interface Fixture {
  description: string;
  expectedViolations: string[];
  stackTags?: Record<string, string>;
  config?: Record<string, Record<string, unknown>>;
  plan: any;
}

interface Mutation {
  file: string;
  base: "audit" | "prod";
  description: string;
  expected: string[];
  config?: Fixture["config"];
  stackTags?: Record<string, string>;
  mutate: (plan: any) => void;
}

function resource(plan: any, name: string): any {
  for (const c of plan.components) {
    const r = c.resources.find((x: any) => x.name === name);
    if (r) return r;
  }
  throw new Error(`fixture plan has no resource '${name}'`);
}

function props(plan: any, name: string): any {
  return resource(plan, name).properties;
}

function remove(plan: any, predicate: (r: any) => boolean): void {
  for (const c of plan.components) {
    c.resources = c.resources.filter((r: any) => !predicate(r));
  }
}

function statementsOf(policy: any): any[] {
  return policy.Statement;
}

const TRAIL = "acme-audit-trail";
const BUCKET = "acme-audit-log-bucket";
const KEY = "acme-audit-trail-key";
const BUCKET_REF = "${acme-audit-log-bucket.bucket}";

const mutations: Mutation[] = [
  // ---- trail
  { file: "trail-organization--false", base: "prod", description: "The trail is a single-account trail.", expected: ["trail-organization"], mutate: (p) => (props(p, TRAIL).isOrganizationTrail = false) },
  { file: "trail-organization--unset", base: "prod", description: "isOrganizationTrail is not set (AWS default: false).", expected: ["trail-organization"], mutate: (p) => delete props(p, TRAIL).isOrganizationTrail },
  { file: "trail-multi-region--false", base: "prod", description: "The trail records its home region only.", expected: ["trail-multi-region"], mutate: (p) => (props(p, TRAIL).isMultiRegionTrail = false) },
  { file: "trail-global-service-events--false", base: "prod", description: "Global service events (IAM, STS) are not recorded.", expected: ["trail-global-service-events"], mutate: (p) => (props(p, TRAIL).includeGlobalServiceEvents = false) },
  {
    file: "trail-management-events--read-only", base: "prod", description: "The management-event selector keeps read-only events only.", expected: ["trail-management-events"],
    mutate: (p) => props(p, TRAIL).advancedEventSelectors[0].fieldSelectors.push({ field: "readOnly", equals: ["true"] }),
  },
  {
    file: "trail-management-events--basic-excluded", base: "prod", description: "Basic event selectors that leave management events out.", expected: ["trail-management-events"],
    mutate: (p) => {
      const t = props(p, TRAIL);
      delete t.advancedEventSelectors;
      t.eventSelectors = [{ readWriteType: "All", includeManagementEvents: false, dataResources: [{ type: "AWS::S3::Object", values: ["arn:aws:s3"] }] }];
    },
  },
  { file: "trail-log-file-validation--false", base: "prod", description: "Log file validation is off.", expected: ["trail-log-file-validation"], mutate: (p) => (props(p, TRAIL).enableLogFileValidation = false) },
  { file: "trail-log-file-validation--unset", base: "prod", description: "enableLogFileValidation is not set (AWS default: false).", expected: ["trail-log-file-validation"], mutate: (p) => delete props(p, TRAIL).enableLogFileValidation },
  { file: "trail-kms-encryption--unset", base: "prod", description: "The trail has no KMS key (SSE-S3 only).", expected: ["trail-kms-encryption"], mutate: (p) => delete props(p, TRAIL).kmsKeyId },
  { file: "trail-logging-enabled--false", base: "prod", description: "Logging is stopped.", expected: ["trail-logging-enabled"], mutate: (p) => (props(p, TRAIL).enableLogging = false) },
  // ---- trail bucket
  { file: "log-bucket-versioning--suspended", base: "audit", description: "Versioning suspended on the trail bucket.", expected: ["log-bucket-versioning"], mutate: (p) => (props(p, `${BUCKET}-versioning`).versioningConfiguration.status = "Suspended") },
  { file: "log-bucket-versioning--missing", base: "audit", description: "The trail bucket's BucketVersioning is removed.", expected: ["log-bucket-versioning"], mutate: (p) => remove(p, (r) => r.name === `${BUCKET}-versioning`) },
  { file: "log-bucket-object-lock--short-retention", base: "audit", description: "Default retention of 30 days, under the 365-day minimum.", expected: ["log-bucket-object-lock"], mutate: (p) => (props(p, `${BUCKET}-object-lock`).rule.defaultRetention.days = 30) },
  { file: "log-bucket-object-lock--missing", base: "audit", description: "No Object Lock configuration: no default retention.", expected: ["log-bucket-object-lock"], mutate: (p) => remove(p, (r) => r.name === `${BUCKET}-object-lock`) },
  { file: "log-bucket-object-lock--not-enabled", base: "audit", description: "The bucket is created without Object Lock.", expected: ["log-bucket-object-lock"], mutate: (p) => (props(p, BUCKET).objectLockEnabled = false) },
  {
    file: "log-bucket-object-lock--configured-minimum", base: "audit", description: "Compliant plan, but the pack is configured to require 400 days of retention (the plan has 365).", expected: ["log-bucket-object-lock"],
    config: { "log-bucket-object-lock": { minimumRetentionDays: 400 } }, mutate: () => undefined,
  },
  {
    file: "log-bucket-object-lock--mode-not-allowed", base: "audit", description: "GOVERNANCE retention while the pack is configured to accept COMPLIANCE only.", expected: ["log-bucket-object-lock"],
    config: { "log-bucket-object-lock": { allowedModes: ["COMPLIANCE"] } }, mutate: () => undefined,
  },
  {
    file: "log-bucket-sse-kms--aes256", base: "audit", description: "The trail bucket's default encryption is SSE-S3.", expected: ["log-bucket-sse-kms"],
    mutate: (p) => (props(p, `${BUCKET}-encryption`).rules[0].applyServerSideEncryptionByDefault = { sseAlgorithm: "AES256" }),
  },
  { file: "log-bucket-sse-kms--missing", base: "audit", description: "No default encryption configuration.", expected: ["log-bucket-sse-kms"], mutate: (p) => remove(p, (r) => r.name === `${BUCKET}-encryption`) },
  { file: "log-bucket-public-access-blocked--restrict-off", base: "audit", description: "restrictPublicBuckets is false.", expected: ["log-bucket-public-access-blocked"], mutate: (p) => (props(p, `${BUCKET}-public-access`).restrictPublicBuckets = false) },
  { file: "log-bucket-public-access-blocked--missing", base: "audit", description: "No public access block.", expected: ["log-bucket-public-access-blocked"], mutate: (p) => remove(p, (r) => r.name === `${BUCKET}-public-access`) },
  { file: "log-bucket-owner-enforced--preferred", base: "audit", description: "Object ownership BucketOwnerPreferred (ACLs enabled).", expected: ["log-bucket-owner-enforced"], mutate: (p) => (props(p, `${BUCKET}-ownership`).rule.objectOwnership = "BucketOwnerPreferred") },
  {
    file: "log-bucket-deny-insecure-transport--removed", base: "audit", description: "The bucket policy lost its DenyInsecureTransport statement.", expected: ["log-bucket-deny-insecure-transport"],
    mutate: (p) => {
      const policy = props(p, `${BUCKET}-policy`).policy;
      policy.Statement = statementsOf(policy).filter((s) => s.Sid !== "DenyInsecureTransport");
    },
  },
  {
    file: "log-bucket-deny-insecure-transport--narrowed", base: "audit", description: "The TLS deny is narrowed by an extra condition (AWS services exempt), in a policy given as a JSON string as at preview time.", expected: ["log-bucket-deny-insecure-transport"],
    mutate: (p) => {
      const r = props(p, `${BUCKET}-policy`);
      const tls = statementsOf(r.policy).find((s) => s.Sid === "DenyInsecureTransport");
      tls.Condition.Bool["aws:PrincipalIsAWSService"] = "false";
      r.policy = JSON.stringify(r.policy);
    },
  },
  { file: "log-bucket-lifecycle--missing", base: "audit", description: "No lifecycle configuration on the trail bucket.", expected: ["log-bucket-lifecycle"], mutate: (p) => remove(p, (r) => r.name === `${BUCKET}-lifecycle`) },
  { file: "log-bucket-lifecycle--early-expiration", base: "audit", description: "A lifecycle rule expires logs after 30 days.", expected: ["log-bucket-lifecycle"], mutate: (p) => (props(p, `${BUCKET}-lifecycle`).rules[0].expiration.days = 30) },
  { file: "log-bucket-access-logging--missing", base: "audit", description: "No server access logging on the trail bucket.", expected: ["log-bucket-access-logging"], mutate: (p) => remove(p, (r) => r.name === `${BUCKET}-logging`) },
  { file: "log-bucket-access-logging--to-itself", base: "audit", description: "Access logs delivered into the trail bucket itself.", expected: ["log-bucket-access-logging"], mutate: (p) => (props(p, `${BUCKET}-logging`).targetBucket = BUCKET_REF) },
  // ---- trail key
  { file: "trail-key-rotation--off", base: "audit", description: "Automatic rotation of the trail key is off.", expected: ["trail-key-rotation"], mutate: (p) => (props(p, KEY).enableKeyRotation = false) },
  { file: "trail-key-deletion-window--7-days", base: "audit", description: "A 7-day deletion window, under the 30-day minimum.", expected: ["trail-key-deletion-window"], mutate: (p) => (props(p, KEY).deletionWindowInDays = 7) },
  // ---- detection
  {
    file: "detection-bus-organization-only--open", base: "audit", description: "The bus policy lets any AWS account put events (no aws:PrincipalOrgID condition).", expected: ["detection-bus-organization-only"],
    mutate: (p) => delete statementsOf(props(p, "acme-audit-detection-bus-policy").policy)[0].Condition,
  },
  {
    file: "detection-bus-organization-only--other-org", base: "audit", description: "The bus accepts another organization than the configured one.", expected: ["detection-bus-organization-only"],
    config: { "detection-bus-organization-only": { organizationId: "o-zzzzzzzzzz" } }, mutate: () => undefined,
  },
  { file: "detection-rule-enabled--disabled", base: "audit", description: "A detection rule is DISABLED.", expected: ["detection-rule-enabled"], mutate: (p) => (props(p, "acme-audit-detect-root-account-use").state = "DISABLED") },
  // ---- the stack
  { file: "audit-resources-protected--key", base: "audit", description: "The trail key lost protect: true.", expected: ["audit-resources-protected"], mutate: (p) => delete resource(p, KEY).protect },
  { file: "audit-resources-protected--bucket", base: "audit", description: "The trail bucket lost protect: true.", expected: ["audit-resources-protected"], mutate: (p) => delete resource(p, BUCKET).protect },
  { file: "audit-resources-protected--trail", base: "prod", description: "The trail lost protect: true.", expected: ["audit-resources-protected"], mutate: (p) => delete resource(p, TRAIL).protect },
  {
    file: "audit-resources-present--bucket-removed", base: "audit", description: "The trail bucket and its configuration are removed from the audit stack (the update would delete them).", expected: ["audit-resources-present"],
    mutate: (p) => remove(p, (r) => r.name === BUCKET || r.properties?.bucket === BUCKET_REF),
  },
  { file: "audit-resources-present--key-removed", base: "audit", description: "The trail key is removed from the audit stack; the bucket still encrypts with its (now dangling) reference.", expected: ["audit-resources-present"], mutate: (p) => remove(p, (r) => r.name === KEY) },
  { file: "audit-resources-present--trail-removed", base: "prod", description: "The organization trail is removed from the management stack.", expected: ["audit-resources-present"], mutate: (p) => remove(p, (r) => r.name === TRAIL) },
];

/** Compliant variants: the same design in other legal shapes must still pass. */
const variants: Mutation[] = [
  {
    file: "audit-compliant--preview-strings", base: "audit", description: "Every policy document as a JSON string, as the engine passes them at preview time.", expected: [],
    mutate: (p) => {
      for (const c of p.components) for (const r of c.resources) if (r.properties.policy && typeof r.properties.policy === "object") r.properties.policy = JSON.stringify(r.properties.policy);
    },
  },
  {
    file: "prod-compliant--basic-selectors", base: "prod", description: "Basic event selectors recording all management events, defaults left unset (includeGlobalServiceEvents, enableLogging).", expected: [],
    mutate: (p) => {
      const t = props(p, TRAIL);
      delete t.advancedEventSelectors;
      delete t.includeGlobalServiceEvents;
      delete t.enableLogging;
      t.eventSelectors = [{ readWriteType: "All", includeManagementEvents: true }];
    },
  },
];

export function loadFixture(file: string): Fixture {
  return JSON.parse(fs.readFileSync(path.join(fixturesDir, file), "utf8")) as Fixture;
}

export function generate(): Map<string, Fixture> {
  const bases = { audit: loadFixture("audit-compliant.json"), prod: loadFixture("prod-compliant.json") };
  const out = new Map<string, Fixture>();
  for (const m of [...mutations, ...variants]) {
    const plan = JSON.parse(JSON.stringify(bases[m.base].plan));
    m.mutate(plan);
    const fixture: Fixture = {
      description: m.description,
      expectedViolations: m.expected,
      ...(m.config ? { config: m.config } : {}),
      ...(m.stackTags ? { stackTags: m.stackTags } : {}),
      plan,
    };
    out.set(`${m.file}.json`, fixture);
  }
  return out;
}

export function serialize(f: Fixture): string {
  return JSON.stringify(f, null, 2) + "\n";
}

if (require.main === module) {
  if (process.argv.includes("--write")) {
    for (const [file, fixture] of generate()) {
      fs.writeFileSync(path.join(fixturesDir, file), serialize(fixture));
    }
    console.log(`wrote ${generate().size} fixtures to ${fixturesDir}`);
  } else {
    console.log("usage: node bin/tools/fixtures.js --write");
  }
}

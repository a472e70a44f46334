// Shapes only a preview produces: resources linked through the engine's propertyDependencies,
// values unknown until the update, ids instead of plan references, stacks without a role tag.
import { after, before, describe, test } from "node:test";
import * as assert from "node:assert/strict";
import { specs } from "../src/checks";
import { logBuckets, stackRoles, trailKeys } from "../src/identify";
import { AuditResource } from "../src/model";
import { PackProcess } from "./support/engine";
import { clone, loadFixtures, sharedFixturesDir } from "./support/fixtures";

const audit = loadFixtures(sharedFixturesDir).find((f) => f.file === "audit-compliant.json")!;
const prod = loadFixtures(sharedFixturesDir).find((f) => f.file === "prod-compliant.json")!;

function run(id: string, resources: AuditResource[], tags: Record<string, string> = {}): string[] {
  const spec = specs.find((s) => s.id === id)!;
  return spec.stackCheck!(resources, {}, new Map(Object.entries(tags))).map((f) => f.message);
}

function res(type: string, name: string, props: Record<string, any>, extra: Partial<AuditResource> = {}): AuditResource {
  return { type, name, urn: `urn:pulumi:audit::auditinfra::${type}::${name}`, props, protect: false, ...extra };
}

describe("the integrity monitor at preview time: policies as JSON strings, roles linked by dependency", () => {
  const trust = JSON.stringify({ Statement: [{ Effect: "Allow", Principal: { Service: "ecs-tasks.amazonaws.com" }, Action: "sts:AssumeRole" }] });
  const role = res("aws:iam/role:Role", "integrity-task-role", { name: "acme-audit-integrity-task", assumeRolePolicy: trust });
  // The role's id is unknown until it exists: the engine records the dependency instead.
  const policy = (actions: string[]) => res("aws:iam/rolePolicy:RolePolicy", "integrity-task-role-policy",
    { role: undefined, policy: JSON.stringify({ Statement: [{ Sid: "State", Effect: "Allow", Action: actions, Resource: "arn:aws:s3:::state/*" }] }) },
    { propertyDependencies: { role: [role.urn] } });
  const key = (signer: string) => res("aws:kms/key:Key", "attestation-key", {
    keyUsage: "SIGN_VERIFY",
    customerMasterKeySpec: "RSA_3072",
    policy: JSON.stringify({ Statement: [{ Effect: "Allow", Principal: { AWS: signer }, Action: "kms:Sign*", Resource: "*" }] }),
  });

  test("a delete granted to a task role through a dependency-linked policy is found", () => {
    assert.deepEqual(run("monitor-task-role-no-delete", [role, policy(["s3:GetObject", "s3:PutObject"])]), []);
    const messages = run("monitor-task-role-no-delete", [role, policy(["s3:GetObject", "s3:deleteobject*"])]);
    assert.equal(messages.length, 2);
    assert.match(messages[0], /allows s3:DeleteObject to role 'integrity-task-role'/);
  });

  test("kms:Sign through a wildcard is allowed to the task role by its ARN, to nothing else", () => {
    assert.deepEqual(run("monitor-kms-sign-only-task-role", [role, key("arn:aws:iam::222222222222:role/acme-audit-integrity-task")]), []);
    assert.equal(run("monitor-kms-sign-only-task-role", [role, key("arn:aws:iam::222222222222:role/acme-audit-*")]).length, 1);
    assert.equal(run("monitor-kms-sign-only-task-role", [role, key("arn:aws:iam::222222222222:root")]).length, 1);
  });
});

describe("the role the audit stack acts through, at preview time", () => {
  const lockdown = (exempt: string[]) => res("aws:organizations/policy:Policy", "lockdown", {
    type: "SERVICE_CONTROL_POLICY",
    content: JSON.stringify({ Statement: [{ Sid: "DenyWrites", Effect: "Deny", Action: "s3:PutObject", Resource: "*", Condition: { ArnNotLike: { "aws:PrincipalArn": exempt } } }] }),
  });
  const attach = res("aws:organizations/policyAttachment:PolicyAttachment", "lockdown-attachment", { policyId: "${lockdown.id}", targetId: "ou-ab12-security1" });
  // The engine shows a resource's provider on the resource, with provider inputs as JSON strings.
  const provider = (role: string) => ({ type: "pulumi:providers:aws", name: "audit-provider", urn: "urn:pulumi:audit::auditinfra::pulumi:providers:aws::audit-provider", props: { assumeRoles: JSON.stringify([{ roleArn: role }]) } });
  const inside = (role: string) => res("aws:iam/role:Role", "auditor", {}, { provider: provider(role) });

  test("a provider seen only on the resources it creates is checked against every deny", () => {
    const deploy = "arn:aws:iam::222222222222:role/auditinfra-deployment";
    assert.deepEqual(run("audit-stack-role-exempt", [lockdown([deploy]), attach, inside(deploy)], { "auditinfra:role": "audit" }), []);
    const messages = run("audit-stack-role-exempt", [lockdown([deploy]), attach, inside("arn:aws:iam::222222222222:role/OrganizationAccountAccessRole")], { "auditinfra:role": "audit" });
    assert.equal(messages.length, 1);
    assert.match(messages[0], /statement DenyWrites of 'lockdown' denies arn:aws:iam::222222222222:role\/OrganizationAccountAccessRole/);
  });

  test("an ArnNotLike wildcard exempts the role it matches, and only that", () => {
    const tags = { "auditinfra:role": "audit" };
    assert.deepEqual(run("audit-stack-role-exempt", [lockdown(["arn:aws:iam::222222222222:role/auditinfra-*"]), attach, inside("arn:aws:iam::222222222222:role/auditinfra-deployment")], tags), []);
    assert.equal(run("audit-stack-role-exempt", [lockdown(["arn:aws:iam::222222222222:role/auditinfra-?"]), attach, inside("arn:aws:iam::222222222222:role/auditinfra-deployment")], tags).length, 1);
  });

  test("the lock-down attachment must depend on each resource created through the assuming provider", () => {
    const deploy = "arn:aws:iam::222222222222:role/auditinfra-deployment";
    const tags = { "auditinfra:role": "audit" };
    const role = inside(deploy);
    const waiting = { ...attach, dependencies: [role.urn] };
    assert.deepEqual(run("audit-lockdown-after-contents", [lockdown([deploy]), waiting, role], tags), []);
    const messages = run("audit-lockdown-after-contents", [lockdown([deploy]), attach, role], tags);
    assert.equal(messages.length, 1);
    assert.match(messages[0], /does not wait for 'auditor'/);
  });

  test("an SCP that is not attached locks nobody out; the prod stack is not checked", () => {
    const role = "arn:aws:iam::222222222222:role/OrganizationAccountAccessRole";
    assert.deepEqual(run("audit-stack-role-exempt", [lockdown([]), inside(role)], { "auditinfra:role": "audit" }), []);
    assert.deepEqual(run("audit-stack-role-exempt", [lockdown([]), attach, inside(role)], { "auditinfra:role": "management" }), []);
  });
});

describe("identification at preview time", () => {
  test("a sub-resource whose bucket input is unknown still links through propertyDependencies", () => {
    const bucket = res("aws:s3/bucket:Bucket", "logs", { bucket: "acme-logs" }, { protect: true });
    const policy = res("aws:s3/bucketPolicy:BucketPolicy", "logs-policy", {
      policy: JSON.stringify({ Statement: [{ Effect: "Allow", Principal: { Service: "cloudtrail.amazonaws.com" }, Action: "s3:PutObject", Resource: "*" }] }),
    }, { propertyDependencies: { bucket: [bucket.urn] } });
    const versioning = res("aws:s3/bucketVersioning:BucketVersioning", "logs-versioning", { versioningConfiguration: { status: "Enabled" } }, { propertyDependencies: { bucket: [bucket.urn] } });
    const resources = [bucket, policy, versioning];
    assert.deepEqual(logBuckets(resources).map((b) => b.name), ["logs"]);
    assert.deepEqual(run("bucket-versioning", resources), []);
    assert.equal(run("bucket-tls-only", resources).length, 1, "the policy has no TLS deny");
  });

  test("a sub-resource naming the bucket by its name (not a plan reference) links to it", () => {
    const bucket = res("aws:s3/bucket:Bucket", "logs", { bucket: "acme-logs" });
    const versioning = res("aws:s3/bucketVersioning:BucketVersioning", "v", { bucket: "acme-logs", versioningConfiguration: { status: "Suspended" } });
    assert.equal(run("bucket-versioning", [bucket, versioning]).length, 1);
  });

  test("the trail key is the key named by the log bucket's encryption: by reference, by ARN or by dependency", () => {
    const bucket = res("aws:s3/bucket:Bucket", "logs", { bucket: "acme-logs" }, { protect: true });
    const key = res("aws:kms/key:Key", "k", { arn: "arn:aws:kms:us-east-1:222222222222:key/1234" });
    const other = res("aws:kms/key:Key", "other", { arn: "arn:aws:kms:us-east-1:222222222222:key/9999" });
    const sse = (kms: string) => res("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "sse", { bucket: "acme-logs", rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: kms } }] });
    assert.deepEqual(trailKeys([bucket, key, other, sse("${k.arn}")]).map((k) => k.name), ["k"]);
    assert.deepEqual(trailKeys([bucket, key, other, sse("arn:aws:kms:us-east-1:222222222222:key/1234")]).map((k) => k.name), ["k"]);
    const byDep = { ...sse(""), propertyDependencies: { rules: [key.urn] } };
    assert.deepEqual(trailKeys([bucket, key, other, byDep]).map((k) => k.name), ["k"]);
    assert.deepEqual(run("resources-protected", [bucket, key, other, sse("${k.arn}")]), ["the trail key 'k' must be protected (protect: true): an update that deletes or replaces it must fail"]);
  });

  test("an SCP attachment names its policy by id at preview (the last segment of the policy ARN)", () => {
    const scp = res("aws:organizations/policy:Policy", "g", { type: "SERVICE_CONTROL_POLICY", arn: "arn:aws:organizations::111111111111:policy/o-a1b2c3d4e5/service_control_policy/p-abcd1234" });
    const attached = res("aws:organizations/policyAttachment:PolicyAttachment", "a", { policyId: "p-abcd1234", targetId: "r-ab12" });
    const elsewhere = res("aws:organizations/policyAttachment:PolicyAttachment", "a", { policyId: "p-zzzz9999", targetId: "r-ab12" });
    assert.deepEqual(run("guardrails-attached", [scp, attached]), []);
    assert.equal(run("guardrails-attached", [scp, elsewhere]).length, 1);
    const byDep = { ...elsewhere, propertyDependencies: { policyId: [scp.urn] } };
    assert.deepEqual(run("guardrails-attached", [scp, byDep]), []);
    const tagPolicy = res("aws:organizations/policy:Policy", "t", { type: "TAG_POLICY" });
    assert.deepEqual(run("guardrails-attached", [tagPolicy]), [], "only SCPs must be attached");
  });
});

describe("the stack's role", () => {
  test("the auditinfra:role stack tag decides; without it, the components the stack deploys", () => {
    assert.deepEqual(stackRoles([], new Map([["auditinfra:role", "management"]])), ["management"]);
    assert.deepEqual(stackRoles([res("auditinfra:storage:LogArchive", "la", {})], new Map()), ["audit"]);
    assert.deepEqual(stackRoles([res("auditinfra:trail:OrganizationTrail", "t", {})], new Map()), ["management"]);
    assert.deepEqual(stackRoles([], new Map()), []);
  });

  test("a stack whose role is unknown requires nothing; a tagged one requires its resources", () => {
    assert.deepEqual(run("log-bucket-present", []), []);
    assert.equal(run("log-bucket-present", [], { "auditinfra:role": "audit" }).length, 1);
    assert.equal(run("trail-organization", [], { "auditinfra:role": "management" }).length, 1);
    assert.deepEqual(run("trail-organization", [], { "auditinfra:role": "audit" }), []);
  });

  test("removing the bucket but keeping the LogArchive component is caught without a tag", () => {
    assert.equal(run("log-bucket-present", [res("auditinfra:storage:LogArchive", "la", {})]).length, 1);
  });
});

describe("unknown values in the real pack", () => {
  let pack: PackProcess;
  before(async () => {
    pack = await PackProcess.start();
  });
  after(() => pack.stop());
  const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"; // the engine's unknown-value sentinel

  test("a trail whose kmsKeyId and flags are not known yet is not reported", async () => {
    const plan = clone(prod.plan);
    const trail = plan.components.flatMap((c) => c.resources).find((r) => r.type === "aws:cloudtrail/trail:Trail")!;
    trail.properties!.kmsKeyId = UNKNOWN;
    trail.properties!.isMultiRegionTrail = UNKNOWN; // would fail if read as a plain string
    await pack.configure({});
    await pack.configureStack("prod", { "auditinfra:role": "management" });
    const mandatory = (await pack.analyze(plan)).filter((d) => d.enforcementLevel === 1);
    assert.deepEqual(mandatory, []);
  });

  test("a trail whose kmsKeyId is removed is reported", async () => {
    const plan = clone(prod.plan);
    const trail = plan.components.flatMap((c) => c.resources).find((r) => r.type === "aws:cloudtrail/trail:Trail")!;
    delete trail.properties!.kmsKeyId;
    await pack.configure({});
    await pack.configureStack("prod", { "auditinfra:role": "management" });
    assert.deepEqual([...new Set((await pack.analyze(plan)).map((d) => d.policy))], ["trail-kms-encrypted"]);
  });

  test("an unknown key ARN in the log bucket's encryption does not stop the stack policies", async () => {
    const plan = clone(audit.plan);
    const sse = plan.components.flatMap((c) => c.resources).find((r) => r.name.endsWith("log-bucket-encryption") && !r.name.includes("access"))!;
    sse.properties!.rules[0].applyServerSideEncryptionByDefault.kmsMasterKeyId = UNKNOWN;
    await pack.configure({});
    await pack.configureStack("audit", { "auditinfra:role": "audit" });
    const diagnostics = await pack.analyze(plan);
    assert.deepEqual(diagnostics.filter((d) => d.enforcementLevel === 1), []);
    assert.deepEqual(diagnostics.filter((d) => /can't run/.test(d.message)), [], "every policy ran");
  });
});

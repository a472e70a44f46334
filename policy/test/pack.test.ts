// The PolicyPack's wiring: names, enforcement, descriptions and configuration schemas, read back
// from the running pack (GetAnalyzerInfo) and from the policy objects.
import { after, before, describe, test } from "node:test";
import * as assert from "node:assert/strict";
import { PACK_NAME, buildPolicies, configWithDefaults, specOf } from "../src/policies";
import { packOnly, specs } from "../src/checks";
import { shared } from "../src/invariants";
import { PackProcess } from "./support/engine";

describe("policy objects", () => {
  const policies = buildPolicies();

  test("one policy per shared invariant, named by its id, then the pack-only policies", () => {
    assert.deepEqual(
      policies.map((p) => p.name),
      [...shared.invariants.map((i) => i.id), ...packOnly.map((p) => p.id)],
    );
    assert.equal(new Set(policies.map((p) => p.name)).size, policies.length);
  });

  test("every policy is mandatory and names its controls", () => {
    for (const p of policies) {
      assert.equal(p.enforcementLevel, "mandatory", p.name);
      const inv = shared.invariants.find((i) => i.id === p.name) ?? packOnly.find((i) => i.id === p.name)!;
      assert.ok(p.description.startsWith(inv.description), p.name);
      for (const control of inv.controls) assert.ok(p.description.includes(control), `${p.name}: ${control}`);
    }
  });

  test("every invariant names the CIS / Security Hub control it protects (guardrails-attached: no standard control)", () => {
    assert.deepEqual(shared.invariants.filter((i) => i.controls.length === 0).map((i) => i.id), ["guardrails-attached"]);
  });

  test("the pack implements exactly the shared ids (no more, no fewer)", () => {
    assert.deepEqual(specs.map((s) => s.id).sort(), shared.invariants.map((i) => i.id).sort());
  });

  test("resource policies are bound to a Pulumi.Aws 7 type token", () => {
    const tokens = new Set(shared.invariants.map((i) => i.resourceType));
    for (const s of [...specs, ...packOnly].filter((x) => x.kind === "resource")) {
      assert.match(s.resourceType!, /^aws:[a-z0-9]+\/[a-zA-Z0-9]+:[A-Z][A-Za-z0-9]+$/, s.id);
      if (shared.invariants.some((i) => i.id === s.id)) assert.ok(tokens.has(s.resourceType!), s.id);
    }
  });

  test("configuration schemas carry defaults; the defaults reproduce the offline check", () => {
    for (const s of [...specs, ...packOnly]) {
      for (const [key, schema] of Object.entries(s.config ?? {})) {
        assert.ok("default" in schema, `${s.id}.${key} has a default`);
        assert.ok(schema.description.length > 0, `${s.id}.${key} is described`);
      }
    }
    assert.equal(configWithDefaults(specOf("key-deletion-window")!, undefined).minimumDeletionWindowDays, shared.parameters.minimumKeyDeletionWindowDays);
    assert.equal(configWithDefaults(specOf("bucket-object-lock")!, { minimumRetentionDays: 90, enforcementLevel: "mandatory" }).minimumRetentionDays, 90);
    assert.ok(!("enforcementLevel" in configWithDefaults(specOf("bucket-object-lock")!, { enforcementLevel: "mandatory" })));
  });

  test("a resource policy ignores other resource types", () => {
    const rotation = policies.find((p) => p.name === "key-rotation")!;
    const reports: string[] = [];
    const validate = (rotation as any).validateResource;
    const args = (type: string) => ({ type, name: "x", urn: "urn:x", props: { enableKeyRotation: false }, opts: {}, getConfig: () => ({}) });
    validate(args("aws:s3/bucket:Bucket"), (m: string) => reports.push(m));
    assert.equal(reports.length, 0);
    validate(args("aws:kms/key:Key"), (m: string) => reports.push(m));
    assert.equal(reports.length, 1);
    assert.match(reports[0], /\[CIS 3\.6\] x: enableKeyRotation must be true/);
  });
});

describe("the running pack (GetAnalyzerInfo)", () => {
  let pack: PackProcess;
  before(async () => {
    pack = await PackProcess.start();
  });
  after(() => pack.stop());

  test("serves every policy, mandatory, with its config schema", async () => {
    const info = await pack.info();
    assert.equal(info.name, PACK_NAME);
    const names = info.policiesList.map((p: any) => p.name);
    assert.deepEqual(names, [...shared.invariants.map((i) => i.id), ...packOnly.map((p) => p.id)]);
    for (const p of info.policiesList) assert.equal(p.enforcementlevel, 1, p.name);
    const schema = info.policiesList.find((p: any) => p.name === "key-deletion-window").configschema;
    assert.ok(JSON.stringify(schema).includes("minimumDeletionWindowDays"));
  });
});

// Every fixture, through the pure checks and through the real pack over gRPC: exactly the expected
// violation ids. policy/fixtures is shared with the C# offline check (DesignCheckTests reads the
// same files), so the two implementations cannot drift apart.
import { after, before, describe, test } from "node:test";
import * as assert from "node:assert/strict";
import { evaluatePlan } from "../src/evaluate";
import { shared } from "../src/invariants";
import { packOnly, specs } from "../src/checks";
import { PackProcess, stackTagsFor } from "./support/engine";
import { loadFixtures, packFixturesDir, sharedFixturesDir } from "./support/fixtures";

const sharedFixtures = loadFixtures(sharedFixturesDir);
const packFixtures = loadFixtures(packFixturesDir);
const all = [...sharedFixtures.map((f) => ({ ...f, set: "shared" })), ...packFixtures.map((f) => ({ ...f, set: "pack" }))];

function ids(list: { policy: string }[]): string[] {
  return [...new Set(list.map((v) => v.policy))].sort();
}

describe("fixtures through the pure checks", () => {
  for (const f of all) {
    test(`${f.set}/${f.file}: ${f.description}`, () => {
      const violations = evaluatePlan(f.plan, { config: f.config, stackTags: f.stackTags });
      assert.deepEqual(ids(violations), [...f.expectedViolations].sort(), JSON.stringify(violations, null, 1));
    });
  }
});

describe("fixtures through the real policy pack (gRPC, as the Pulumi engine calls it)", () => {
  let pack: PackProcess;
  before(async () => {
    pack = await PackProcess.start();
  });
  after(() => pack.stop());
  for (const f of all) {
    test(`${f.set}/${f.file}`, async () => {
      await pack.configure(f.config ?? {});
      await pack.configureStack(f.plan.stack, f.stackTags ?? stackTagsFor(f.plan));
      const diagnostics = await pack.analyze(f.plan);
      assert.deepEqual(ids(diagnostics), [...f.expectedViolations].sort(), JSON.stringify(diagnostics, null, 1));
      for (const d of diagnostics) {
        assert.equal(d.enforcementLevel, 1, `${d.policy} must be mandatory`); // pulumirpc.EnforcementLevel.MANDATORY
        assert.ok(d.message.length > 0);
      }
    });
  }
});

describe("coverage", () => {
  test("every shared invariant is broken by at least one shared fixture", () => {
    const broken = new Set(sharedFixtures.flatMap((f) => f.expectedViolations));
    assert.deepEqual(shared.invariants.map((i) => i.id).filter((id) => !broken.has(id)), []);
  });

  test("shared fixtures name only shared invariant ids", () => {
    const known = new Set(shared.invariants.map((i) => i.id));
    assert.deepEqual(sharedFixtures.flatMap((f) => f.expectedViolations).filter((id) => !known.has(id)), []);
  });

  test("every pack-only policy is broken by a pack fixture", () => {
    const broken = new Set(packFixtures.flatMap((f) => f.expectedViolations));
    assert.deepEqual(packOnly.map((p) => p.id).filter((id) => !broken.has(id)), []);
  });

  test("every configuration property is exercised by a pack fixture", () => {
    const configured = new Set(packFixtures.flatMap((f) => Object.entries(f.config ?? {}).flatMap(([policy, c]) => Object.keys(c).map((k) => `${policy}.${k}`))));
    const declared = [...specs, ...packOnly].flatMap((s) => Object.keys(s.config ?? {}).map((k) => `${s.id}.${k}`));
    assert.deepEqual(declared.filter((k) => !configured.has(k)), []);
  });

  test("compliant fixtures exist for both stacks", () => {
    for (const stack of ["audit", "prod"]) {
      const f = sharedFixtures.find((x) => x.file === `${stack}-compliant.json`);
      assert.ok(f, `${stack}-compliant.json`);
      assert.deepEqual(f.expectedViolations, []);
      assert.equal(f.plan.stack, stack);
    }
  });
});

// policy/fixtures are generated: each broken fixture is its stack's compliant fixture plus one
// RFC 6902 patch (policy/fixtures/patches). These tests hold the committed files to that, so a
// fixture can be reviewed as its patch and rebuilt after a change of the design.
import { describe, test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { applyPatch, baseOf, diff, fixturesDir, generate, Json, Operation, patchesDir, stale } from "../tools/fixtures";

// Fixtures that are not a patch of a compliant one: the rendered plans themselves (checked against
// `auditinfra plan` by the C# DesignCheckTests) and the preview shape (written by hand).
const unpatched = ["audit-compliant.json", "audit-compliant-preview-shape.json", "prod-compliant.json"];

const fixtures = fs.readdirSync(fixturesDir).filter((f) => f.endsWith(".json")).sort();
const patches = fs.readdirSync(patchesDir).filter((f) => f.endsWith(".json")).sort();

describe("policy/fixtures are what their patches make", () => {
  test("every committed fixture equals the generator's output, byte for byte", () => {
    assert.deepEqual(stale(), [], "rebuild them: cd policy && npm run build && node bin/tools/fixtures.js --write");
  });

  test("every broken fixture has a patch, and every patch a fixture", () => {
    assert.deepEqual(fixtures.filter((f) => !unpatched.includes(f) && !patches.includes(f)), [], "write the patch: node bin/tools/fixtures.js --extract <fixture> (docs/policy.md)");
    assert.deepEqual(patches.filter((p) => !fixtures.includes(p)), [], "a patch without its fixture: node bin/tools/fixtures.js --write");
  });

  test("each patch starts from its stack's compliant fixture and names its violations", () => {
    for (const g of generate()) {
      const fixture = JSON.parse(g.text);
      assert.equal(fixture.plan.stack, baseOf(g.fixture).replace("-compliant.json", ""), g.fixture);
      assert.ok(fixture.expectedViolations.length > 0, `${g.fixture}: a broken fixture expects at least one violation`);
      assert.notEqual(fixture.description, JSON.parse(fs.readFileSync(path.join(fixturesDir, baseOf(g.fixture)), "utf8")).description, `${g.fixture}: say what is broken`);
    }
  });

  test("every change inside a plan resource is guarded by a test of the resource's name", () => {
    for (const p of patches) {
      const ops = JSON.parse(fs.readFileSync(path.join(patchesDir, p), "utf8")) as Operation[];
      ops.forEach((op, i) => {
        const resource = /^\/plan\/components\/\d+\/resources\/\d+/.exec(op.path)?.[0];
        if (resource && op.op !== "test") {
          const guard = ops.slice(0, i).reverse().find((o) => o.op === "test" && o.path === `${resource}/name`);
          assert.ok(guard, `${p}: operation ${i} (${op.op} ${op.path}) changes a resource without testing its name first`);
        }
      });
    }
  });
});

describe("the generator's JSON Patch (RFC 6902)", () => {
  const doc: Json = { a: { b: [1, 2, 3] }, "x/y": { "~t": 1 } };

  test("add, remove, replace, move, copy and test as RFC 6902 defines them", () => {
    assert.deepEqual(applyPatch(doc, [{ op: "add", path: "/a/b/-", value: 4 }]), { a: { b: [1, 2, 3, 4] }, "x/y": { "~t": 1 } });
    assert.deepEqual(applyPatch(doc, [{ op: "add", path: "/a/b/0", value: 0 }]), { a: { b: [0, 1, 2, 3] }, "x/y": { "~t": 1 } });
    assert.deepEqual(applyPatch(doc, [{ op: "remove", path: "/a/b/1" }]), { a: { b: [1, 3] }, "x/y": { "~t": 1 } });
    assert.deepEqual(applyPatch(doc, [{ op: "replace", path: "/x~1y/~0t", value: 2 }]), { a: { b: [1, 2, 3] }, "x/y": { "~t": 2 } });
    assert.deepEqual(applyPatch(doc, [{ op: "move", from: "/a/b", path: "/c" }]), { a: {}, "x/y": { "~t": 1 }, c: [1, 2, 3] });
    assert.deepEqual(applyPatch(doc, [{ op: "copy", from: "/a/b/2", path: "/a/b/0" }]), { a: { b: [3, 1, 2, 3] }, "x/y": { "~t": 1 } });
    assert.deepEqual(applyPatch(doc, [{ op: "test", path: "/a", value: { b: [1, 2, 3] } }]), doc);
  });

  test("a failing test, a missing path or an index past the end stops the patch, naming the operation", () => {
    assert.throws(() => applyPatch(doc, [{ op: "add", path: "/c", value: 1 }, { op: "test", path: "/a/b/0", value: 9 }]), /operation 1 \(test \/a\/b\/0\): test failed/);
    assert.throws(() => applyPatch(doc, [{ op: "remove", path: "/a/nope" }]), /operation 0 \(remove \/a\/nope\): .*does not exist/);
    assert.throws(() => applyPatch(doc, [{ op: "replace", path: "/a/b/3", value: 1 }]), /out of range/);
    assert.throws(() => applyPatch(doc, [{ op: "add", path: "/a/b/01", value: 1 }]), /not an array index/);
  });

  test("the source document is never changed", () => {
    const before = JSON.stringify(doc);
    applyPatch(doc, [{ op: "remove", path: "/a/b/0" }, { op: "add", path: "/z", value: 1 }]);
    assert.equal(JSON.stringify(doc), before);
  });

  test("diff then apply gives back the edited document, on every committed fixture", () => {
    for (const f of fixtures.filter((x) => !unpatched.includes(x))) {
      const base = JSON.parse(fs.readFileSync(path.join(fixturesDir, baseOf(f)), "utf8"));
      const edited = JSON.parse(fs.readFileSync(path.join(fixturesDir, f), "utf8"));
      assert.equal(JSON.stringify(applyPatch(base, diff(base, edited))), JSON.stringify(edited), f);
    }
  });

  test("a patch applied to a plan whose resources moved fails instead of breaking another resource", () => {
    const base = JSON.parse(fs.readFileSync(path.join(fixturesDir, "audit-compliant.json"), "utf8"));
    const patch = JSON.parse(fs.readFileSync(path.join(patchesDir, "audit-key-no-rotation.json"), "utf8")) as Operation[];
    const moved = JSON.parse(JSON.stringify(base));
    const guarded = patch.find((o) => o.op === "test")!.path.replace(/\/name$/, "");
    const [, component] = /^\/plan\/components\/(\d+)\//.exec(guarded)!;
    moved.plan.components[Number(component)].resources.reverse();
    assert.throws(() => applyPatch(moved, patch), /test failed/);
  });
});

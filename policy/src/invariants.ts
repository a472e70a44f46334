// The shared list of invariants (policy/invariants.json, also embedded in the C# offline check):
// the pack's policy names, descriptions and controls come from it, so the pack and the offline
// check implement the same ids and are tested on the same fixtures (policy/fixtures).
import * as fs from "fs";
import * as path from "path";

export interface Invariant {
  readonly id: string;
  readonly resourceType: string;
  readonly description: string;
  readonly controls: readonly string[];
}

export interface InvariantFile {
  readonly description: string;
  readonly parameters: { readonly minimumKeyDeletionWindowDays: number };
  readonly invariants: readonly Invariant[];
}

export const invariantsPath = path.resolve(__dirname, "..", "..", "invariants.json");

export function loadInvariantFile(file: string = invariantsPath): InvariantFile {
  return JSON.parse(fs.readFileSync(file, "utf8")) as InvariantFile;
}

export const shared: InvariantFile = loadInvariantFile();

export function invariant(id: string): Invariant {
  const found = shared.invariants.find((i) => i.id === id);
  if (!found) {
    throw new Error(`no invariant '${id}' in ${invariantsPath}`);
  }
  return found;
}

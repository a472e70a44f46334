// The shared list of invariants (policy/invariants.json): the pack's policy names, descriptions,
// controls and configuration schemas come from it, and so do the simple property checks, so the
// pack and the C# offline check read one definition.
import * as fs from "fs";
import * as path from "path";

export interface SimpleCheck {
  /** The Pulumi wire name of the property (camelCase, as in @pulumi/aws Args). */
  readonly property: string;
  /** The value the property must have. */
  readonly equals?: unknown;
  /** The property must be a non-empty string. */
  readonly nonEmpty?: boolean;
  /** The property must be a number at least this configuration value. */
  readonly atLeastConfig?: string;
  /** The value AWS uses when the property is not set. */
  readonly default?: unknown;
}

export interface ConfigProperty {
  readonly type: "integer" | "string" | "array" | "boolean" | "number";
  readonly default: unknown;
  readonly description: string;
  readonly [key: string]: unknown;
}

export interface Invariant {
  readonly id: string;
  readonly policyType: "resource" | "stack";
  readonly subject: "trail" | "trail-bucket" | "trail-key" | "detection-bus-policy" | "forwarding-rule" | "audit-resources";
  readonly resourceType: string;
  readonly relatedResourceTypes?: readonly string[];
  readonly description: string;
  readonly controls: readonly string[];
  readonly check?: SimpleCheck;
  readonly config?: Readonly<Record<string, ConfigProperty>>;
}

export const invariantsPath = path.resolve(__dirname, "..", "..", "invariants.json");

export function loadInvariants(file: string = invariantsPath): Invariant[] {
  return JSON.parse(fs.readFileSync(file, "utf8")) as Invariant[];
}

export const invariants: readonly Invariant[] = loadInvariants();

export function invariant(id: string): Invariant {
  const found = invariants.find((i) => i.id === id);
  if (!found) {
    throw new Error(`no invariant '${id}' in ${invariantsPath}`);
  }
  return found;
}

/** The configuration defaults of an invariant, overridden by the values given. */
export function configWithDefaults(inv: Invariant, given: Record<string, unknown> | undefined): Record<string, any> {
  const config: Record<string, any> = {};
  for (const [key, schema] of Object.entries(inv.config ?? {})) {
    config[key] = schema.default;
  }
  for (const [key, value] of Object.entries(given ?? {})) {
    if (key !== "enforcementLevel" && value !== undefined) {
      config[key] = value;
    }
  }
  return config;
}

/** Evaluates a simple property check; returns the reason it fails, or undefined. */
export function evaluateSimpleCheck(check: SimpleCheck, props: Record<string, any>, config: Record<string, any>): string | undefined {
  const raw = props[check.property];
  const value = raw === undefined || raw === null ? check.default : raw;
  const shown = raw === undefined || raw === null ? `not set (AWS default: ${JSON.stringify(check.default)})` : JSON.stringify(raw);
  if (check.equals !== undefined && value !== check.equals) {
    return `${check.property} must be ${JSON.stringify(check.equals)}, is ${shown}`;
  }
  if (check.nonEmpty && !(typeof value === "string" && value.trim() !== "")) {
    return `${check.property} must be set, is ${raw === undefined || raw === null ? "not set" : JSON.stringify(raw)}`;
  }
  if (check.atLeastConfig !== undefined) {
    const minimum = Number(config[check.atLeastConfig]);
    if (typeof value !== "number" || value < minimum) {
      return `${check.property} must be at least ${minimum} (${check.atLeastConfig}), is ${shown}`;
    }
  }
  return undefined;
}

// Runs the pack's policies on an offline plan (`auditinfra plan --json`) exactly as the Pulumi
// engine would call them: validateResource for every resource, validateStack once with all.
//   node bin/src/evaluate.js <plan.json | -> [--stack-role audit|management] [--config pack-config.json]
// prints one line per violation and exits 1 when there is any.
import * as fs from "fs";
import type { PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { buildPolicies } from "./policies";

export interface PlannedResourceJson {
  type: string;
  name: string;
  properties?: Record<string, any>;
  dependsOn?: string[];
  protect?: boolean;
  retainOnDelete?: boolean;
  /** The provider resource (by name) it is created through; absent: its component's. */
  provider?: string;
}

export interface StackPlanJson {
  stack: string;
  account?: string;
  region?: string;
  components: { type: string; name: string; provider?: string; resources: PlannedResourceJson[] }[];
}

export interface Violation {
  policy: string;
  message: string;
  urn?: string;
}

/** The role the C# StackRoles gives a stack name (audit -> audit, prod -> management). */
export function roleOfStack(stack: string): string | undefined {
  return stack === "audit" ? "audit" : stack === "prod" ? "management" : undefined;
}

export function urnOf(stack: string, type: string, name: string): string {
  return `urn:pulumi:${stack}::auditinfra::${type}::${name}`;
}

interface FakeResource {
  type: string;
  name: string;
  urn: string;
  props: Record<string, any>;
  opts: { protect: boolean; ignoreChanges: string[]; aliases: string[]; customTimeouts: {}; additionalSecretOutputs: string[] };
  provider?: { type: string; name: string; urn: string; props: Record<string, any> };
  dependencies: { urn: string }[];
}

/**
 * The plan's resources, components included (the engine passes component resources too), each
 * with its effective provider and its dependencies as the engine shows them: a dependency on a
 * component stands for the component's resources.
 */
export function planResources(plan: StackPlanJson): FakeResource[] {
  const out: FakeResource[] = [];
  const opts = (protect: boolean) => ({ protect, ignoreChanges: [], aliases: [], customTimeouts: {}, additionalSecretOutputs: [] });
  const urns = new Map<string, string[]>();
  const byName = new Map<string, { type: string; urn: string; props: Record<string, any> }>();
  for (const c of plan.components) {
    const children = c.resources.map((r) => urnOf(plan.stack, `${c.type}$${r.type}`, r.name));
    urns.set(c.name, children);
    c.resources.forEach((r, i) => {
      urns.set(r.name, [children[i]]);
      byName.set(r.name, { type: r.type, urn: children[i], props: r.properties ?? {} });
    });
  }
  const providerOf = (name: string | undefined) => {
    const p = name === undefined ? undefined : byName.get(name);
    return p === undefined ? undefined : { type: p.type, name: name!, urn: p.urn, props: p.props };
  };
  for (const c of plan.components) {
    out.push({ type: c.type, name: c.name, urn: urnOf(plan.stack, c.type, c.name), props: {}, opts: opts(false), dependencies: [] });
    for (const r of c.resources) {
      out.push({
        type: r.type,
        name: r.name,
        urn: urnOf(plan.stack, `${c.type}$${r.type}`, r.name),
        props: r.properties ?? {},
        opts: opts(r.protect === true),
        provider: providerOf(r.provider ?? c.provider),
        dependencies: (r.dependsOn ?? []).flatMap((d) => urns.get(d) ?? []).map((urn) => ({ urn })),
      });
    }
  }
  return out;
}

export interface EvaluateOptions {
  stackTags?: Record<string, string>;
  config?: Record<string, Record<string, unknown>>;
}

export function evaluatePlan(plan: StackPlanJson, options: EvaluateOptions = {}): Violation[] {
  const policies = buildPolicies();
  const resources = planResources(plan);
  const tags = new Map(Object.entries(options.stackTags ?? (roleOfStack(plan.stack) ? { "auditinfra:role": roleOfStack(plan.stack)! } : {})));
  const violations: Violation[] = [];
  const notApplicable = (reason?: string): never => {
    throw new Error(`notApplicable: ${reason ?? ""}`);
  };
  for (const policy of policies) {
    const getConfig = <T extends object>() => (options.config?.[policy.name] ?? {}) as T;
    if ("validateResource" in policy && policy.validateResource) {
      const validations = Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource];
      for (const r of resources) {
        for (const validate of validations) {
          validate(
            { type: r.type, name: r.name, urn: r.urn, props: r.props, opts: r.opts, stackTags: tags, getConfig, notApplicable, isType: () => false, asType: () => undefined } as any,
            (message: string) => violations.push({ policy: policy.name, message, urn: r.urn }),
          );
        }
      }
    }
    if ("validateStack" in policy) {
      const stackResources = resources.map((r) => ({ ...r, propertyDependencies: {}, isType: () => false, asType: () => undefined })) as unknown as PolicyResource[];
      (policy as StackValidationPolicy).validateStack(
        { resources: stackResources, stackTags: tags, getConfig, notApplicable },
        (message: string, urn?: string) => violations.push({ policy: policy.name, message, urn }),
      );
    }
  }
  return violations;
}

export type AnyPolicy = ResourceValidationPolicy | StackValidationPolicy;

function main(argv: string[]): number {
  const args = [...argv];
  let file: string | undefined;
  let role: string | undefined;
  let configFile: string | undefined;
  while (args.length > 0) {
    const a = args.shift()!;
    if (a === "--stack-role") role = args.shift();
    else if (a === "--config") configFile = args.shift();
    else if (!file) file = a;
    else {
      process.stderr.write(`unexpected argument '${a}'\n`);
      return 2;
    }
  }
  if (!file) {
    process.stderr.write("usage: evaluate <plan.json | -> [--stack-role audit|management] [--config pack-config.json]\n");
    return 2;
  }
  let plan: StackPlanJson;
  try {
    const text = fs.readFileSync(file === "-" ? 0 : file, "utf8");
    const parsed = JSON.parse(text);
    plan = parsed.plan ?? parsed;
    if (!Array.isArray(plan.components)) throw new Error("no 'components' array: expected the output of `auditinfra plan --json`");
  } catch (e) {
    process.stderr.write(`${file}: ${(e as Error).message}\n`);
    return 2;
  }
  const config = configFile ? JSON.parse(fs.readFileSync(configFile, "utf8")) : undefined;
  const violations = evaluatePlan(plan, { stackTags: role ? { "auditinfra:role": role } : undefined, config });
  for (const v of violations) {
    process.stdout.write(`${v.policy}: ${v.message}\n`);
  }
  process.stdout.write(violations.length === 0 ? `stack '${plan.stack}': no policy violation\n` : `stack '${plan.stack}': ${violations.length} violation(s)\n`);
  return violations.length === 0 ? 0 : 1;
}

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2));
}

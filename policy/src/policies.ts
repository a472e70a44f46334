// The pack's policies: one per invariant of the shared invariants.json (named by its id, with its
// description and controls) plus the pack-only detection policies; all mandatory, each with its
// configuration schema (defaults included). The checks live in checks.ts.
import type {
  EnforcementLevel,
  PolicyConfigSchema,
  PolicyResource,
  ReportViolation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import { Config, PolicySpec, packOnly, specs } from "./checks";
import { Invariant, shared } from "./invariants";
import { AuditResource } from "./model";

export const PACK_NAME = "auditinfra-audit-guardrails";
export const ENFORCEMENT: EnforcementLevel = "mandatory";

export type AuditPolicy = ResourceValidationPolicy | StackValidationPolicy;

type EngineResource = {
  type: string;
  name: string;
  urn: string;
  props: Record<string, any>;
  opts?: { protect?: boolean };
  propertyDependencies?: Record<string, { urn: string }[]>;
  provider?: { type: string; name: string; urn: string; props: Record<string, any> };
  dependencies?: ({ urn: string } | undefined)[];
};

export function toAuditResource(r: EngineResource): AuditResource {
  const deps: Record<string, string[]> = {};
  for (const [prop, list] of Object.entries(r.propertyDependencies ?? {})) {
    deps[prop] = (list ?? []).map((d) => d.urn);
  }
  const provider = r.provider ? { type: r.provider.type, name: r.provider.name, urn: r.provider.urn, props: r.provider.props ?? {} } : undefined;
  const dependencies = (r.dependencies ?? []).filter((d): d is { urn: string } => d !== undefined).map((d) => d.urn);
  return { type: r.type, name: r.name, urn: r.urn, props: r.props ?? {}, protect: r.opts?.protect === true, propertyDependencies: deps, provider, dependencies };
}

/** The policy's configuration: the schema defaults, overridden by what the pack config gives. */
export function configWithDefaults(spec: PolicySpec, given: Record<string, unknown> | undefined): Config {
  const config: Config = {};
  for (const [key, schema] of Object.entries(spec.config ?? {})) config[key] = schema.default;
  for (const [key, value] of Object.entries(given ?? {})) {
    if (key !== "enforcementLevel" && value !== undefined) config[key] = value;
  }
  return config;
}

function configSchema(spec: PolicySpec): PolicyConfigSchema | undefined {
  return spec.config ? { properties: JSON.parse(JSON.stringify(spec.config)) } : undefined;
}

export function policyFor(spec: PolicySpec, meta: Pick<Invariant, "description" | "controls">): AuditPolicy {
  const controls = meta.controls.length > 0 ? `[${meta.controls.join(", ")}] ` : "";
  const common = {
    name: spec.id,
    description: meta.controls.length > 0 ? `${meta.description} Controls: ${meta.controls.join(", ")}.` : meta.description,
    enforcementLevel: ENFORCEMENT,
    configSchema: configSchema(spec),
    tags: [...meta.controls],
    severity: "high" as const,
  };
  if (spec.kind === "resource") {
    const check = spec.resourceCheck!;
    return {
      ...common,
      validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
        if (args.type !== spec.resourceType) return;
        const config = configWithDefaults(spec, args.getConfig<Record<string, unknown>>());
        for (const message of check(toAuditResource(args), config)) report(`${controls}${args.name}: ${message}`);
      },
    };
  }
  const check = spec.stackCheck!;
  return {
    ...common,
    validateStack: (args: StackValidationArgs, report: ReportViolation) => {
      const config = configWithDefaults(spec, args.getConfig<Record<string, unknown>>());
      const resources = args.resources.map((r: PolicyResource) => toAuditResource(r as unknown as EngineResource));
      for (const f of check(resources, config, args.stackTags)) report(`${controls}${f.message}`, f.urn);
    },
  };
}

/** Fails when the pack and the shared list disagree on the set of ids. */
export function assertMatchesShared(): void {
  const ids = new Set(specs.map((s) => s.id));
  const sharedIds = new Set(shared.invariants.map((i) => i.id));
  const missing = [...sharedIds].filter((id) => !ids.has(id));
  const extra = [...ids].filter((id) => !sharedIds.has(id));
  if (missing.length > 0 || extra.length > 0) {
    throw new Error(`policy pack and invariants.json disagree: not implemented [${missing.join(", ")}], not in the shared list [${extra.join(", ")}]`);
  }
}

export function buildPolicies(): AuditPolicy[] {
  assertMatchesShared();
  const sharedPolicies = shared.invariants.map((inv) => policyFor(specs.find((s) => s.id === inv.id)!, inv));
  return [...sharedPolicies, ...packOnly.map((p) => policyFor(p, p))];
}

export function specOf(id: string): PolicySpec | undefined {
  return specs.find((s) => s.id === id) ?? packOnly.find((s) => s.id === id);
}

// The pack's policies: one per invariant of invariants.json, named by its id, mandatory, with the
// invariant's configuration schema (defaults included). Checks live in checks.ts.
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
import { assertComplete, resourceCheck, stackCheck } from "./checks";
import { Invariant, configWithDefaults, invariants } from "./invariants";
import { AuditResource } from "./model";

export const PACK_NAME = "auditinfra-audit-guardrails";
export const ENFORCEMENT: EnforcementLevel = "mandatory";

export function toAuditResource(r: { type: string; name: string; urn: string; props: Record<string, any>; opts?: { protect?: boolean } }): AuditResource {
  return { type: r.type, name: r.name, urn: r.urn, props: r.props ?? {}, protect: r.opts?.protect === true };
}

function configSchema(inv: Invariant): PolicyConfigSchema | undefined {
  if (!inv.config) return undefined;
  return { properties: JSON.parse(JSON.stringify(inv.config)) };
}

function describe(inv: Invariant): string {
  return `${inv.description} Controls: ${inv.controls.join(", ")}.`;
}

export function policyFor(inv: Invariant): ResourceValidationPolicy | StackValidationPolicy {
  const common = {
    name: inv.id,
    description: describe(inv),
    enforcementLevel: ENFORCEMENT,
    configSchema: configSchema(inv),
    tags: [...inv.controls],
    severity: "high" as const,
  };
  if (inv.policyType === "resource") {
    const check = resourceCheck(inv);
    return {
      ...common,
      validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
        if (args.type !== inv.resourceType) return;
        const config = configWithDefaults(inv, args.getConfig<Record<string, unknown>>());
        for (const message of check(args.props, config)) {
          report(`[${inv.controls.join(", ")}] ${args.name}: ${message}`);
        }
      },
    };
  }
  const check = stackCheck(inv);
  return {
    ...common,
    validateStack: (args: StackValidationArgs, report: ReportViolation) => {
      const config = configWithDefaults(inv, args.getConfig<Record<string, unknown>>());
      const resources = args.resources.map((r: PolicyResource) => toAuditResource(r));
      for (const finding of check(resources, config, args.stackTags)) {
        report(`[${inv.controls.join(", ")}] ${finding.message}`, finding.urn);
      }
    },
  };
}

export function buildPolicies(list: readonly Invariant[] = invariants): (ResourceValidationPolicy | StackValidationPolicy)[] {
  assertComplete(list);
  return list.map(policyFor);
}

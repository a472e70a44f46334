// Entry point of the CrossGuard pack: `pulumi preview --policy-pack policy`.
import { PolicyPack } from "@pulumi/policy";
import { ENFORCEMENT, PACK_NAME, buildPolicies } from "./policies";

new PolicyPack(PACK_NAME, {
  description: "Keeps the AuditInfra audit design from being weakened: organization trail, trail bucket, trail key, detection bus and rules, protected resources.",
  enforcementLevel: ENFORCEMENT,
  policies: buildPolicies(),
});

// Talks to the real policy pack the way the Pulumi engine does: starts `node bin/src/index.js`
// (the PolicyPack serves gRPC and prints its port), then calls the Analyzer service: GetAnalyzerInfo,
// Configure, ConfigureStack, Analyze for every resource and AnalyzeStack with all of them.
import { ChildProcess, spawn } from "child_process";
import * as path from "path";
// eslint-disable-next-line @typescript-eslint/no-var-requires
const grpc = require("@grpc/grpc-js");
const rpc = require("@pulumi/pulumi/proto/analyzer_grpc_pb.js");
const pb = require("@pulumi/pulumi/proto/analyzer_pb.js");
const structpb = require("google-protobuf/google/protobuf/struct_pb.js");
const emptypb = require("google-protobuf/google/protobuf/empty_pb.js");
import { StackPlanJson, planResources, roleOfStack } from "../../src/evaluate";

export interface Diagnostic {
  policy: string;
  message: string;
  urn: string;
  enforcementLevel: number;
}

export class PackProcess {
  private constructor(private readonly child: ChildProcess, private readonly client: any) {}

  static async start(): Promise<PackProcess> {
    const entry = path.resolve(__dirname, "..", "..", "src", "index.js");
    const child = spawn(process.execPath, [entry], { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (d) => (stderr += String(d)));
    const port = await new Promise<string>((resolve, reject) => {
      child.stdout!.once("data", (d) => resolve(String(d).trim()));
      child.once("exit", (code) => reject(new Error(`policy pack exited with ${code}: ${stderr}`)));
    });
    const client = new rpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    return new PackProcess(child, client);
  }

  stop(): void {
    this.client.close();
    this.child.kill();
  }

  private call<T>(method: string, request: unknown): Promise<T> {
    return new Promise((resolve, reject) => this.client[method](request, (err: Error | null, res: T) => (err ? reject(err) : resolve(res))));
  }

  async info(): Promise<any> {
    return ((await this.call<any>("getAnalyzerInfo", new emptypb.Empty())) as any).toObject();
  }

  async configure(config: Record<string, Record<string, unknown>>): Promise<void> {
    const req = new pb.ConfigureAnalyzerRequest();
    for (const [policy, props] of Object.entries(config)) {
      const pc = new pb.PolicyConfig();
      pc.setEnforcementlevel(1); // MANDATORY: the engine sends the configured (here: unchanged) level
      pc.setProperties(structpb.Struct.fromJavaScript(props));
      req.getPolicyconfigMap().set(policy, pc);
    }
    await this.call("configure", req);
  }

  async configureStack(stack: string, tags: Record<string, string>): Promise<void> {
    const req = new pb.AnalyzerStackConfigureRequest();
    req.setStack(stack);
    req.setProject("auditinfra");
    for (const [k, v] of Object.entries(tags)) req.getTagsMap().set(k, v);
    await this.call("configureStack", req);
  }

  /** Every diagnostic the pack reports for the plan: per resource (Analyze) and for the stack. */
  async analyze(plan: StackPlanJson): Promise<Diagnostic[]> {
    const resources = planResources(plan);
    const diagnostics: Diagnostic[] = [];
    const options = (protect: boolean) => {
      const o = new pb.AnalyzerResourceOptions();
      o.setProtect(protect);
      return o;
    };
    const collect = (res: any) =>
      res.getDiagnosticsList().forEach((d: any) =>
        diagnostics.push({ policy: d.getPolicyname(), message: d.getMessage(), urn: d.getUrn(), enforcementLevel: d.getEnforcementlevel() }),
      );
    for (const r of resources) {
      const req = new pb.AnalyzeRequest();
      req.setType(r.type);
      req.setName(r.name);
      req.setUrn(r.urn);
      req.setProperties(structpb.Struct.fromJavaScript(r.props));
      req.setOptions(options(r.opts.protect));
      collect(await this.call("analyze", req));
    }
    const stackReq = new pb.AnalyzeStackRequest();
    stackReq.setResourcesList(
      resources.map((r) => {
        const ar = new pb.AnalyzerResource();
        ar.setType(r.type);
        ar.setName(r.name);
        ar.setUrn(r.urn);
        ar.setProperties(structpb.Struct.fromJavaScript(r.props));
        ar.setOptions(options(r.opts.protect));
        ar.setDependenciesList(r.dependencies.map((d) => d.urn));
        if (r.provider) {
          const provider = new pb.AnalyzerProviderResource();
          provider.setType(r.provider.type);
          provider.setName(r.provider.name);
          provider.setUrn(r.provider.urn);
          provider.setProperties(structpb.Struct.fromJavaScript(r.provider.props));
          ar.setProvider(provider);
        }
        return ar;
      }),
    );
    collect(await this.call("analyzeStack", stackReq));
    return diagnostics;
  }
}

export function stackTagsFor(plan: StackPlanJson): Record<string, string> {
  const role = roleOfStack(plan.stack);
  return role ? { "auditinfra:role": role } : {};
}

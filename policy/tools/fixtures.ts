// The generator of policy/fixtures: every broken fixture is its stack's compliant fixture with one
// JSON Patch (RFC 6902) applied, kept in policy/fixtures/patches/<fixture>.json. A reviewer reads the
// few lines of a patch instead of a 90 kB plan, and a change of the design rebuilds every fixture.
//
//   node bin/tools/fixtures.js            check: every fixture equals what its patch makes (exit 1 if not)
//   node bin/tools/fixtures.js --write    rebuild every patched fixture from the compliant ones
//   node bin/tools/fixtures.js --extract <name>...
//                                         write patches/<name>.json from an edited fixture <name>.json
//
// The base of a patch is named by the fixture's first word: audit-*.json patches audit-compliant.json,
// prod-*.json patches prod-compliant.json. The compliant fixtures themselves are the rendered plans
// (`auditinfra plan --stack <stack> --sample --json`, checked by the C# DesignCheckTests); fixtures
// without a patch (the compliant ones, and preview shapes) are left as they are.
import * as fs from "fs";
import * as path from "path";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export type Operation =
  | { op: "add" | "replace" | "test"; path: string; value: Json }
  | { op: "remove"; path: string }
  | { op: "move" | "copy"; from: string; path: string };

export const fixturesDir = path.resolve(__dirname, "..", "..", "fixtures");
export const patchesDir = path.join(fixturesDir, "patches");

/** The fixture text as committed: two-space JSON and a final newline. */
export function render(value: Json): string {
  return JSON.stringify(value, null, 2) + "\n";
}

export function baseOf(fixture: string): string {
  const stack = fixture.split("-")[0];
  return `${stack}-compliant.json`;
}

function readJson(file: string): Json {
  return JSON.parse(fs.readFileSync(file, "utf8"));
}

// ---- RFC 6901 pointers and RFC 6902 operations -------------------------------------------------

function tokens(pointer: string): string[] {
  if (pointer === "") return [];
  if (!pointer.startsWith("/")) throw new Error(`"${pointer}": a JSON pointer starts with '/'`);
  return pointer.slice(1).split("/").map((t) => t.replace(/~1/g, "/").replace(/~0/g, "~"));
}

function escape(token: string | number): string {
  return String(token).replace(/~/g, "~0").replace(/\//g, "~1");
}

function index(array: Json[], token: string, pointer: string, forAdd: boolean): number {
  if (forAdd && token === "-") return array.length;
  if (!/^(0|[1-9][0-9]*)$/.test(token)) throw new Error(`"${pointer}": "${token}" is not an array index`);
  const i = Number(token);
  if (i > array.length || (!forAdd && i === array.length)) throw new Error(`"${pointer}": index ${i} is out of range (length ${array.length})`);
  return i;
}

function parentOf(doc: Json, pointer: string): { parent: Json[] | { [key: string]: Json }; key: string } {
  const path = tokens(pointer);
  if (path.length === 0) throw new Error(`"${pointer}": the whole document cannot be the target here`);
  let node: Json = doc;
  for (const token of path.slice(0, -1)) {
    node = child(node, token, pointer);
  }
  if (node === null || typeof node !== "object") throw new Error(`"${pointer}": the parent is not an object or array`);
  return { parent: node, key: path[path.length - 1] };
}

function child(node: Json, token: string, pointer: string): Json {
  if (Array.isArray(node)) return node[index(node, token, pointer, false)];
  if (node !== null && typeof node === "object" && Object.prototype.hasOwnProperty.call(node, token)) return node[token];
  throw new Error(`"${pointer}": "${token}" does not exist`);
}

function get(doc: Json, pointer: string): Json {
  let node = doc;
  for (const token of tokens(pointer)) node = child(node, token, pointer);
  return node;
}

function clone<T extends Json>(value: T): T {
  return JSON.parse(JSON.stringify(value));
}

function equal(a: Json, b: Json): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

function canonical(value: Json): Json {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical(value[k])]));
  }
  return value;
}

/** Applies the operations in order to a copy of the document (RFC 6902); throws naming the failing op. */
export function applyPatch(document: Json, patch: Operation[]): Json {
  let doc = clone(document);
  patch.forEach((op, n) => {
    try {
      doc = applyOne(doc, op);
    } catch (e) {
      throw new Error(`operation ${n} (${op.op} ${op.path}): ${(e as Error).message}`);
    }
  });
  return doc;
}

function applyOne(doc: Json, op: Operation): Json {
  switch (op.op) {
    case "test":
      if (!equal(get(doc, op.path), op.value)) throw new Error(`test failed: found ${JSON.stringify(get(doc, op.path))}`);
      return doc;
    case "add":
      return add(doc, op.path, clone(op.value));
    case "remove":
      remove(doc, op.path);
      return doc;
    case "replace": {
      if (op.path === "") return clone(op.value);
      get(doc, op.path);
      const { parent, key } = parentOf(doc, op.path);
      if (Array.isArray(parent)) parent[index(parent, key, op.path, false)] = clone(op.value);
      else parent[key] = clone(op.value);
      return doc;
    }
    case "move": {
      if (op.path.startsWith(op.from + "/")) throw new Error("cannot move a value into itself");
      const value = get(doc, op.from);
      remove(doc, op.from);
      return add(doc, op.path, value);
    }
    case "copy":
      return add(doc, op.path, clone(get(doc, op.from)));
    default:
      throw new Error(`unknown op "${(op as { op: string }).op}"`);
  }
}

function add(doc: Json, pointer: string, value: Json): Json {
  if (pointer === "") return value;
  const { parent, key } = parentOf(doc, pointer);
  if (Array.isArray(parent)) parent.splice(index(parent, key, pointer, true), 0, value);
  else parent[key] = value;
  return doc;
}

function remove(doc: Json, pointer: string): void {
  get(doc, pointer);
  const { parent, key } = parentOf(doc, pointer);
  if (Array.isArray(parent)) parent.splice(index(parent, key, pointer, false), 1);
  else delete parent[key];
}

// ---- Making a patch from an edited fixture -----------------------------------------------------

/**
 * The operations that turn `from` into `to`: objects key by key, arrays by their common head and
 * tail with the middle removed and added, anything else replaced. Every change inside a plan
 * resource is preceded by a `test` of that resource's name, so a patch applied to a plan whose
 * resources moved fails instead of breaking the wrong resource.
 */
export function diff(from: Json, to: Json): Operation[] {
  const ops: Operation[] = [];
  walk(from, to, "", ops);
  return guardResources(from, ops);
}

function walk(from: Json, to: Json, pointer: string, ops: Operation[]): void {
  if (equal(from, to)) return;
  if (Array.isArray(from) && Array.isArray(to)) {
    let head = 0;
    while (head < from.length && head < to.length && equal(from[head], to[head])) head++;
    let tail = 0;
    while (tail < from.length - head && tail < to.length - head && equal(from[from.length - 1 - tail], to[to.length - 1 - tail])) tail++;
    const removed = from.length - head - tail;
    const added = to.length - head - tail;
    if (head === 0 && tail === 0 && removed !== added) {
      ops.push({ op: "replace", path: pointer, value: to });
      return;
    }
    const paired = Math.min(removed, added);
    for (let i = 0; i < paired; i++) walk(from[head + i], to[head + i], `${pointer}/${head + i}`, ops);
    for (let i = removed - 1; i >= paired; i--) ops.push({ op: "remove", path: `${pointer}/${head + i}` });
    for (let i = paired; i < added; i++) ops.push({ op: "add", path: `${pointer}/${head + i}`, value: to[head + i] });
    return;
  }
  if (isObject(from) && isObject(to)) {
    const fromKeys = Object.keys(from);
    const toKeys = Object.keys(to);
    // Added keys go last (RFC 6902 objects are unordered, the committed text is not): a key added
    // anywhere else is written by replacing the object, so the rebuilt text keeps its order.
    const kept = fromKeys.filter((k) => k in to);
    if (toKeys.slice(0, kept.length).join("\u0000") !== kept.join("\u0000")) {
      ops.push({ op: "replace", path: pointer, value: to });
      return;
    }
    for (const key of fromKeys) {
      if (!(key in to)) ops.push({ op: "remove", path: `${pointer}/${escape(key)}` });
      else walk(from[key], to[key], `${pointer}/${escape(key)}`, ops);
    }
    for (const key of toKeys.filter((k) => !(k in from))) ops.push({ op: "add", path: `${pointer}/${escape(key)}`, value: to[key] });
    return;
  }
  ops.push({ op: "replace", path: pointer, value: to });
}

function isObject(value: Json): value is { [key: string]: Json } {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

const resourcePointer = /^\/plan\/components\/\d+\/resources\/\d+/;

function guardResources(base: Json, ops: Operation[]): Operation[] {
  const guarded: Operation[] = [];
  const tested = new Set<string>();
  let doc = clone(base);
  for (const op of ops) {
    const resource = resourcePointer.exec(op.path)?.[0];
    if (resource && !tested.has(resource)) {
      const name = get(doc, resource + "/name");
      const test: Operation = { op: "test", path: resource + "/name", value: name };
      guarded.push(test);
      tested.add(resource);
    }
    guarded.push(op);
    doc = applyOne(doc, op);
    // After a removal or insertion the indexes after it name other resources.
    if (op.op !== "replace" && op.op !== "test" && resource !== undefined && /^\/plan\/components\/\d+\/resources\/\d+$/.test(op.path)) tested.clear();
  }
  return guarded;
}

// ---- The fixtures ------------------------------------------------------------------------------

export interface Generated {
  fixture: string;
  text: string;
}

/** Every patched fixture as the generator makes it, in name order. */
export function generate(): Generated[] {
  return fs
    .readdirSync(patchesDir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((fixture) => {
      const base = readJson(path.join(fixturesDir, baseOf(fixture)));
      const patch = readJson(path.join(patchesDir, fixture));
      if (!Array.isArray(patch)) throw new Error(`patches/${fixture}: expected a JSON Patch (an array of operations)`);
      try {
        return { fixture, text: render(applyPatch(base, patch as Operation[])) };
      } catch (e) {
        throw new Error(`patches/${fixture} on ${baseOf(fixture)}: ${(e as Error).message}`);
      }
    });
}

/** The committed fixtures that differ from what their patch makes. */
export function stale(): string[] {
  return generate()
    .filter((g) => !fs.existsSync(path.join(fixturesDir, g.fixture)) || fs.readFileSync(path.join(fixturesDir, g.fixture), "utf8") !== g.text)
    .map((g) => g.fixture);
}

function writeAtomically(file: string, text: string): void {
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, text);
  fs.renameSync(temp, file);
}

function main(args: string[]): number {
  if (args[0] === "--write") {
    const all = generate();
    for (const g of all) writeAtomically(path.join(fixturesDir, g.fixture), g.text);
    console.log(`wrote ${all.length} fixture(s) from policy/fixtures/patches`);
    return 0;
  }
  if (args[0] === "--extract") {
    if (args.length < 2) {
      console.error("--extract needs the fixture name(s), e.g. audit-key-no-rotation.json");
      return 2;
    }
    fs.mkdirSync(patchesDir, { recursive: true });
    for (const name of args.slice(1)) {
      const fixture = path.basename(name.endsWith(".json") ? name : `${name}.json`);
      const file = path.join(fixturesDir, fixture);
      if (!fs.existsSync(file)) {
        console.error(`${file}: no such fixture`);
        return 2;
      }
      const patch = diff(readJson(path.join(fixturesDir, baseOf(fixture))), readJson(file));
      writeAtomically(path.join(patchesDir, fixture), render(patch as unknown as Json));
      console.log(`patches/${fixture}: ${patch.length} operation(s)`);
    }
    return 0;
  }
  if (args.length > 0) {
    console.error("usage: node bin/tools/fixtures.js [--write | --extract <fixture>...]");
    return 2;
  }
  const out = stale();
  for (const f of out) console.error(`policy/fixtures/${f} differs from what patches/${f} makes: run node bin/tools/fixtures.js --write`);
  return out.length === 0 ? 0 : 1;
}

if (require.main === module) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (e) {
    console.error((e as Error).message);
    process.exitCode = 2;
  }
}

#!/usr/bin/env node
// Runs a TypeScript script (scripts/, bench/) with tsx: `node bin/run-ts.js scripts/x.ts args...`.
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { register } from "tsx/esm/api";

const [script, ...rest] = process.argv.slice(2);
if (!script) {
  console.error("usage: node bin/run-ts.js SCRIPT.ts [args...]");
  process.exit(2);
}
register();
process.argv = [process.argv[0] ?? "node", script, ...rest];
await import(pathToFileURL(resolve(script)).href);

#!/usr/bin/env node
// Runs the TypeScript CLI directly through tsx, resolved next to this file so `npx bounce-radar`
// works from any directory without a build step.
import { register } from "tsx/esm/api";

register();
await import("../cli/main.ts");

import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import { median } from "./case-io.ts";

/** Fresh processes per measurement; the median of five shrugs off one slow start. */
export const LOAD_RUNS = 5;

export interface BundleTarget {
  readonly name: string;
  readonly entry: string;
}

export interface BundleMeasurement {
  readonly name: string;
  readonly entry: string;
  readonly bytes: number;
  /** Median wall time of `node -e "import(bundle)"`, a fresh process each run. */
  readonly importProcessMs: number;
  /** Median wall time of `node -e "0"`: process start-up alone. */
  readonly baselineProcessMs: number;
  /** importProcessMs − baselineProcessMs: what loading the bundle adds to a cold start. */
  readonly loadMs: number;
  /** Why the bundle failed to load on its own (as in a Lambda, with no node_modules), or null. */
  readonly standaloneLoadError: string | null;
  /** Set when the bundle failed to load even with node_modules reachable; its timings are then meaningless. */
  readonly loadError: string | null;
}

/** Every Lambda handler, functions/<name>/handler.ts. */
export function bundleTargets(root: string): BundleTarget[] {
  const functionsDir = join(root, "functions");
  return readdirSync(functionsDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(functionsDir, d.name, "handler.ts")))
    .map((d) => ({ name: d.name, entry: join(functionsDir, d.name, "handler.ts") }))
    .sort((x, y) => x.name.localeCompare(y.name));
}

export async function bundleFunction(target: BundleTarget, outDir: string): Promise<{ outfile: string }> {
  const outfile = resolve(outDir, `${target.name}.mjs`);
  await build({
    entryPoints: [target.entry],
    outfile,
    bundle: true,
    minify: true,
    platform: "node",
    target: "node20",
    format: "esm",
    logLevel: "silent",
    // CommonJS dependencies inside an ESM bundle still call require() for Node built-ins.
    banner: { js: "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);" },
  });
  return { outfile };
}

function processMs(
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): { ms: number; error: string | null } {
  const start = performance.now();
  const run = spawnSync(process.execPath, args, {
    encoding: "utf8",
    env,
    stdio: ["ignore", "ignore", "pipe"],
  });
  const ms = performance.now() - start;
  const failed = run.status !== 0 || run.error !== undefined;
  const message = run.stderr
    .split("\n")
    .map((line) => line.trim())
    .find((line) => /^\w*Error\b/.test(line));
  return { ms, error: failed ? (run.error?.message ?? message ?? `exit status ${run.status}`) : null };
}

/** What the stack puts in every function's environment: handlers read it when their module loads. */
const LAMBDA_ENV: NodeJS.ProcessEnv = {
  DATA_BUCKET: "bench-bucket",
  BOUNCE_RADAR_CONFIG: "{}",
  ALERT_TOPIC_ARN: "arn:aws:sns:us-east-1:123456789012:bench",
  AWS_REGION: "us-east-1",
  // The webhook receiver's: a P-256 public key (base64 DER), as SendGrid shows it.
  SENDGRID_WEBHOOK_PUBLIC_KEY:
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEP9hAPXODb5GEbMtqcvRNbXH1Ez4x6rmzthI/Ya/m1ecYnNmx4cOb1kJlm/wohJEYOaq5Er5ElhzzLfFmKjKDA==",
};

const importArgs = (outfile: string): string[] => [
  "-e",
  `import(${JSON.stringify(pathToFileURL(outfile).href)})`,
];

/**
 * Bytes and cold-load time of each bundle; runs interleave with the baseline so drift hits both alike. A bundle
 * that cannot load on its own (it reaches for a package at run time) is reported, then timed with the project's
 * node_modules on NODE_PATH so its load time is still known.
 */
export async function measureBundles(
  bundles: ReadonlyArray<{ target: BundleTarget; outfile: string }>,
  nodeModules: string,
): Promise<BundleMeasurement[]> {
  const standaloneErrors = bundles.map(
    (b) => processMs(importArgs(b.outfile), { ...process.env, ...LAMBDA_ENV, NODE_PATH: "" }).error,
  );
  const envs = standaloneErrors.map((error) =>
    error === null
      ? { ...process.env, ...LAMBDA_ENV }
      : { ...process.env, ...LAMBDA_ENV, NODE_PATH: nodeModules },
  );
  const baseline: number[] = [];
  const loads = bundles.map(() => ({ ms: [] as number[], error: null as string | null }));
  for (let run = 0; run < LOAD_RUNS; run++) {
    baseline.push(processMs(["-e", "0"]).ms);
    bundles.forEach((b, i) => {
      const load = loads[i] as { ms: number[]; error: string | null };
      const result = processMs(importArgs(b.outfile), envs[i]);
      load.ms.push(result.ms);
      load.error ??= result.error;
    });
  }
  const baselineProcessMs = median(baseline);
  return Promise.all(
    bundles.map(async (b, i) => {
      const load = loads[i] as { ms: number[]; error: string | null };
      const importProcessMs = median(load.ms);
      return {
        name: b.target.name,
        entry: b.target.entry,
        bytes: (await stat(b.outfile)).size,
        importProcessMs,
        baselineProcessMs,
        loadMs: importProcessMs - baselineProcessMs,
        standaloneLoadError: standaloneErrors[i] ?? null,
        loadError: load.error,
      };
    }),
  );
}

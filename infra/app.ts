import { existsSync, readFileSync } from "node:fs";
import { App, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { ConfigError, parseConfig } from "../shared/config.ts";
import { BounceRadarStack } from "./bounce-radar-stack.ts";
import { FEATURE_FLAGS } from "./feature-flags.ts";

/** `npx cdk synth -c config=path/to/bounce-radar.config.json`; the committed example by default. */
export const DEFAULT_DEPLOYMENT_CONFIG = "bounce-radar.config.example.json";

export function loadDeploymentConfig(path: string) {
  if (!existsSync(path)) throw new ConfigError(`deployment config ${path} not found (pass -c config=FILE)`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new ConfigError(`${path} is not valid JSON: ${(e as Error).message}`);
  }
  return parseConfig(json, path);
}

const app = new App({ context: FEATURE_FLAGS });
const path = (app.node.tryGetContext("config") as string | undefined) ?? DEFAULT_DEPLOYMENT_CONFIG;
try {
  const config = loadDeploymentConfig(path);
  new BounceRadarStack(app, (app.node.tryGetContext("stackName") as string | undefined) ?? "BounceRadar", {
    description: "bounce-radar: hard-bounce spike monitor (ingest, analyse, alert)",
    config,
  });
} catch (e) {
  if (!(e instanceof ConfigError)) throw e;
  process.stderr.write(`bounce-radar: ${e.message}\n`);
  process.exit(1);
}
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();

import * as z from "zod";
import { type Config, parseConfig } from "../config.ts";

/**
 * What the stack puts in each function's environment. The configuration carries no credentials (sources
 * name their secret), so it travels as JSON; secrets are read from Secrets Manager at run time.
 */
const EnvironmentSchema = z.object({
  DATA_BUCKET: z.string().min(3, "the data bucket's name"),
  BOUNCE_RADAR_CONFIG: z.string().min(2, "the deployment configuration as JSON"),
  ALERT_TOPIC_ARN: z.string().startsWith("arn:").optional(),
  AWS_REGION: z.string().min(1).default("us-east-1"),
});

export interface LambdaEnvironment {
  readonly bucket: string;
  readonly config: Config;
  readonly alertTopicArn: string | undefined;
  readonly region: string;
}

export class EnvironmentError extends Error {}

/** Reads and checks the environment; the error names each missing or bad variable (never its value). */
export function readLambdaEnvironment(env: NodeJS.ProcessEnv = process.env): LambdaEnvironment {
  const parsed = EnvironmentSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new EnvironmentError(`the function's environment is incomplete: ${problems}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(parsed.data.BOUNCE_RADAR_CONFIG);
  } catch (e) {
    throw new EnvironmentError(`BOUNCE_RADAR_CONFIG is not JSON: ${(e as Error).message}`);
  }
  return {
    bucket: parsed.data.DATA_BUCKET,
    config: parseConfig(json, "BOUNCE_RADAR_CONFIG"),
    alertTopicArn: parsed.data.ALERT_TOPIC_ARN,
    region: parsed.data.AWS_REGION,
  };
}

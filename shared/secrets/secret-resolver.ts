import { readFile } from "node:fs/promises";
import * as z from "zod";

export interface ResolvedSecret {
  readonly value: string;
  /** Where it came from, for the log line that says which one was used (never the value). */
  readonly origin: string;
}

/** Looks a secret up by name. In AWS: Secrets Manager. On a laptop: environment, then a local file. */
export interface SecretResolver {
  resolve(name: string): Promise<ResolvedSecret>;
}

/** `mailgun/api-key` → `BOUNCE_RADAR_SECRET_MAILGUN_API_KEY` */
export function envVarForSecret(name: string): string {
  return `BOUNCE_RADAR_SECRET_${name.toUpperCase().replace(/[^A-Z0-9]+/g, "_")}`;
}

const SecretsFileSchema = z.record(z.string(), z.string());

/** Laptop resolution: an environment variable wins over the secrets file named in the config. */
export class LocalSecretResolver implements SecretResolver {
  private file: Promise<Record<string, string>> | null = null;

  constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly secretsFile?: string,
  ) {}

  async resolve(name: string): Promise<ResolvedSecret> {
    const variable = envVarForSecret(name);
    const fromEnv = this.env[variable];
    if (fromEnv) return { value: fromEnv, origin: `environment variable ${variable}` };
    if (this.secretsFile) {
      const secrets = await this.loadFile(this.secretsFile);
      const value = secrets[name];
      if (value) return { value, origin: `secrets file ${this.secretsFile}` };
    }
    throw new Error(
      `secret "${name}" not found: set ${variable}${this.secretsFile ? ` or add "${name}" to ${this.secretsFile}` : " or name a secretsFile in the config"}`,
    );
  }

  private loadFile(path: string): Promise<Record<string, string>> {
    this.file ??= readFile(path, "utf8").then(
      (text) => {
        const parsed = SecretsFileSchema.safeParse(JSON.parse(text));
        if (!parsed.success) throw new Error(`${path}: expected a JSON object of string values`);
        return parsed.data;
      },
      (e: NodeJS.ErrnoException) => {
        throw new Error(`cannot read secrets file ${path}: ${e.code ?? e.message}`);
      },
    );
    return this.file;
  }
}

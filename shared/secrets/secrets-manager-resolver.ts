import { SecretsProvider } from "@aws-lambda-powertools/parameters/secrets";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { ResolvedSecret, SecretResolver } from "./secret-resolver.ts";

/**
 * AWS resolution: Secrets Manager through Powertools Parameters, cached per container for `maxAgeSeconds` so
 * a warm Lambda does not pay a GetSecretValue call on every scheduled run. The value is never logged.
 */
export class SecretsManagerResolver implements SecretResolver {
  private readonly provider: SecretsProvider;

  constructor(
    client: SecretsManagerClient = new SecretsManagerClient({}),
    private readonly maxAgeSeconds = 300,
  ) {
    this.provider = new SecretsProvider({ awsSdkV3Client: client });
  }

  async resolve(name: string): Promise<ResolvedSecret> {
    const value = await this.provider.get(name, { maxAge: this.maxAgeSeconds });
    if (typeof value !== "string" || value.trim() === "") {
      throw new Error(
        `secret ${name} has no string value: put the provider's API key in it (aws secretsmanager put-secret-value --secret-id ${name} --secret-string ...)`,
      );
    }
    return { value: value.trim(), origin: `Secrets Manager (${name})` };
  }
}

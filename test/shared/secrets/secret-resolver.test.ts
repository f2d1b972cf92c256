import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { envVarForSecret, LocalSecretResolver } from "../../../shared/secrets/secret-resolver.ts";

describe("LocalSecretResolver", () => {
  it("maps secret names to environment variables", () => {
    expect(envVarForSecret("mailgun/api-key")).toBe("BOUNCE_RADAR_SECRET_MAILGUN_API_KEY");
  });

  it("prefers the environment, then the secrets file, and says which it used", async () => {
    const dir = await mkdtemp(join(tmpdir(), "br-secrets-"));
    const file = join(dir, "secrets.json");
    await writeFile(file, JSON.stringify({ "mailgun/api-key": "from-file", other: "o" }));
    const r = new LocalSecretResolver({ BOUNCE_RADAR_SECRET_MAILGUN_API_KEY: "from-env" }, file);
    expect(await r.resolve("mailgun/api-key")).toEqual({
      value: "from-env",
      origin: "environment variable BOUNCE_RADAR_SECRET_MAILGUN_API_KEY",
    });
    expect(await r.resolve("other")).toEqual({ value: "o", origin: `secrets file ${file}` });
  });

  it("explains how to provide a missing secret without leaking values", async () => {
    const r = new LocalSecretResolver({});
    await expect(r.resolve("mailgun/api-key")).rejects.toThrow(/set BOUNCE_RADAR_SECRET_MAILGUN_API_KEY/);
  });
});

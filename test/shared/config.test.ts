import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfigFile, parseConfig } from "../../shared/config.ts";

describe("configuration", () => {
  it("fills defaults for a minimal Mailgun and SES source", () => {
    const c = parseConfig({
      sources: [
        { id: "mg", provider: "mailgun", domains: ["mg.example.com"], apiKeySecret: "mailgun/api-key" },
        {
          id: "ses-eu",
          provider: "ses",
          queueUrl: "https://sqs.eu-west-1.amazonaws.com/123456789012/ses-events",
        },
      ],
    });
    expect(c.sources[0]).toMatchObject({ region: "us", api: "events", lagMinutes: 30, overlapMinutes: 30 });
    expect(c.sources[1]).toMatchObject({ batchSize: 1000, waitTimeSeconds: 20 });
    expect(c.masking.recipients).toBe(true);
  });

  it("names every offending field by its path", () => {
    const bad = () =>
      parseConfig({
        sources: [
          { id: "Bad Id", provider: "mailgun", domains: [], apiKeySecret: "k", lagMinutes: -1 },
          { id: "x", provider: "sendmail" },
        ],
      });
    expect(bad).toThrow(ConfigError);
    try {
      bad();
    } catch (e) {
      const msg = (e as Error).message;
      expect(msg).toMatch(/sources\.0\.id/);
      expect(msg).toMatch(/sources\.0\.lagMinutes/);
      expect(msg).toMatch(/sources\.1\.provider/);
    }
  });

  it("rejects unknown fields, duplicate ids and an Events source without domains", () => {
    expect(() => parseConfig({ sources: [], apiKey: "oops" })).toThrow(/apiKey|unrecognized/i);
    expect(() =>
      parseConfig({
        sources: [
          { id: "a", provider: "mailgun", domains: ["d"], apiKeySecret: "k" },
          { id: "a", provider: "mailgun", domains: ["d"], apiKeySecret: "k" },
        ],
      }),
    ).toThrow(/duplicate source id "a"/);
    expect(() => parseConfig({ sources: [{ id: "a", provider: "mailgun", apiKeySecret: "k" }] })).toThrow(
      /sources\.0\.domains/,
    );
  });

  it("says which file is unreadable or not JSON", async () => {
    const dir = await mkdtemp(join(tmpdir(), "br-config-"));
    await expect(loadConfigFile(join(dir, "missing.json"))).rejects.toThrow(
      /cannot read config file .*ENOENT/,
    );
    const broken = join(dir, "broken.json");
    await writeFile(broken, "{ nope");
    await expect(loadConfigFile(broken)).rejects.toThrow(/broken\.json is not valid JSON/);
  });
});

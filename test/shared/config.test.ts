import { generateKeyPairSync } from "node:crypto";
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

  it("refuses a sending IP written with a dotted IPv4 tail, naming the field and the form to write", () => {
    const parse = (sendingIps: string[]) => () => parseConfig({ sources: [], reputation: { sendingIps } });
    // IPv4-mapped: block lists and SNDS are asked about the IPv4 host.
    expect(parse(["192.0.2.10", "::ffff:192.0.2.1"])).toThrow(
      /reputation\.sendingIps\.1: "::ffff:192\.0\.2\.1" is an IPv4-mapped IPv6 address.*write 192\.0\.2\.1/,
    );
    // Any other embedded IPv4: the hexadecimal IPv6 form.
    expect(parse(["2001:db8::192.0.2.1"])).toThrow(
      /reputation\.sendingIps\.0: .*dotted IPv4 tail.*write 2001:db8::c000:201/,
    );
    expect(parse(["mta1.example.com"])).toThrow(/reputation\.sendingIps\.0: .*not an IPv4 or IPv6 address/);
    // Other spellings are kept in the one canonical form.
    const ok = parseConfig({ sources: [], reputation: { sendingIps: ["2001:DB8:0:0::1", "198.51.100.7"] } });
    expect(ok.reputation?.sendingIps).toEqual(["2001:db8::1", "198.51.100.7"]);
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

  it("fills deployment defaults and checks schedules, phone numbers, secret ARNs and retention order", () => {
    const c = parseConfig({});
    expect(c.schedules).toEqual({
      ingestEvents: "rate(15 minutes)",
      ingestReputation: "rate(6 hours)",
      analyze: "rate(1 hour)",
    });
    expect(c.retention.rawInfrequentAccessAfterDays).toBe(30);
    expect(c.analysis.thresholds).toEqual({
      fdr: 0.05,
      minHardBounces: 3,
      minRateIncrease: 0.02,
      minRateRatio: 2,
    });
    const ok = parseConfig({
      sources: [
        {
          id: "mg",
          provider: "mailgun",
          domains: ["mg.example.com"],
          apiKeySecret: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:bounce-radar/mailgun-AbCdEf",
        },
      ],
      subscriptions: { emails: ["ops@example.com"], phones: ["+447700900123"] },
      schedules: { analyze: "cron(5 * * * ? *)" },
    });
    expect(ok.schedules.analyze).toBe("cron(5 * * * ? *)");
    const bad = () =>
      parseConfig({
        subscriptions: { emails: ["not-an-address"], phones: ["447700900123"] },
        schedules: { ingestEvents: "rate(0 minutes)" },
        retention: { rawInfrequentAccessAfterDays: 60, rawExpireAfterDays: 45 },
      });
    expect(bad).toThrow(/subscriptions\.emails\.0/);
    expect(bad).toThrow(/subscriptions\.phones\.0: an E\.164 phone number/);
    expect(bad).toThrow(/schedules\.ingestEvents/);
    expect(bad).toThrow(
      /retention\.rawExpireAfterDays: must be later than rawInfrequentAccessAfterDays \(60\)/,
    );
  });

  it("refuses a webhook key SendGrid cannot have signed with, naming the field and the kind", () => {
    const der = (k: ReturnType<typeof generateKeyPairSync>["publicKey"]) =>
      k.export({ type: "spki", format: "der" }).toString("base64");
    const withKey = (webhookPublicKey: string) => () =>
      parseConfig({ sources: [{ id: "sendgrid", provider: "sendgrid", webhookPublicKey }] });
    const p256 = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    expect(withKey(der(p256.publicKey))).not.toThrow();
    expect(withKey(p256.publicKey.export({ type: "spki", format: "pem" }).toString())).not.toThrow();
    const privatePem = p256.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    expect(withKey(privatePem)).toThrow(/sources\.0\.webhookPublicKey: this is a private key/);
    expect(withKey(der(generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey))).toThrow(
      /sources\.0\.webhookPublicKey: the key is RSA: SendGrid signs with ECDSA P-256/,
    );
    expect(withKey(der(generateKeyPairSync("ed25519").publicKey))).toThrow(/the key is ED25519/);
    expect(withKey(der(generateKeyPairSync("ec", { namedCurve: "secp384r1" }).publicKey))).toThrow(
      /an EC key on secp384r1/,
    );
    expect(withKey("x".repeat(60))).toThrow(/webhookPublicKey: not a public key/);
  });
});

import { readdirSync } from "node:fs";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { startMailgunServer } from "../../shared/simulation/mailgun-api-server.ts";
import { startDnsServer } from "../support/dns-server.ts";
import { makeMailgunEvents } from "../support/mailgun-events.ts";
import { runCli as run } from "../support/run-cli.ts";

describe("bounce-radar ingest", () => {
  it("runs every configured source, says where the secret came from, and keeps the key out of its output", async () => {
    const apiKey = "key-cli-test-0000";
    const now = Date.now();
    const events = makeMailgunEvents({
      count: 400,
      start: new Date(now - 5 * 3_600_000),
      seed: 8,
      spanMs: 4 * 3_600_000,
    });
    const server = await startMailgunServer({ apiKey, events });
    try {
      const dir = await mkdtemp(join(tmpdir(), "br-ingest-cli-"));
      const config = join(dir, "bounce-radar.json");
      await writeFile(
        config,
        JSON.stringify({
          sources: [
            {
              id: "mg-main",
              provider: "mailgun",
              domains: ["mg.example.com"],
              apiKeySecret: "mailgun/api-key",
              baseUrl: server.baseUrl,
              startAt: new Date(now - 6 * 3_600_000).toISOString(),
              windowMinutes: 120,
            },
          ],
        }),
      );
      const r = await run(["ingest", "--data", join(dir, "data"), "--config", config], {
        BOUNCE_RADAR_SECRET_MAILGUN_API_KEY: apiKey,
      });
      expect(r.stderr).toMatch(
        /mg-main: Mailgun API key from environment variable BOUNCE_RADAR_SECRET_MAILGUN_API_KEY/,
      );
      expect(r.status).toBe(0);
      // Every event is older than now − 30 min (the lag), so all 400 are stored.
      expect(r.stdout).toMatch(/ingest mg-main: ok: 3 batch\(es\), .* wrote 400 new event\(s\)/);
      expect(`${r.stdout}${r.stderr}`).not.toContain(apiKey);
    } finally {
      await server.stop();
    }
  });

  it("fails with exit 1 naming the source when the API key is refused", async () => {
    const server = await startMailgunServer({ apiKey: "right-key", events: [] });
    try {
      const dir = await mkdtemp(join(tmpdir(), "br-ingest-cli-"));
      const config = join(dir, "c.json");
      await writeFile(
        config,
        JSON.stringify({
          sources: [
            {
              id: "mg",
              provider: "mailgun",
              domains: ["mg.example.com"],
              apiKeySecret: "k",
              baseUrl: server.baseUrl,
            },
          ],
        }),
      );
      const r = await run(["ingest", "--data", join(dir, "data"), "--config", config], {
        BOUNCE_RADAR_SECRET_K: "wrong-key",
      });
      expect(r.status).toBe(1);
      expect(r.stdout).toMatch(/ingest mg: FAILED \(.*(refused|401)/i);
      expect(`${r.stdout}${r.stderr}`).not.toContain("wrong-key");
    } finally {
      await server.stop();
    }
  });

  it("exits 2 with the offending fields for an invalid config", async () => {
    const dir = await mkdtemp(join(tmpdir(), "br-ingest-cli-"));
    const config = join(dir, "bad.json");
    await writeFile(
      config,
      JSON.stringify({
        sources: [{ id: "x", provider: "mailgun", domains: ["d"], apiKeySecret: "k", lagMinutes: "soon" }],
      }),
    );
    const r = await run(["ingest", "--data", join(dir, "data"), "--config", config]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/bad\.json is invalid:\n\s+sources\.0\.lagMinutes/);
  });

  it("runs the configured block lists too, and stores their answers under reputation/", async () => {
    const dns = await startDnsServer({ "2.0.0.127.bl.example": { a: ["127.0.0.2"] } });
    try {
      const dir = await mkdtemp(join(tmpdir(), "br-ingest-rep-"));
      const config = join(dir, "bounce-radar.json");
      await writeFile(
        config,
        JSON.stringify({
          reputation: {
            blocklists: [],
            customBlocklists: [{ id: "bl-example", zone: "bl.example", targets: "ip" }],
            sendingIps: ["127.0.0.2", "192.0.2.1"],
            dnsServers: [dns.address],
          },
        }),
      );
      const r = await run(["ingest", "--data", join(dir, "data"), "--config", config]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toContain("reputation: LISTED 127.0.0.2 on bl-example");
      expect(r.stderr).toMatch(
        /reputation: 2 block-list check\(s\): 1 listed, 0 unknown → reputation\/source=dnsbl\/dt=/,
      );
      expect(readdirSync(join(dir, "data", "reputation", "source=dnsbl"))).toHaveLength(1);
    } finally {
      await dns.stop();
    }
  });
  it("fails with exit 1 naming a cursor set in the future, instead of stalling silently", async () => {
    const server = await startMailgunServer({ apiKey: "k", events: [] });
    try {
      const dir = await mkdtemp(join(tmpdir(), "br-ingest-cli-"));
      const config = join(dir, "c.json");
      await writeFile(
        config,
        JSON.stringify({
          sources: [
            {
              id: "mg",
              provider: "mailgun",
              domains: ["mg.example.com"],
              apiKeySecret: "k",
              baseUrl: server.baseUrl,
            },
          ],
        }),
      );
      const cursor = join(dir, "data", "state", "cursors", "mg.json");
      await mkdir(join(dir, "data", "state", "cursors"), { recursive: true });
      await writeFile(
        cursor,
        JSON.stringify({ sourceId: "mg", position: "2099-01-01T00:00:00.000Z", lastBatch: "x" }),
      );
      const r = await run(["ingest", "--data", join(dir, "data"), "--config", config], {
        BOUNCE_RADAR_SECRET_K: "k",
      });
      expect(r.status).toBe(1);
      expect(r.stdout).toMatch(
        /ingest mg: FAILED \(cursor state\/cursors\/mg\.json .* says the next fetch starts at 2099-01-01T00:00:00\.000Z, after now/,
      );
    } finally {
      await server.stop();
    }
  });
});

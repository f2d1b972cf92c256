import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { makeMailgunEvents } from "../support/mailgun-events.ts";
import { runCli } from "../support/run-cli.ts";

const HOUR = 3_600_000;

// Organisation strings no key syntax expects, as a Mailgun export can carry them: an address literal, a
// leading dash, unicode, dots, an unvalidated recipient-domain, a name longer than a file name may be.
const ODD_RECIPIENTS: ReadonlyArray<{ recipient: string; domain?: string }> = [
  { recipient: "someone@[192.0.2.1]" },
  { recipient: "someone@[IPv6:2001:db8::1]" },
  { recipient: "a.person@-leading-dash.com" },
  { recipient: "jürgen@bücher.example" },
  { recipient: "dots@.." },
  { recipient: "x@example.com", domain: "../../state/alerts.json" },
  { recipient: "y@example.com", domain: "CON" },
  { recipient: `long@${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(57)}.com` },
];

describe("any organisation string is storable", () => {
  it("import then analyze with odd organisations in the window: exit 0 and a report naming them", async () => {
    const dir = await mkdtemp(join(tmpdir(), "br-odd-org-"));
    const start = new Date(Date.UTC(2026, 10, 1));
    const events = makeMailgunEvents({ count: 300, start, seed: 5, spanMs: 20 * HOUR });
    // Each odd recipient gets a delivery early on and a hard bounce later (recipient history, then the window).
    const odd = ODD_RECIPIENTS.flatMap(({ recipient, domain }, i) =>
      [0, 1].map((k) => {
        const base = events[i * 20 + k * 150] as Record<string, unknown>;
        return {
          ...base,
          id: `odd-${i}-${k}`,
          event: k === 0 ? "delivered" : "failed",
          ...(k === 1 ? { severity: "permanent" } : {}),
          recipient,
          "recipient-domain": domain ?? recipient.slice(recipient.lastIndexOf("@") + 1),
        };
      }),
    );
    const file = join(dir, "mailgun.ndjson");
    await writeFile(file, `${JSON.stringify({ items: [...events, ...odd], paging: {} })}\n`);
    const data = join(dir, "data");
    const imported = await runCli(["import", "--source", "mailgun", "--data", data, file]);
    expect(imported.status, imported.stderr).toBe(0);
    // The recipient domain comes from the address (Mailgun's recipient-domain is not checked against it): the
    // overrides below no longer reach storage, and `dots@..`, which has no domain, is quarantined (2 events).
    expect(imported.stdout).toMatch(/wrote 314 new, 0 duplicate\(s\) skipped, 2 quarantined/);

    const analyzed = await runCli([
      "analyze",
      "--data",
      data,
      "--at",
      new Date(start.getTime() + 22 * HOUR).toISOString(),
      "--window",
      "24h",
      "--dns-server",
      "127.0.0.1:9",
      "--json",
    ]);
    expect(analyzed.status, analyzed.stderr).toBe(0);
    const report = JSON.parse(analyzed.stdout) as { runId: string; organisations: Array<{ domain: string }> };
    const domains = report.organisations.map((o) => o.domain);
    for (const odd of ["[192.0.2.1]", "-leading-dash.com", "xn--bcher-kva.example"])
      expect(domains).toContain(odd);
    const latest = JSON.parse(await readFile(join(data, "reports", "latest.json"), "utf8"));
    expect(latest.runId).toBe(report.runId);
  }, 120_000);
});

import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ProviderEvent } from "../../shared/domain/events/normalized-event.ts";
import { type Report, ReportSchema } from "../../shared/domain/report/report-schema.ts";
import {
  generateHistory,
  type History,
  type IncidentKind,
  SENDER_DOMAIN,
} from "../../shared/simulation/b2b-history.ts";
import { toMailgunEvent } from "../../shared/simulation/to-mailgun-event.ts";
import { type DnsServer, startDnsServer } from "../support/dns-server.ts";
import { runCli } from "../support/run-cli.ts";

/*
 * The three stories the first attribution got wrong, through the real pipeline: a Mailgun export of a simulated
 * six-week history, `bounce-radar import`, then `analyze --json` with MX records from a DNS server on loopback.
 * Each history's injected bounces are rewritten with the wording that misled it:
 * 1. an ESP pool fault answered by the ESP's own MTA ("[internal]" 5.4.x routing failures, some naming the
 *    sender's own IP): it gave one recipient_filter note per gateway and no esp_fault alert;
 * 2. broken DMARC where Mimecast answers with its header-based anti-spoofing policy: it added a false
 *    recipient_filter alert for the Mimecast organisations;
 * 3. a content-blocked campaign where Yahoo (a consumer provider) says "not accepted for policy reasons" and
 *    Trend Micro organisations their admins' block: it added false recipient_filter alerts for both.
 */

const DAY = 86_400_000;
const START = new Date("2026-09-01T00:00:00.000Z");
const DAYS = 35;
const END = new Date(START.getTime() + DAYS * DAY);
const ONSET = new Date(END.getTime() - DAY);

interface Story {
  readonly history: History;
  readonly report: Report;
}

let dns: DnsServer;
const zone: Record<string, { mx: Array<{ exchange: string; priority: number }> }> = {};

beforeAll(async () => {
  dns = await startDnsServer(zone);
});
afterAll(async () => {
  await dns?.stop();
});

/** Generates, rewrites, exports, imports and analyses one story. */
async function story(
  seed: number,
  kind: IncidentKind,
  rewrite: (e: ProviderEvent, injected: boolean, history: History) => ProviderEvent,
): Promise<Story> {
  const history = generateHistory({
    seed,
    start: START,
    days: DAYS,
    organisations: 150,
    incidents: [{ kind, at: ONSET }],
  });
  Object.assign(zone, history.zone);
  const injected = new Set(history.incidents[0]?.eventIds ?? []);
  expect(injected.size).toBeGreaterThan(50);
  const lines = history.events.map((e) =>
    JSON.stringify(toMailgunEvent(rewrite(e, injected.has(e.id), history), SENDER_DOMAIN)),
  );
  const dir = await mkdtemp(join(tmpdir(), `br-story-${kind}-`));
  const data = join(dir, "data");
  const file = join(dir, "mailgun-export.ndjson");
  await writeFile(file, `${lines.join("\n")}\n`);
  const imported = await runCli(["import", "--source", "mailgun", "--data", data, file]);
  expect(imported.status, imported.stderr).toBe(0);
  const analyzed = await runCli([
    "analyze",
    "--data",
    data,
    "--at",
    END.toISOString(),
    "--dns-server",
    dns.address,
    "--json",
  ]);
  expect(analyzed.status, analyzed.stderr).toBe(0);
  return { history, report: ReportSchema.parse(JSON.parse(analyzed.stdout)) };
}

const alerts = (r: Report) => r.incidents.filter((i) => i.alert);
const describeAll = (r: Report) =>
  r.incidents
    .map((i) => `${i.alert ? "ALERT" : "note"} ${i.verdict} ${i.confidence} ${i.scope.gateways.join(",")}`)
    .join("\n");

describe("one coherent story when the sender is at fault", () => {
  it("an ESP pool failing with its own [internal] routing replies is one esp_fault alert on that pool", async () => {
    const { history, report } = await story(31, "esp_pool_fault", (e, injected) => {
      if (!injected) return e;
      const own = Number.parseInt(e.id.slice(-2), 16) % 2 === 0;
      return {
        ...e,
        smtp: own
          ? {
              code: 550,
              enhanced: "5.4.4",
              text: `550 5.4.4 [internal] no MX host reachable from ${e.sendingIp ?? "our relay"}`,
            }
          : {
              code: 554,
              enhanced: "5.4.6",
              text: "554 5.4.6 [internal] routing loop detected, message not delivered",
            },
      };
    });
    const pool = history.incidents[0]?.sendingIps ?? [];
    expect(report.totals.consumer?.spike).toBe(true);
    const raised = alerts(report);
    expect(raised, describeAll(report)).toHaveLength(1);
    expect(raised[0]).toMatchObject({ verdict: "esp_fault", side: "sender" });
    expect([...(raised[0]?.scope.sendingIps ?? [])].sort()).toEqual([...pool].sort());
    expect(
      report.incidents.filter((i) => i.verdict === "recipient_filter"),
      describeAll(report),
    ).toEqual([]);
    const localisation = raised[0]?.evidence.find((x) => x.signal === "localisation")?.detail ?? "";
    expect(localisation).toMatch(/carry \d+% of the excess hard bounces/);
  }, 180_000);

  it("broken DMARC with Mimecast's anti-spoofing replies is one sender_authentication alert, Mimecast included", async () => {
    const { report } = await story(32, "dmarc_failing", (e, injected, history) => {
      const org = history.organisations.find((o) => e.recipient.endsWith(`@${o.domain}`));
      if (!injected || org?.gateway !== "mimecast") return e;
      return {
        ...e,
        smtp: {
          code: 550,
          enhanced: null,
          text: `550 Rejected by header based Anti-Spoofing policy: ${SENDER_DOMAIN} - https://community.mimecast.com/docs/DOC-1369#550 [zcvMm1CgO9SlVwMxq8mW4g.uk256]`,
        },
      };
    });
    const raised = alerts(report);
    expect(
      raised.map((i) => i.verdict),
      describeAll(report),
    ).toEqual(["sender_authentication"]);
    expect(raised[0]?.scope.gateways).toContain("mimecast");
    expect(
      report.incidents.filter((i) => i.side === "recipient"),
      describeAll(report),
    ).toEqual([]);
  }, 180_000);

  it("a content-blocked campaign with Yahoo and Trend Micro policy replies is one content_block alert", async () => {
    const { history, report } = await story(33, "content_block", (e, injected, h) => {
      const campaign = h.incidents[0]?.campaign;
      const org = h.organisations.find((o) => e.recipient.endsWith(`@${o.domain}`));
      // Yahoo refuses part of the campaign with its policy wording instead of junking it.
      if (
        e.campaign === campaign &&
        e.recipientDomain === "yahoo.com" &&
        e.type === "delivered" &&
        e.id.endsWith("3")
      )
        return {
          ...e,
          type: "bounced",
          espClass: "hard",
          smtp: {
            code: 554,
            enhanced: "5.7.9",
            text: "554 5.7.9 Message not accepted for policy reasons.  See https://postmaster.yahooinc.com/error-codes",
          },
        };
      if (injected && org?.gateway === "trend_micro")
        return {
          ...e,
          smtp: {
            code: 554,
            enhanced: "5.7.1",
            text: `554 5.7.1 <${e.recipient}>: Recipient address rejected: BLOCK-SEND-ER.`,
          },
        };
      return e;
    });
    expect(history.incidents[0]?.campaign).toBeTruthy();
    const raised = alerts(report);
    expect(
      raised.map((i) => i.verdict),
      describeAll(report),
    ).toEqual(["content_block"]);
    expect(
      report.incidents.filter((i) => i.side === "recipient"),
      describeAll(report),
    ).toEqual([]);
    expect(report.incidents.some((i) => i.scope.domains.includes("yahoo.com") && i.side !== "sender")).toBe(
      false,
    );
  }, 180_000);
});

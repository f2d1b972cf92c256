import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SuppressionsIo, suppressionsCommand } from "../../cli/commands/suppressions.ts";
import { parseConfig } from "../../shared/config.ts";
import { GatewayLookup } from "../../shared/dns/gateway-lookup.ts";
import type { ProviderEvent } from "../../shared/domain/events/normalized-event.ts";
import { runAnalysis } from "../../shared/pipeline/analyze/run-analysis.ts";
import { IncidentNotFoundError } from "../../shared/pipeline/suppressions/find-wrongly-suppressed.ts";
import { generateHistory, type History, SENDER_DOMAIN } from "../../shared/simulation/b2b-history.ts";
import { ZoneMxResolver } from "../../shared/simulation/zone-mx-resolver.ts";
import { LocalObjectStore } from "../../shared/store/local-object-store.ts";
import {
  type PostmarkApiServer,
  postmarkBounce,
  startPostmarkApiServer,
} from "../support/postmark-api-server.ts";
import { type SendgridApiServer, startSendgridApiServer } from "../support/sendgrid-api-server.ts";
import { storeHistory } from "../support/store-history.ts";

const DAY = 86_400_000;
const PROVIDERS = ["mailgun", "sendgrid", "postmark", "ses"] as const;
type Provider = (typeof PROVIDERS)[number];
const providerOf = (address: string): Provider =>
  PROVIDERS[(createHash("sha256").update(address).digest()[0] ?? 0) % PROVIDERS.length] as Provider;

/** A tiny ESP endpoint recording each call: Mailgun's bounce DELETE, or SESv2's suppression DELETE. */
interface Recorder {
  readonly url: string;
  readonly calls: string[];
  stop(): Promise<void>;
}
async function startRecorder(
  route: RegExp,
  suppressed: Set<string>,
  notFound: (res: import("node:http").ServerResponse) => void,
): Promise<Recorder> {
  const calls: string[] = [];
  const server: Server = createServer((req, res) => {
    const m = route.exec(req.url ?? "");
    if (req.method !== "DELETE" || !m) {
      res.writeHead(400).end();
      return;
    }
    const address = decodeURIComponent(m[m.length - 1] ?? "");
    calls.push(req.url ?? "");
    if (!suppressed.delete(address)) return notFound(res);
    res
      .writeHead(200, { "content-type": "application/json" })
      .end('{"message":"Bounced address has been removed"}');
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    stop: () => new Promise((r) => server.close(() => r())),
  };
}

// The must-show: after a recipient-side incident, the dry run lists exactly the incident's previously
// delivered addresses; --apply calls each ESP's endpoint once per address and writes the audit records.
describe("bounce-radar suppressions after a recipient-side incident", () => {
  const start = new Date("2026-10-01T00:00:00.000Z");
  const end = new Date(start.getTime() + 35 * DAY);
  const env = { ...process.env };
  let history: History;
  let data: string;
  let incidentId: string;
  /** What the report (and so the alert) says: its wrongly suppressed entries. */
  let reportCount: number;
  let expected: string[];
  let events: ProviderEvent[];
  let mailgun: Recorder;
  let ses: Recorder;
  let sendgrid: SendgridApiServer;
  let postmark: PostmarkApiServer;

  beforeAll(async () => {
    history = generateHistory({
      seed: 5,
      start,
      days: 35,
      organisations: 80,
      incidents: [{ kind: "gateway_user_unknown_one_org", at: new Date(end.getTime() - DAY) }],
    });
    // The sender uses four ESPs, split by recipient: each bounce was suppressed by the ESP that sent it.
    let postmarkId = 4_100_000;
    events = history.events.map((e) => {
      const provider = providerOf(e.recipient);
      return {
        ...e,
        source: provider,
        id:
          provider === "postmark" && e.type === "bounced"
            ? `postmark:${postmarkId++}`
            : `${provider}:${e.id}`,
      };
    });
    data = await mkdtemp(join(tmpdir(), "br-suppressions-"));
    const store = new LocalObjectStore(data);
    await storeHistory(store, events, "history-5");
    const gateways = new GatewayLookup(new ZoneMxResolver(history.zone), store, { now: () => end });
    await gateways.load();
    const { report } = await runAnalysis(
      { at: end, windowHours: 24, baselineDays: 28, maskRecipients: true },
      { store, gateways, now: () => end, log: () => undefined },
    );
    const incident = report.incidents.find((i) => i.alert && i.side === "recipient");
    if (!incident) throw new Error("the analysis found no recipient-side incident");
    incidentId = incident.id;
    reportCount = incident.wronglySuppressed.length;

    // Expected, from the raw history alone: hard-bounced addresses at the incident's organisations in the
    // window that had a delivery in the 90 days before their bounce.
    const orgs = new Set(incident.scope.domains);
    const windowStart = end.getTime() - DAY;
    const bounced = events.filter(
      (e) =>
        e.type === "bounced" &&
        orgs.has(e.recipientDomain) &&
        Date.parse(e.occurredAt) >= windowStart &&
        Date.parse(e.occurredAt) < end.getTime(),
    );
    expected = [
      ...new Set(
        bounced
          .filter((b) =>
            events.some(
              (d) =>
                d.type === "delivered" &&
                d.recipient === b.recipient &&
                Date.parse(d.occurredAt) < Date.parse(b.occurredAt) &&
                Date.parse(d.occurredAt) >= Date.parse(b.occurredAt) - 90 * DAY,
            ),
          )
          .map((b) => b.recipient.toLowerCase()),
      ),
    ].sort();

    const byProvider = (p: Provider) => expected.filter((a) => providerOf(a) === p);
    mailgun = await startRecorder(
      /^\/v3\/([^/]+)\/bounces\/([^/?]+)$/,
      new Set(byProvider("mailgun")),
      (res) =>
        res
          .writeHead(404, { "content-type": "application/json" })
          .end('{"message":"Address not found in bounces table"}'),
    );
    ses = await startRecorder(
      /^\/v2\/email\/suppression\/addresses\/([^/?]+)$/,
      new Set(byProvider("ses")),
      (res) =>
        res
          .writeHead(404, { "content-type": "application/json", "x-amzn-errortype": "NotFoundException" })
          .end('{"message":"Email address is not on the suppression list"}'),
    );
    const created = Math.floor(windowStart / 1000) + 3600;
    sendgrid = await startSendgridApiServer({
      apiKey: "SG.test-repair-key",
      bounces: byProvider("sendgrid").map((email) => ({
        created,
        email,
        reason: "550 5.1.1 User unknown",
        status: "5.1.1",
      })),
    });
    const postmarkBounces = events
      .filter(
        (e) =>
          e.source === "postmark" && e.type === "bounced" && expected.includes(e.recipient.toLowerCase()),
      )
      .map((e) =>
        postmarkBounce(Number(e.id.split(":")[1]), Date.parse(e.occurredAt), { Email: e.recipient }),
      );
    postmark = await startPostmarkApiServer({
      serverToken: "test-postmark-server-token",
      bounces: postmarkBounces,
    });
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_SESV2: ses.url,
      AWS_ACCESS_KEY_ID: "AKIDTEST",
      AWS_SECRET_ACCESS_KEY: "test-secret",
      AWS_MAX_ATTEMPTS: "1",
    });
  }, 120_000);

  afterAll(async () => {
    process.env = env;
    await Promise.all([mailgun?.stop(), ses?.stop(), sendgrid?.stop(), postmark?.stop()]);
  });

  const io = (out: string[], err: string[], extra: Partial<SuppressionsIo> = {}): SuppressionsIo => ({
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    confirm: null,
    loadConfig: async () =>
      parseConfig({
        sources: [
          {
            id: "mailgun-us",
            provider: "mailgun",
            domains: [SENDER_DOMAIN],
            apiKeySecret: "mailgun/key",
            baseUrl: mailgun.url,
          },
          { id: "sendgrid", provider: "sendgrid", apiKeySecret: "sendgrid/key", baseUrl: sendgrid.baseUrl },
          {
            id: "postmark",
            provider: "postmark",
            serverTokenSecret: "postmark/token",
            baseUrl: postmark.baseUrl,
          },
          {
            id: "ses-eu",
            provider: "ses",
            region: "eu-west-1",
            queueUrl: "https://sqs.eu-west-1.amazonaws.com/123456789012/ses-events",
          },
        ],
      }),
    env: {
      BOUNCE_RADAR_SECRET_MAILGUN_KEY: "test-mailgun-key",
      BOUNCE_RADAR_SECRET_SENDGRID_KEY: "SG.test-repair-key",
      BOUNCE_RADAR_SECRET_POSTMARK_TOKEN: "test-postmark-server-token",
    },
    http: { sleep: async () => undefined, maxAttempts: 1 },
    sleep: async () => undefined,
    ...extra,
  });
  const options = {
    data: "",
    incident: "",
    reveal: true,
    apply: false,
    yes: false,
    ratePerSecond: 50,
    json: true,
  };

  it("lists exactly the incident's previously delivered addresses in a dry run, and changes nothing", async () => {
    const out: string[] = [];
    const { found, repair } = await suppressionsCommand(
      { ...options, data, incident: incidentId },
      io(out, []),
    );
    expect(repair).toBeNull();
    const listed = (JSON.parse(out.join("\n")) as { reactivate: Array<{ address: string }> }).reactivate
      .map((c) => c.address)
      .sort();
    expect(expected.length).toBeGreaterThan(10);
    expect(listed).toEqual(expected);
    // The report counts the same addresses (one masked entry each, masked forms may repeat).
    expect(reportCount).toBe(expected.length);
    // The generator's truth: every injected "user unknown" address existed, so each is listed.
    const injected = new Set(
      events
        .filter((e) => history.incidents[0]?.eventIds.includes(e.id.replace(/^[a-z]+:/, "")))
        .map((e) => e.recipient.toLowerCase()),
    );
    for (const a of injected) expect(listed).toContain(a);
    // Genuine never-delivered bounces at the organisation are kept.
    for (const k of found.review.keep)
      expect(k.lastDeliveredAt === null || k.why.startsWith("delivered again")).toBe(true);
    expect(mailgun.calls).toEqual([]);
    expect(sendgrid.deletes).toEqual([]);
  });

  it("masks the addresses unless --reveal", async () => {
    const out: string[] = [];
    await suppressionsCommand(
      { ...options, data, incident: incidentId, reveal: false, json: false },
      io(out, []),
    );
    const text = out.join("\n");
    expect(text).toContain(`${expected.length} address(es) wrongly suppressed`);
    for (const a of expected) expect(text).not.toContain(a);
    expect(text).toContain("Dry run: nothing was changed");
  });

  it("refuses --apply off a terminal without --yes, and an unknown incident", async () => {
    await expect(
      suppressionsCommand({ ...options, data, incident: incidentId, apply: true }, io([], [])),
    ).rejects.toThrow(/confirm on a terminal, or pass --yes/);
    await expect(
      suppressionsCommand({ ...options, data, incident: "nope" }, io([], [])),
    ).rejects.toBeInstanceOf(IncidentNotFoundError);
  });

  it("with --apply calls each ESP once per address and audits every call", async () => {
    const err: string[] = [];
    const { repair } = await suppressionsCommand(
      { ...options, data, incident: incidentId, apply: true, yes: true },
      io([], err),
    );
    if (!repair) throw new Error("no repair ran");
    const of = (p: Provider) => expected.filter((a) => providerOf(a) === p);
    expect(mailgun.calls.sort()).toEqual(
      of("mailgun")
        .map((a) => `/v3/${SENDER_DOMAIN}/bounces/${encodeURIComponent(a)}`)
        .sort(),
    );
    expect(ses.calls.sort()).toEqual(
      of("ses")
        .map((a) => `/v2/email/suppression/addresses/${encodeURIComponent(a)}`)
        .sort(),
    );
    expect(
      sendgrid.deletes
        .filter((d) => d.kind === "bounces")
        .map((d) => d.email)
        .sort(),
    ).toEqual(of("sendgrid"));
    expect(
      sendgrid.deletes
        .filter((d) => d.kind === "blocks")
        .map((d) => d.email)
        .sort(),
    ).toEqual(of("sendgrid"));
    expect(postmark.activateCalls).toHaveLength(of("postmark").length);
    expect(repair.failed).toBe(0);
    // One audit line per call: two per SendGrid address (bounces and blocks), one per other address.
    const dir = join(data, "audit");
    const [day] = await readdir(dir);
    const [file] = await readdir(join(dir, day ?? ""));
    const lines = (await readFile(join(dir, day ?? "", file ?? ""), "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { status: string; address: string; incident: string });
    expect(lines).toHaveLength(expected.length + of("sendgrid").length);
    expect(new Set(lines.map((l) => l.address))).toEqual(new Set(expected));
    expect(lines.every((l) => l.incident === incidentId)).toBe(true);
    expect(lines.filter((l) => l.status === "reactivated")).toHaveLength(expected.length);
    expect(err.join("\n")).toMatch(/audit → /);
  });

  it("without --reveal masks the addresses quoted in the reply texts of its JSON", async () => {
    // The JSON dry run carries each address's last reply text, which quotes the address at some gateways.
    const out: string[] = [];
    await suppressionsCommand({ ...options, data, incident: incidentId, reveal: false }, io(out, []));
    const json = out.join("\n");
    expect(JSON.parse(json).reactivate).toHaveLength(expected.length);
    expect(json).toMatch(/<\S\*\*\*@\S+>/);
    for (const a of expected) expect(json).not.toContain(a);
  });

  it("without --reveal masks the address in a failed ESP call's URL and error message", async () => {
    // A Mailgun that fails every call, echoing the address: the URL carries it encoded, the error plainly.
    const failing = createServer((req, res) => {
      res
        .writeHead(500, { "content-type": "application/json" })
        .end(JSON.stringify({ message: `internal error for ${decodeURIComponent(req.url ?? "")}` }));
    });
    await new Promise<void>((r) => failing.listen(0, "127.0.0.1", r));
    try {
      const err: string[] = [];
      const base = io([], err);
      const { repair } = await suppressionsCommand(
        { ...options, data, incident: incidentId, apply: true, yes: true, reveal: false, json: false },
        {
          ...base,
          loadConfig: async () =>
            parseConfig({
              sources: [
                {
                  id: "mailgun-us",
                  provider: "mailgun",
                  domains: [SENDER_DOMAIN],
                  apiKeySecret: "mailgun/key",
                  baseUrl: `http://127.0.0.1:${(failing.address() as AddressInfo).port}`,
                },
              ],
            }),
        },
      );
      const mailgunAddresses = expected.filter((a) => providerOf(a) === "mailgun");
      expect(repair?.failed).toBe(mailgunAddresses.length);
      const text = err.join("\n");
      expect(text).toMatch(/FAILED \S+\*\*\*@\S+ at mailgun-us \(DELETE .*\): .*\/bounces\/\S+\*\*\*%40/);
      for (const a of expected) {
        expect(text).not.toContain(a);
        expect(text).not.toContain(encodeURIComponent(a));
      }
    } finally {
      await new Promise<void>((r) => failing.close(() => r()));
    }
  });
});

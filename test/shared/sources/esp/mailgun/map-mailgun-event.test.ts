import { describe, expect, it } from "vitest";
import {
  type ProviderEvent,
  ProviderEventSchema,
} from "../../../../../shared/domain/events/normalized-event.ts";
import { mapMailgunEvent } from "../../../../../shared/sources/esp/mailgun/map-mailgun-event.ts";

// 2024-05-29T16:26:40.123Z
const TS = 1717000000.123;

/** The §2.3 example, the base every case varies. */
function failed(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: "Ase7i2zsRYeDXztHGENqRA",
    event: "failed",
    timestamp: TS,
    severity: "permanent",
    reason: "bounce",
    "log-level": "error",
    recipient: "A.Lee@Acme-Corp.com",
    "recipient-domain": "acme-corp.com",
    "delivery-status": {
      code: 550,
      "enhanced-code": "5.1.1",
      message: "5.1.1 user unknown",
      description: "",
      "attempt-no": 1,
      "mx-host": "mx0a-00123401.pphosted.com",
    },
    envelope: { "sending-ip": "198.51.100.9", sender: "postmaster@mg.example.com" },
    message: { headers: { "message-id": "20240529.1@mg.example.com" } },
    tags: ["newsletter"],
    ...extra,
  };
}

function one(record: unknown): ProviderEvent {
  const r = mapMailgunEvent(record);
  if (!r.ok) throw new Error(`expected ok, got: ${r.reason}`);
  expect(r.events).toHaveLength(1);
  const e = r.events[0];
  if (!e) throw new Error("no event");
  // Whatever the mapper returns must satisfy the shared contract.
  expect(ProviderEventSchema.parse(e)).toEqual(e);
  return e;
}

function reasonOf(record: unknown): string {
  const r = mapMailgunEvent(record);
  if (r.ok) throw new Error(`expected a failure, got ${JSON.stringify(r.events)}`);
  return r.reason;
}

describe("mapMailgunEvent", () => {
  it("maps a hard bounce with every field", () => {
    expect(one(failed())).toEqual({
      id: "mailgun:Ase7i2zsRYeDXztHGENqRA:2024-05-29",
      source: "mailgun",
      occurredAt: "2024-05-29T16:26:40.123Z",
      type: "bounced",
      recipient: "a.lee@acme-corp.com",
      recipientDomain: "acme-corp.com",
      smtp: { code: 550, enhanced: "5.1.1", text: "5.1.1 user unknown" },
      espClass: "hard",
      mxHost: "mx0a-00123401.pphosted.com",
      sendingIp: "198.51.100.9",
      ipPool: null,
      messageId: "20240529.1@mg.example.com",
      campaign: "newsletter",
    });
  });

  it("maps delivered", () => {
    const e = one(
      failed({
        event: "delivered",
        severity: undefined,
        reason: undefined,
        "delivery-status": { code: 250, message: "OK", "mx-host": "acme-corp.mail.protection.outlook.com." },
      }),
    );
    expect(e.type).toBe("delivered");
    expect(e.espClass).toBeNull();
    expect(e.smtp).toEqual({ code: 250, enhanced: null, text: "OK" });
    expect(e.mxHost).toBe("acme-corp.mail.protection.outlook.com");
  });

  it("maps a temporary failure to a soft deferral", () => {
    const e = one(
      failed({
        severity: "temporary",
        reason: "generic",
        "delivery-status": { code: 451, "enhanced-code": "4.7.1", message: "4.7.1 Greylisting in action" },
      }),
    );
    expect(e).toMatchObject({ type: "deferred", espClass: "soft" });
    expect(e.smtp).toEqual({ code: 451, enhanced: "4.7.1", text: "4.7.1 Greylisting in action" });
  });

  it.each([
    ["old", "soft"],
    ["espblock", "block"],
    ["generic", "undetermined"],
    ["greylisted", "undetermined"],
    [undefined, "undetermined"],
  ] as const)("maps permanent reason %s to bounced/%s", (reason, espClass) => {
    expect(one(failed({ reason }))).toMatchObject({ type: "bounced", espClass });
  });

  it.each(["suppress-bounce", "suppress-unsubscribe", "suppress-complaint"])(
    "maps reason %s to dropped, whatever the code",
    (reason) => {
      expect(one(failed({ reason }))).toMatchObject({ type: "dropped", espClass: null });
    },
  );

  it.each([605, 606, 607, 625])("maps Mailgun drop code %i to dropped, with no SMTP code", (code) => {
    const e = one(
      failed({
        reason: "generic",
        "delivery-status": { code, message: "", description: "Not delivering to previously bounced address" },
      }),
    );
    expect(e).toMatchObject({ type: "dropped", espClass: null });
    // 6xx are Mailgun-internal: no receiving server said them.
    expect(e.smtp).toEqual({
      code: null,
      enhanced: null,
      text: "Not delivering to previously bounced address",
    });
    expect(e.mxHost).toBeNull();
  });

  it("does not drop another 6xx code: it is a bounce without a reply code", () => {
    const e = one(
      failed({ reason: "generic", "delivery-status": { code: 612, message: "Mailgun internal" } }),
    );
    expect(e).toMatchObject({
      type: "bounced",
      espClass: "undetermined",
      smtp: { code: null, text: "Mailgun internal" },
    });
  });

  it("maps rejected, complained and accepted without SMTP data", () => {
    const bare = { "delivery-status": undefined, severity: undefined, reason: undefined };
    expect(one(failed({ ...bare, event: "rejected" }))).toMatchObject({
      type: "dropped",
      espClass: null,
      smtp: null,
    });
    expect(one(failed({ ...bare, event: "complained" }))).toMatchObject({ type: "complained", smtp: null });
    expect(one(failed({ ...bare, event: "accepted" }))).toMatchObject({ type: "sent", smtp: null });
  });

  it.each(["opened", "clicked", "unsubscribed", "stored", "list_member_uploaded"])(
    "yields no events for %s",
    (event) => {
      expect(mapMailgunEvent({ id: "x1", event, timestamp: TS })).toEqual({ ok: true, events: [] });
    },
  );

  it("scopes ids to the UTC day: one Mailgun id on two days gives two ids", () => {
    const a = one(failed({ timestamp: 1717027199.9 })); // 2024-05-29T23:59:59.900Z
    const b = one(failed({ timestamp: 1717027200.1 })); // 2024-05-30T00:00:00.100Z
    expect(a.id).toBe("mailgun:Ase7i2zsRYeDXztHGENqRA:2024-05-29");
    expect(b.id).toBe("mailgun:Ase7i2zsRYeDXztHGENqRA:2024-05-30");
  });

  it("reads a Logs API item (@timestamp, i-ip-pool-id) and gives it the Events API id", () => {
    const { timestamp: _t, ...rest } = failed();
    const logs = one({
      ...rest,
      "@timestamp": "2024-05-29T16:26:40.123Z",
      envelope: { "sending-ip": "198.51.100.9", "i-ip-pool-id": "pool-b" },
      "recipient-provider": "Other",
      "delivery-status": {
        code: 550,
        "enhanced-code": "5.1.1",
        message: "5.1.1 user unknown",
        "bounce-type": "hard",
      },
    });
    expect(logs.occurredAt).toBe("2024-05-29T16:26:40.123Z");
    expect(logs.ipPool).toBe("pool-b");
    expect(logs.id).toBe(one(failed()).id);
  });

  it("normalises the timestamp to milliseconds, and an ISO offset to UTC", () => {
    expect(one(failed({ timestamp: 1717000000.123456 })).occurredAt).toBe("2024-05-29T16:26:40.123Z");
    expect(one(failed({ timestamp: 1717000000 })).occurredAt).toBe("2024-05-29T16:26:40.000Z");
    const { timestamp: _t, ...rest } = failed();
    expect(one({ ...rest, "@timestamp": "2024-05-29T18:26:40+02:00" }).occurredAt).toBe(
      "2024-05-29T16:26:40.000Z",
    );
  });

  it("takes recipientDomain from recipient-domain, else from the address, normalised", () => {
    expect(one(failed({ "recipient-domain": "Acme-Corp.COM." })).recipientDomain).toBe("acme-corp.com");
    const e = one(failed({ "recipient-domain": undefined, recipient: "Jo@Bücher.de" }));
    expect(e.recipient).toBe("jo@xn--bcher-kva.de");
    expect(e.recipientDomain).toBe("xn--bcher-kva.de");
  });

  it("keeps only valid enhanced codes and falls back to the description for text", () => {
    const e = one(
      failed({
        "delivery-status": { code: 550, "enhanced-code": "5.1", message: "", description: "No such user" },
      }),
    );
    expect(e.smtp).toEqual({ code: 550, enhanced: null, text: "No such user" });
  });

  it("prefers the campaign id over the first tag", () => {
    expect(one(failed({ campaigns: [{ id: "spring-24", name: "Spring" }] })).campaign).toBe("spring-24");
    expect(one(failed({ tags: [] })).campaign).toBeNull();
  });

  it("does not quarantine a bounce over an oddly typed descriptive field", () => {
    const e = one(failed({ envelope: "n/a", message: { headers: 7 }, tags: "x" }));
    expect(e).toMatchObject({ type: "bounced", sendingIp: null, messageId: null, campaign: null });
  });

  it.each([
    ["missing id", { id: undefined }, /^id: missing/],
    ["empty id", { id: "" }, /^id:/],
    ["missing event", { event: undefined }, /^event: missing/],
    ["unknown event", { event: "teleported" }, /^event: unknown value "teleported"/],
    ["missing timestamp", { timestamp: undefined }, /^timestamp: missing/],
    ["string timestamp", { timestamp: "1717000000" }, /^timestamp: not epoch seconds/],
    ["milliseconds timestamp", { timestamp: 1717000000123 }, /^timestamp: not epoch seconds/],
    ["missing recipient", { recipient: undefined }, /^recipient: missing/],
    ["recipient without @", { recipient: "a.lee" }, /^recipient: not an email address/],
    ["recipient with nothing before @", { recipient: "@acme-corp.com" }, /^recipient: not an email address/],
    ["numeric recipient", { recipient: 42 }, /^recipient:/],
    ["failed without severity", { severity: undefined }, /^severity:/],
  ] as const)("rejects a record with %s, naming the field", (_name, change, reason) => {
    expect(reasonOf(failed(change))).toMatch(reason);
  });

  it.each(["delivered", "complained"])("requires a recipient on %s", (event) => {
    expect(reasonOf(failed({ event, recipient: undefined }))).toMatch(/^recipient: missing/);
  });

  it("takes a rejected event's recipient from its To header (Mailgun's rejected events name none)", () => {
    const e = one(
      failed({
        event: "rejected",
        recipient: undefined,
        message: { headers: { to: "Joan <Joan@Example.org>" } },
      }),
    );
    expect(e).toMatchObject({
      type: "dropped",
      recipient: "joan@example.org",
      recipientDomain: "example.org",
    });
    expect(reasonOf(failed({ event: "rejected", recipient: undefined, message: {} }))).toMatch(
      /^message\.headers\.to: missing/,
    );
  });

  it("rejects a bad @timestamp, naming it", () => {
    const { timestamp: _t, ...rest } = failed();
    expect(reasonOf({ ...rest, "@timestamp": "2024-02-30T10:00:00Z" })).toMatch(
      /^@timestamp: not an ISO 8601/,
    );
    expect(reasonOf({ ...rest, "@timestamp": "yesterday" })).toMatch(/^@timestamp:/);
  });

  it("rejects a record that is not an object", () => {
    expect(reasonOf(null)).toMatch(/^record:/);
    expect(reasonOf([failed()])).toMatch(/^record:/);
  });

  it("reports a contract violation of the built event instead of returning it", () => {
    // Each part valid on its own, but the id outgrows the schema's 512 characters.
    expect(reasonOf(failed({ id: "x".repeat(600) }))).toMatch(/^id: /);
  });
});

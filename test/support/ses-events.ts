import { mulberry32 } from "../../shared/simulation/seeded-random.ts";

/*
 * Deterministic, realistic Amazon SES event-publishing records (docs/sources.md#amazon-ses) for tests and fixtures:
 * mostly deliveries, bounces with the wording real corporate gateways use, suppression-list drops,
 * transient bounces, delays and complaints. Same options → byte-identical output. Fast enough for a
 * 50k-record Firehose-style export (one JSON record per line, see `sesRecordsNdjson`).
 */

export type SesRecordKind =
  | "Delivery"
  | "Bounce/Permanent/General"
  | "Bounce/Permanent/NoEmail"
  | "Bounce/Permanent/OnAccountSuppressionList"
  | "Bounce/Permanent/Suppressed"
  | "Bounce/Transient/General"
  | "Bounce/Transient/MailboxFull"
  | "Bounce/Transient/MessageTooLarge"
  | "Bounce/Transient/ContentRejected"
  | "Bounce/Transient/AttachmentRejected"
  | "Bounce/Undetermined/Undetermined"
  | "DeliveryDelay"
  | "Complaint"
  | "Send"
  | "Reject";

export interface SesRecordOptions {
  /** Number of records. With the default `multiRecipientShare` of 0 every record yields exactly one event. */
  readonly count: number;
  /** Send time of the first record; records spread evenly over `spanMs` after it. */
  readonly start: Date;
  readonly seed: number;
  /** Default 24 h. */
  readonly spanMs?: number;
  /** How records are wrapped: bare (Firehose, SQS raw delivery), an SNS envelope, or an EventBridge event. */
  readonly envelope?: "none" | "sns" | "eventbridge";
  /** Share of Delivery records that list 2-3 recipients (fan-out); default 0. */
  readonly multiRecipientShare?: number;
  /** Relative weights per kind, replacing the default mix for the kinds given. */
  readonly mix?: Partial<Record<SesRecordKind, number>>;
}

export const DEFAULT_MIX: Readonly<Record<SesRecordKind, number>> = {
  Delivery: 820,
  "Bounce/Permanent/General": 70,
  "Bounce/Permanent/NoEmail": 3,
  "Bounce/Permanent/OnAccountSuppressionList": 20,
  "Bounce/Permanent/Suppressed": 4,
  "Bounce/Transient/General": 8,
  "Bounce/Transient/MailboxFull": 6,
  "Bounce/Transient/MessageTooLarge": 1,
  "Bounce/Transient/ContentRejected": 4,
  "Bounce/Transient/AttachmentRejected": 1,
  "Bounce/Undetermined/Undetermined": 2,
  DeliveryDelay: 30,
  Complaint: 4,
  Send: 0,
  Reject: 0,
};

type Gateway = "proofpoint" | "mimecast" | "microsoft" | "google" | "barracuda" | "cisco" | "postfix";

interface DomainSpec {
  readonly domain: string;
  readonly gateway: Gateway;
  /** Relative share of traffic. */
  readonly weight: number;
  readonly mailboxes: number;
}

// Fictional organisations behind real gateway products, plus the consumer control group.
const DOMAINS: readonly DomainSpec[] = [
  { domain: "gmail.com", gateway: "google", weight: 180, mailboxes: 3000 },
  { domain: "outlook.com", gateway: "microsoft", weight: 110, mailboxes: 2000 },
  { domain: "northwind-traders.com", gateway: "proofpoint", weight: 30, mailboxes: 300 },
  { domain: "globex-industries.com", gateway: "proofpoint", weight: 25, mailboxes: 250 },
  { domain: "initech.com", gateway: "proofpoint", weight: 12, mailboxes: 80 },
  { domain: "vandelay-imports.com", gateway: "proofpoint", weight: 6, mailboxes: 40 },
  { domain: "stark-logistik.de", gateway: "proofpoint", weight: 14, mailboxes: 120 },
  { domain: "hooli-systems.com", gateway: "proofpoint", weight: 20, mailboxes: 200 },
  { domain: "contoso-legal.co.uk", gateway: "mimecast", weight: 15, mailboxes: 150 },
  { domain: "fabrikam-bank.co.uk", gateway: "mimecast", weight: 22, mailboxes: 200 },
  { domain: "tyrell-engineering.com", gateway: "mimecast", weight: 9, mailboxes: 60 },
  { domain: "cyberdyne-robotics.com", gateway: "mimecast", weight: 7, mailboxes: 50 },
  { domain: "soylent-foods.com.au", gateway: "mimecast", weight: 5, mailboxes: 40 },
  { domain: "massive-dynamic.com", gateway: "mimecast", weight: 11, mailboxes: 90 },
  { domain: "contoso.com", gateway: "microsoft", weight: 35, mailboxes: 400 },
  { domain: "fabrikam.com", gateway: "microsoft", weight: 28, mailboxes: 300 },
  { domain: "adventure-works.com", gateway: "microsoft", weight: 16, mailboxes: 150 },
  { domain: "wingtip-toys.com", gateway: "microsoft", weight: 6, mailboxes: 40 },
  { domain: "tailspin-airlines.com", gateway: "microsoft", weight: 10, mailboxes: 90 },
  { domain: "litware-inc.com", gateway: "microsoft", weight: 4, mailboxes: 25 },
  { domain: "proseware.de", gateway: "microsoft", weight: 8, mailboxes: 60 },
  { domain: "woodgrove-finance.com", gateway: "microsoft", weight: 18, mailboxes: 160 },
  { domain: "acme-corp.com", gateway: "google", weight: 20, mailboxes: 180 },
  { domain: "wayne-enterprises.com", gateway: "google", weight: 13, mailboxes: 110 },
  { domain: "oceanic-air.com", gateway: "google", weight: 5, mailboxes: 35 },
  { domain: "dunder-mifflin.com", gateway: "google", weight: 9, mailboxes: 60 },
  { domain: "pied-piper.io", gateway: "google", weight: 3, mailboxes: 15 },
  { domain: "umbrella-pharma.de", gateway: "barracuda", weight: 10, mailboxes: 80 },
  { domain: "aperture-labs.com", gateway: "barracuda", weight: 6, mailboxes: 45 },
  { domain: "black-mesa.org", gateway: "barracuda", weight: 4, mailboxes: 30 },
  { domain: "gringotts-bank.ch", gateway: "cisco", weight: 8, mailboxes: 70 },
  { domain: "weyland-yutani.com", gateway: "cisco", weight: 12, mailboxes: 100 },
  { domain: "monarch-solutions.fr", gateway: "cisco", weight: 5, mailboxes: 40 },
  { domain: "bluth-company.com", gateway: "postfix", weight: 4, mailboxes: 25 },
  { domain: "prestige-worldwide.com", gateway: "postfix", weight: 3, mailboxes: 20 },
  { domain: "sterling-cooper.com", gateway: "postfix", weight: 5, mailboxes: 35 },
  { domain: "los-pollos.com.mx", gateway: "postfix", weight: 2, mailboxes: 12 },
];

const OUTGOING_IPS = ["198.51.100.7", "198.51.100.12", "198.51.100.23", "198.51.100.45", "198.51.100.101"];
const CAMPAIGNS = ["q2-renewal-notice", "webinar-invite-june", "product-update-5-3", "invoice-reminder"];
const FIRST = [
  "anna",
  "ben",
  "carla",
  "dev",
  "elena",
  "farid",
  "grace",
  "hiro",
  "ines",
  "jonas",
  "kim",
  "liam",
];
const LAST = ["lee", "novak", "okafor", "schmidt", "tanaka", "garcia", "murphy", "rossi", "dubois", "smith"];

type Template = (c: { readonly addr: string; readonly ip: string; readonly hex: string }) => string;

/** Permanent/General rejections per gateway: "user unknown" and policy/reputation wordings seen in the wild. */
const HARD: Readonly<Record<Gateway, readonly Template[]>> = {
  proofpoint: [
    () => "smtp; 550 5.1.1 User Unknown",
    ({ ip }) => `smtp; 554 Blocked - see https://ipcheck.proofpoint.com/?ip=${ip}`,
    ({ addr }) => `smtp; 550 5.1.1 <${addr}>: Recipient address rejected: User unknown`,
    () => "smtp; 550 5.7.1 Recipient address rejected: Access denied",
  ],
  mimecast: [
    ({ hex }) =>
      `smtp; 550 Administrative prohibition - envelope blocked - https://community.mimecast.com/docs/DOC-1369#550 [${hex}.uk272]`,
    ({ hex }) =>
      `smtp; 550 Invalid Recipient - https://community.mimecast.com/docs/DOC-1369#550 [${hex}.eu229]`,
    () =>
      "smtp; 554 Email rejected due to security policies - https://community.mimecast.com/docs/DOC-1369#554",
  ],
  microsoft: [
    () => "smtp; 550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup",
    ({ ip }) =>
      `smtp; 550 5.7.606 Access denied, banned sending IP [${ip}]. To request removal from this list please visit https://sender.office.com/ and follow the directions. For more information please go to  http://go.microsoft.com/fwlink/?LinkID=526655 AS(1430)`,
    ({ hex }) =>
      `smtp; 550 5.4.1 Recipient address rejected: Access denied. For more information see https://aka.ms/EXOSmtpErrors [AM${hex.slice(0, 4).toUpperCase()}EPF00025F9A.EURPRD83.prod.outlook.com]`,
  ],
  google: [
    ({ hex }) =>
      `smtp; 550-5.1.1 The email account that you tried to reach does not exist. Please try double-checking the recipient's email address for typos or unnecessary spaces. For more information, go to https://support.google.com/mail/?p=NoSuchUser ${hex.slice(0, 12)} - gsmtp`,
    ({ ip, hex }) =>
      `smtp; 550-5.7.1 [${ip}] Our system has detected that this message is likely unsolicited mail. To reduce the amount of spam sent to Gmail, this message has been blocked. For more information, go to https://support.google.com/mail/?p=UnsolicitedMessageError ${hex.slice(0, 12)} - gsmtp`,
  ],
  barracuda: [
    ({ addr }) => `smtp; 550 permanent failure for one or more recipients (${addr}:blocked)`,
    ({ ip }) =>
      `smtp; 554 Service unavailable; Client host [${ip}] blocked using Barracuda Reputation; http://www.barracudanetworks.com/reputation/?r=1&ip=${ip}`,
    () => "smtp; 550 No such user (in reply to RCPT TO command)",
  ],
  cisco: [
    () => "smtp; 550 #5.1.0 Address rejected.",
    () => "smtp; 554 5.7.1 Message rejected due to content restrictions",
  ],
  postfix: [
    ({ addr }) =>
      `smtp; 550 5.1.1 <${addr}>: Recipient address rejected: User unknown in virtual mailbox table`,
    ({ ip }) => `smtp; 554 5.7.1 Service unavailable; Client host [${ip}] blocked using zen.spamhaus.org`,
  ],
};

const ACCEPTED: Readonly<Record<Gateway, Template>> = {
  proofpoint: ({ hex }) => `250 2.0.0 3y${hex.slice(0, 8)} Message accepted for delivery`,
  mimecast: ({ hex }) => `250 2.0.0 Ok: queued as ${hex.slice(0, 10).toUpperCase()}`,
  microsoft: ({ hex }) =>
    `250 2.6.0 <${hex}@email.amazonses.com> [InternalId=${parseInt(hex.slice(0, 8), 16)}, Hostname=DB8PR03MB5867.eurprd03.prod.outlook.com] Queued mail for delivery`,
  google: ({ hex }) => `250 2.0.0 OK  1716992463 ${hex.slice(0, 12)}.${hex.slice(12, 14)} - gsmtp`,
  barracuda: ({ hex }) => `250 2.0.0 Ok: queued as ${hex.slice(0, 9).toUpperCase()}`,
  cisco: () => "250 2.0.0 Ok: Message accepted",
  postfix: ({ hex }) => `250 2.0.0 Ok: queued as ${hex.slice(0, 11).toUpperCase()}`,
};

const TRANSIENT: Readonly<Record<string, { status: string; text: string }>> = {
  General: { status: "4.4.7", text: "smtp; 421 4.4.0 Unable to connect to remote host" },
  MailboxFull: { status: "5.2.2", text: "smtp; 552 5.2.2 Mailbox full" },
  MessageTooLarge: {
    status: "5.3.4",
    text: "smtp; 552 5.3.4 Message size exceeds fixed maximum message size",
  },
  ContentRejected: { status: "5.7.1", text: "smtp; 554 5.7.1 Message content rejected by policy" },
  AttachmentRejected: { status: "5.7.1", text: "smtp; 552 5.7.0 Our system detected an illegal attachment" },
};

const DEFERRALS: readonly Template[] = [
  () => "smtp; 451 4.7.1 Greylisting in action, please come back later",
  ({ ip }) => `smtp; 451 4.7.500 Server busy. Please try again later from [${ip}]. (AS843)`,
  ({ ip }) => `smtp; 421 4.7.0 [TSS04] Messages from ${ip} temporarily deferred due to unexpected volume`,
  () => "smtp; 452 4.2.2 The email account that you tried to reach is over quota",
];

const SUPPRESSED_ACCOUNT =
  "Amazon SES did not send the message to this address because it is on the suppression list for your account. For more information about removing addresses from the suppression list, see the Amazon SES Developer Guide at https://docs.aws.amazon.com/ses/latest/DeveloperGuide/sending-email-suppression-list.html";
const SUPPRESSED_GLOBAL =
  "Amazon SES has suppressed sending to this address because it has a recent history of bouncing as an invalid address. For more information about how to remove an address from the suppression list, see the Amazon SES Developer Guide: http://docs.aws.amazon.com/ses/latest/DeveloperGuide/remove-from-suppressionlist.html ";

const BYTE_HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

// Fixture speed matters (50k-record exports): a byte table beats toString/padStart per call.
function hexFrom(rnd: () => number): (chars: number) => string {
  return (chars) => {
    let s = "";
    while (s.length < chars) {
      const x = Math.floor(rnd() * 0x100000000);
      s += `${BYTE_HEX[x >>> 24]}${BYTE_HEX[(x >>> 16) & 255]}${BYTE_HEX[(x >>> 8) & 255]}${BYTE_HEX[x & 255]}`;
    }
    return s.length === chars ? s : s.slice(0, chars);
  };
}

const hourPrefix = new Map<number, string>();
const pad2 = (n: number) => (n < 10 ? `0${n}` : String(n));

/** `Date#toISOString` with the `YYYY-MM-DDTHH:` part cached per hour (several timestamps per record). */
function iso(ms: number): string {
  const hour = Math.floor(ms / 3_600_000);
  let prefix = hourPrefix.get(hour);
  if (prefix === undefined) {
    prefix = new Date(hour * 3_600_000).toISOString().slice(0, 14);
    if (hourPrefix.size > 10_000) hourPrefix.clear();
    hourPrefix.set(hour, prefix);
  }
  const inHour = ms - hour * 3_600_000;
  const millis = inHour % 1000;
  const secs = Math.floor(inHour / 1000);
  return `${prefix}${pad2(Math.floor(secs / 60))}:${pad2(secs % 60)}.${millis < 10 ? "00" : millis < 100 ? "0" : ""}${millis}Z`;
}

function weightedPicker<T>(items: readonly T[], weight: (t: T) => number, rnd: () => number): () => T {
  const cumulative: number[] = [];
  let total = 0;
  for (const item of items) {
    total += weight(item);
    cumulative.push(total);
  }
  if (total <= 0) throw new Error("makeSesRecords: the mix gives every kind a weight of 0");
  return () => {
    const x = rnd() * total;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cumulative[mid] ?? 0) > x) hi = mid;
      else lo = mid + 1;
    }
    return items[lo] as T;
  };
}

/** The records one at a time (for large fixtures written as a stream). */
export function* generateSesRecords(
  options: SesRecordOptions,
): Generator<Record<string, unknown>, void, undefined> {
  const rnd = mulberry32(options.seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const hex = hexFrom(rnd);
  // Envelopes draw from their own stream, so wrapping never changes the records inside.
  const envelopeHex = hexFrom(mulberry32(options.seed ^ 0x5bd1e995));
  // SES ids look like 0100018f1b2c3d4e-1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d-000000.
  const sesId = (ms: number): string =>
    `010${ms.toString(16).padStart(13, "0").slice(-13)}-${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}-000000`;
  const mix = { ...DEFAULT_MIX, ...options.mix };
  const kinds = (Object.keys(mix) as SesRecordKind[]).filter((k) => mix[k] > 0);
  const nextKind = weightedPicker(kinds, (k) => mix[k], rnd);
  const nextDomain = weightedPicker(DOMAINS, (d) => d.weight, rnd);
  const span = options.spanMs ?? 86_400_000;
  const start = options.start.getTime();
  const step = options.count > 0 ? span / options.count : 0;
  const multiShare = options.multiRecipientShare ?? 0;
  const envelope = options.envelope ?? "none";

  const mailbox = (d: DomainSpec): string => {
    const n = Math.floor(rnd() * d.mailboxes);
    const first = FIRST[n % FIRST.length];
    const last = LAST[Math.floor(n / FIRST.length) % LAST.length];
    const suffix =
      n >= FIRST.length * LAST.length ? String(Math.floor(n / (FIRST.length * LAST.length))) : "";
    return `${first}.${last}${suffix}@${d.domain}`;
  };

  for (let i = 0; i < options.count; i++) {
    const sentMs = Math.floor(start + i * step + rnd() * Math.min(step, 1000));
    const kind = nextKind();
    const domain =
      kind === "Complaint" && rnd() < 0.8 ? (DOMAINS[rnd() < 0.6 ? 0 : 1] as DomainSpec) : nextDomain();
    const recipients = [mailbox(domain)];
    if (kind === "Delivery" && rnd() < multiShare) {
      const extra = 1 + Math.floor(rnd() * 2);
      for (let k = 0; k < extra; k++) {
        const r = mailbox(rnd() < 0.7 ? domain : nextDomain());
        // One address listed twice is one delivery: keep the fan-out count honest.
        if (!recipients.includes(r)) recipients.push(r);
      }
    }
    const ip = pick(OUTGOING_IPS);
    const messageId = sesId(sentMs);
    const ctx = { addr: recipients[0] as string, ip, hex: hex(16) };
    // Suppression-list hits and rejects never leave SES, so they carry no outgoing IP.
    const leftSes = !kind.includes("Suppress") && kind !== "Reject";
    const tags: Record<string, string[]> = {
      "ses:configuration-set": ["prod-outbound"],
      "ses:source-ip": ["203.0.113.10"],
      "ses:from-domain": ["mail.sender.example"],
      "ses:caller-identity": ["bounce-radar-sender"],
    };
    if (leftSes) tags["ses:outgoing-ip"] = [ip];
    if (rnd() < 0.4) tags.campaign = [pick(CAMPAIGNS)];
    // An occasional display name, as callers pass To: headers straight through.
    const destination = recipients.map((r) => (rnd() < 0.05 ? `"${r.split("@")[0]}" <${r}>` : r));
    const mail = {
      timestamp: iso(sentMs),
      source: "Sender Notifications <notifications@mail.sender.example>",
      sourceArn: "arn:aws:ses:eu-west-1:123456789012:identity/mail.sender.example",
      sendingAccountId: "123456789012",
      messageId,
      destination,
      headersTruncated: false,
      commonHeaders: {
        from: ["Sender Notifications <notifications@mail.sender.example>"],
        to: destination,
        messageId: `<${messageId}@eu-west-1.amazonses.com>`,
        subject: "Your monthly account summary",
      },
      tags,
    };
    const later = (minMs: number, maxMs: number) => iso(sentMs + minMs + Math.floor(rnd() * (maxMs - minMs)));
    const reportingMTA = "dns; a8-27.smtp-out.eu-west-1.amazonses.com";

    let record: Record<string, unknown>;
    if (kind === "Delivery") {
      record = {
        eventType: "Delivery",
        mail,
        delivery: {
          timestamp: later(400, 6000),
          processingTimeMillis: 400 + Math.floor(rnd() * 5000),
          recipients,
          smtpResponse: ACCEPTED[domain.gateway](ctx),
          reportingMTA: "a8-27.smtp-out.eu-west-1.amazonses.com",
          remoteMtaIp: `192.0.2.${1 + Math.floor(rnd() * 250)}`,
        },
      };
    } else if (kind.startsWith("Bounce/")) {
      const [, bounceType, bounceSubType] = kind.split("/") as [string, string, string];
      let status: string;
      let diagnosticCode: string | undefined;
      if (bounceSubType === "OnAccountSuppressionList") {
        status = "5.1.1";
        diagnosticCode = SUPPRESSED_ACCOUNT;
      } else if (bounceSubType === "Suppressed") {
        status = "5.1.1";
        diagnosticCode = SUPPRESSED_GLOBAL;
      } else if (bounceType === "Permanent") {
        diagnosticCode = pick(HARD[domain.gateway])(ctx);
        status = /\b([245]\.\d{1,3}\.\d{1,3})\b/.exec(diagnosticCode)?.[1] ?? "5.0.0";
      } else if (bounceType === "Transient") {
        const t = TRANSIENT[bounceSubType] ?? { status: "4.0.0", text: "smtp; 450 4.0.0 Temporary failure" };
        status = t.status;
        diagnosticCode = t.text;
      } else {
        status = "5.0.0";
      }
      const recipient: Record<string, string> = { emailAddress: ctx.addr, action: "failed", status };
      if (diagnosticCode !== undefined) recipient.diagnosticCode = diagnosticCode;
      record = {
        eventType: "Bounce",
        mail,
        bounce: {
          feedbackId: sesId(sentMs + 1500),
          bounceType,
          bounceSubType,
          bouncedRecipients: [recipient],
          timestamp: later(800, 90_000),
          ...(leftSes ? { reportingMTA, remoteMtaIp: `192.0.2.${1 + Math.floor(rnd() * 250)}` } : {}),
        },
      };
    } else if (kind === "DeliveryDelay") {
      const text = pick(DEFERRALS)(ctx);
      record = {
        eventType: "DeliveryDelay",
        mail,
        deliveryDelay: {
          timestamp: later(900_000, 3_600_000),
          delayType: "TransientCommunicationFailure",
          expirationTime: iso(sentMs + 86_400_000),
          delayedRecipients: [
            {
              emailAddress: ctx.addr,
              status: /\b([245]\.\d{1,3}\.\d{1,3})\b/.exec(text)?.[1] ?? "4.0.0",
              diagnosticCode: text,
            },
          ],
          reportingMTA: "a8-27.smtp-out.eu-west-1.amazonses.com",
        },
      };
    } else if (kind === "Complaint") {
      record = {
        eventType: "Complaint",
        mail,
        complaint: {
          feedbackId: sesId(sentMs + 7200),
          complaintSubType: null,
          complainedRecipients: [{ emailAddress: ctx.addr }],
          timestamp: later(3_600_000, 86_400_000),
          userAgent: "Mail.Feedback.Loop",
          complaintFeedbackType: "abuse",
          arrivalDate: later(3_000_000, 3_500_000),
        },
      };
    } else if (kind === "Send") {
      record = { eventType: "Send", mail, send: {} };
    } else {
      record = { eventType: "Reject", mail, reject: { reason: "Bad content" } };
    }
    yield wrap(record, envelope, sentMs, envelopeHex);
  }
}

function wrap(
  record: Record<string, unknown>,
  envelope: "none" | "sns" | "eventbridge",
  sentMs: number,
  hex: (n: number) => string,
): Record<string, unknown> {
  if (envelope === "none") return record;
  const at = iso(sentMs + 2000);
  if (envelope === "sns") {
    return {
      Type: "Notification",
      MessageId: `${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}`,
      TopicArn: "arn:aws:sns:eu-west-1:123456789012:ses-events",
      Message: JSON.stringify(record),
      Timestamp: at,
      SignatureVersion: "1",
      Signature: Buffer.from(hex(64), "hex").toString("base64"),
      SigningCertURL:
        "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem",
      UnsubscribeURL:
        "https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:eu-west-1:123456789012:ses-events:0000",
    };
  }
  const detailType: Record<string, string> = {
    Delivery: "Email Delivered",
    Bounce: "Email Bounced",
    DeliveryDelay: "Email Delivery Delayed",
    Complaint: "Email Complaint Received",
    Send: "Email Sent",
    Reject: "Email Rejected",
  };
  return {
    version: "0",
    id: `${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}`,
    "detail-type": detailType[String(record.eventType)] ?? "Email Event",
    source: "aws.ses",
    account: "123456789012",
    time: at.replace(/\.\d{3}Z$/, "Z"),
    region: "eu-west-1",
    resources: ["arn:aws:ses:eu-west-1:123456789012:configuration-set/prod-outbound"],
    detail: record,
  };
}

/** All records in memory. */
export function makeSesRecords(options: SesRecordOptions): Record<string, unknown>[] {
  return Array.from(generateSesRecords(options));
}

/** One JSON record per line, newline-terminated, as Firehose writes SES events to S3. */
export function sesRecordsNdjson(options: SesRecordOptions): string {
  const lines: string[] = [];
  for (const r of generateSesRecords(options)) lines.push(JSON.stringify(r));
  return lines.length === 0 ? "" : `${lines.join("\n")}\n`;
}

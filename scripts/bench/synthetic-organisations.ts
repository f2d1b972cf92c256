import { classifyBounceCached } from "../../shared/domain/classify/index.ts";
import type { NormalizedEvent } from "../../shared/domain/events/normalized-event.ts";
import type { AggregateRow } from "../../shared/pipeline/analyze/daily-aggregates.ts";
import { mulberry32 } from "../../shared/simulation/seeded-random.ts";
import { utcDate } from "../../shared/store/keys.ts";

/**
 * Synthetic sending history for the analysis benchmark: N recipient organisations with heavy-tailed daily
 * volumes, a few consumer providers as the control group, daily aggregates for the baseline days, and the
 * window's events, in which the organisations behind one gateway see a policy-block spike (the case the
 * analysis exists for). Deterministic for a given size.
 */

const DAY = 86_400_000;
/** The analysis runs at midnight UTC, so its 24 h window is exactly the previous day. */
export const ANALYSIS_AT = new Date("2026-11-15T00:00:00.000Z");
export const WINDOW_HOURS = 24;
/** Days of aggregates before the window, all of them inside the baseline. */
export const AGGREGATE_DAYS = 35;
export const BASELINE_DAYS = AGGREGATE_DAYS;
export const WINDOW_DAY = utcDate(new Date(ANALYSIS_AT.getTime() - DAY));

const CONSUMER = ["gmail.com", "outlook.com", "yahoo.com", "hotmail.com", "icloud.com"];
const CONSUMER_DAILY = 2_000;
const SENDING_IPS = ["198.51.100.7", "198.51.100.12", "198.51.100.23"];
const CAMPAIGNS = ["q2-renewal-notice", "webinar-invite-june", "product-update-5-3", "invoice-reminder"];
/** Recipient gateways by share of organisations (a B2B list: mostly Microsoft 365 and Google Workspace). */
const GATEWAY_SHARES: ReadonlyArray<readonly [string, number]> = [
  ["microsoft365", 0.4],
  ["google_workspace", 0.25],
  ["proofpoint", 0.08],
  ["mimecast", 0.07],
  ["barracuda", 0.05],
  ["cisco", 0.03],
  ["self_hosted", 0.07],
  ["unknown", 0.05],
];
/** The gateway whose policy change the window shows. */
export const SPIKING_GATEWAY = "mimecast";

const HARD_INVALID = "550 5.1.1 <{addr}>: Recipient address rejected: User unknown";
const HARD_POLICY =
  "550 Administrative prohibition - envelope blocked - https://community.mimecast.com/docs/DOC-1369#550";
const SOFT = "452 4.2.2 Mailbox full";

export interface Organisation {
  readonly name: string;
  readonly consumer: boolean;
  readonly gateway: string;
  /** Mean messages per day. */
  readonly daily: number;
  readonly ips: readonly string[];
}

export function organisations(count: number, seed = 1): Organisation[] {
  const random = mulberry32(seed);
  const gaussian = (): number => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const gatewayOf = (): string => {
    let x = random();
    for (const [gateway, share] of GATEWAY_SHARES) {
      x -= share;
      if (x < 0) return gateway;
    }
    return "unknown";
  };
  const orgs: Organisation[] = [];
  for (let i = 0; i < count; i++) {
    const consumer = i < CONSUMER.length;
    const ips = random() < 0.3 ? SENDING_IPS.slice(0, 2) : [SENDING_IPS[i % SENDING_IPS.length] as string];
    orgs.push({
      name: consumer ? (CONSUMER[i] as string) : `org${i}.example`,
      consumer,
      gateway: consumer ? "unknown" : gatewayOf(),
      // Log-normal: most organisations get a handful of messages a day, a few get hundreds.
      daily: consumer ? CONSUMER_DAILY : Math.max(1, Math.round(Math.exp(1 + 1.2 * gaussian()))),
      ips,
    });
  }
  return orgs;
}

/** Outcome counts for one organisation-day with normal rates: ~1.5% invalid, 0.3% blocked, 1% soft. */
function outcomes(volume: number, random: () => number, policyRate: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let n = 0; n < volume; n++) {
    const x = random();
    const outcome =
      x < 0.015
        ? "hard:invalid_recipient"
        : x < 0.015 + policyRate
          ? "hard:policy_block"
          : x < 0.025 + policyRate
            ? "soft"
            : "delivered";
    counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
  }
  return counts;
}

/** The aggregate rows of one day, as refreshDailyAggregates would have written them. */
export function aggregateRows(orgs: readonly Organisation[], date: string, seed: number): AggregateRow[] {
  const random = mulberry32(seed ^ (Date.parse(`${date}T00:00:00Z`) / DAY));
  const rows: AggregateRow[] = [];
  for (const org of orgs) {
    // Not every organisation gets mail every day; busy ones do.
    const volume = Math.round(org.daily * (0.5 + random()));
    if (volume === 0) continue;
    const campaign = random() < 0.6 ? null : (CAMPAIGNS[Math.floor(random() * CAMPAIGNS.length)] as string);
    for (const [outcome, count] of outcomes(volume, random, 0.003)) {
      // Split between the organisation's sending IPs when it uses two and there is something to split.
      const ips = count > 1 ? org.ips : org.ips.slice(0, 1);
      let left = count;
      ips.forEach((ip, i) => {
        const share = i === ips.length - 1 ? left : Math.max(1, Math.floor(count / ips.length));
        left -= share;
        if (share > 0)
          rows.push({
            organisation: org.name,
            recipientDomain: org.name,
            consumer: org.consumer,
            sendingIp: ip,
            campaign,
            outcome,
            count: share,
            mxHost: null,
          });
      });
    }
  }
  return rows;
}

/** The window day's events: normal rates everywhere except a policy-block spike behind SPIKING_GATEWAY. */
export function* windowEvents(orgs: readonly Organisation[], seed: number): Generator<NormalizedEvent> {
  const random = mulberry32(seed ^ 0x9e3779b9);
  const dayStart = Date.parse(`${WINDOW_DAY}T00:00:00Z`);
  let serial = 0;
  for (const org of orgs) {
    const volume = Math.max(1, Math.round(org.daily * (0.5 + random())));
    const policyRate = org.gateway === SPIKING_GATEWAY ? 0.25 : 0.003;
    for (const [outcome, count] of outcomes(volume, random, policyRate)) {
      for (let n = 0; n < count; n++) {
        serial++;
        const recipient = `user${Math.floor(random() * 200)}@${org.name}`;
        const text =
          outcome === "hard:invalid_recipient"
            ? HARD_INVALID.replace("{addr}", recipient)
            : outcome === "hard:policy_block"
              ? HARD_POLICY
              : outcome === "soft"
                ? SOFT
                : null;
        const reply = text === null ? null : /^(\d{3})(?: (\d\.\d{1,3}\.\d{1,3}))?/.exec(text);
        yield {
          id: `bench-${serial}`,
          source: "ses",
          occurredAt: new Date(dayStart + Math.floor(random() * DAY)).toISOString(),
          type: text === null ? "delivered" : "bounced",
          recipient,
          recipientDomain: org.name,
          organisation: org.name,
          consumer: org.consumer,
          smtp:
            text === null ? null : { code: Number(reply?.[1] ?? 550), enhanced: reply?.[2] ?? null, text },
          espClass: text === null ? null : outcome === "soft" ? "soft" : "hard",
          mxHost: null,
          sendingIp: org.ips[serial % org.ips.length] ?? null,
          ipPool: null,
          messageId: `<bench-${serial}@mail.sender.example>`,
          campaign: null,
          classification:
            text === null
              ? null
              : classifyBounceCached({
                  text,
                  code: Number(reply?.[1] ?? 550),
                  ...(reply?.[2] ? { enhanced: reply[2] } : {}),
                  espClass: outcome === "soft" ? "soft" : "hard",
                }),
        };
      }
    }
  }
}

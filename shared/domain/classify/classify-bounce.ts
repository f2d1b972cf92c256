import { type GatewayId, gatewayInfo, type Vendor } from "../gateways/catalogue.ts";
import { gatewayOfMxHost } from "../gateways/gateway-of-mx-host.ts";
import { quotedRemoteReply } from "./remote-reply.ts";
import { type RuleContext, ruleApplies, type TextRule, type Verdict } from "./rule.ts";
import { ESP_RULES } from "./rules/esp-rules.ts";
import { GATEWAY_RULES } from "./rules/gateway-rules.ts";
import { GENERIC_RULES } from "./rules/generic-rules.ts";
import { verdictForEnhancedCode, verdictForReplyCode } from "./rules/status-code-rules.ts";
import { bestEnhancedCode, bestReplyCode, hostsIn, smtpStageOf } from "./smtp-reply.ts";
import { BLOCK_CATEGORIES, type BounceInput, type Classification, DEFAULT_SIDE } from "./taxonomy.ts";
import { vendorFromText } from "./vendor-fingerprints.ts";

/** Longer texts are cut: the decisive words of a rejection come early, and the cut bounds regex work. */
const MAX_TEXT = 4000;
/** Ceiling on confidence in a "user unknown" from a gateway that validates against a directory copy. */
const DIRECTORY_COPY_CEILING = 0.5;
/** The ESP's own wording first: a refusal the ESP made itself involves no receiver, whatever else the text says. */
const RULES: readonly TextRule[] = [...ESP_RULES, ...GATEWAY_RULES, ...GENERIC_RULES];

interface Decision extends Verdict {
  readonly rule: string;
  readonly source?: TextRule;
}

/**
 * Classifies one bounce. Evidence in order: the ESP's own wording, gateway-specific wording, generic wording, the enhanced status
 * code, the basic reply code; then the SMTP stage and the gateway's known habits adjust the verdict.
 * Pure and total: never throws, the same input always gives the same output.
 */
export function classifyBounce(input: BounceInput): Classification {
  const text = collapse(input.text);
  const quoted = quotedRemoteReply(text);
  const gateway = recogniseGateway(input.mxHost, text);
  const vendor = vendorOf(gateway) ?? vendorFromText(text);
  const enhanced = bestEnhancedCode(input.enhanced, quoted ?? text) ?? bestEnhancedCode(undefined, text);
  const reply = bestReplyCode(input.code, quoted ?? text) ?? bestReplyCode(undefined, text);
  const base = { reply, enhanced, stage: smtpStageOf(text), gateway, vendor };

  const decision: Decision =
    (quoted !== null ? matchText({ ...base, text: quoted }) : null) ??
    matchText({ ...base, text }) ??
    (enhanced ? verdictForEnhancedCode(enhanced) : null) ??
    (reply !== null ? verdictForReplyCode(reply) : null) ??
    ({ category: "unknown", confidence: 0.1, rule: "none" } satisfies Decision);

  const ctx: RuleContext = { ...base, text };
  const adjusted = adjust(decision, ctx);
  const category = adjusted.category;
  const identified = gateway ?? decision.source?.identifies ?? null;
  return {
    category,
    side: adjusted.side ?? DEFAULT_SIDE[category],
    falseHardBounce: calledHard(input, ctx) && BLOCK_CATEGORIES.has(category),
    gateway: identified,
    confidence: round(adjusted.confidence),
    rule: adjusted.rule,
  };
}

function matchText(ctx: RuleContext): Decision | null {
  for (const rule of RULES) {
    if (ruleApplies(rule, ctx)) {
      const d: Decision = {
        category: rule.category,
        confidence: rule.confidence,
        rule: rule.id,
        source: rule,
      };
      return rule.side ? { ...d, side: rule.side } : d;
    }
  }
  return null;
}

/** Stage and gateway facts that overturn or weaken a verdict (docs/sources.md#sisimai-reason-names, docs/sources.md#classifier-heuristics). */
function adjust(d: Decision, ctx: RuleContext): Decision {
  const temporary = ctx.enhanced ? ctx.enhanced.klass === 4 : ctx.reply !== null && ctx.reply < 500;
  if (d.category === "invalid_recipient" && temporary) {
    // A 4xx is never a verdict that the address does not exist (docs/sources.md#classifier-heuristics).
    return { category: "transient", confidence: 0.6, rule: `${d.rule}+temporary` };
  }
  const mailboxVerdict = d.category === "invalid_recipient" || d.category === "mailbox_full";
  if (ctx.stage === "data" && d.category === "invalid_recipient" && d.source?.mailboxLevel) {
    // The address was accepted at RCPT; "user unknown" after DATA is a filter's decision (Sisimai "filtered").
    return { category: "policy_block", side: "recipient", confidence: 0.6, rule: `${d.rule}+after-data` };
  }
  if ((ctx.stage === "connect" || ctx.stage === "helo") && (mailboxVerdict || d.category === "unknown")) {
    // Refused before any recipient was named: the refusal concerns the sending host.
    return {
      category: "reputation_block",
      side: "sender",
      confidence: 0.5,
      rule: `${d.rule}+at-${ctx.stage}`,
    };
  }
  if (ctx.stage === "mail" && (mailboxVerdict || d.category === "unknown")) {
    return { category: "policy_block", side: "sender", confidence: 0.55, rule: `${d.rule}+at-mail` };
  }
  if (d.category === "invalid_recipient" && !d.source?.definitive && ctx.gateway) {
    if (gatewayInfo(ctx.gateway).directoryCopy && d.confidence > DIRECTORY_COPY_CEILING) {
      return { ...d, confidence: DIRECTORY_COPY_CEILING, rule: `${d.rule}+directory-copy` };
    }
  }
  return d;
}

function recogniseGateway(mxHost: string | undefined, text: string): GatewayId | null {
  if (mxHost) {
    const g = gatewayOfMxHost(mxHost);
    if (g) return g;
  }
  for (const host of hostsIn(text)) {
    const g = gatewayOfMxHost(host);
    if (g) return g;
  }
  return null;
}

function vendorOf(gateway: GatewayId | null): Vendor | null {
  if (!gateway) return null;
  const vendor = gatewayInfo(gateway).vendor;
  return vendor === "other" ? null : vendor;
}

/**
 * Whether the ESP reported this as a hard bounce. Without an ESP class, a permanent (5xx) reply stands in:
 * that is what most ESPs call hard (docs/sources.md#classifier-heuristics).
 */
function calledHard(input: BounceInput, ctx: RuleContext): boolean {
  if (input.espClass) return input.espClass === "hard";
  if (ctx.enhanced) return ctx.enhanced.klass === 5;
  return ctx.reply !== null && ctx.reply >= 500;
}

function collapse(text: string): string {
  const t = text.length > MAX_TEXT * 2 ? text.slice(0, MAX_TEXT * 2) : text;
  return t.replace(/\s+/g, " ").trim().slice(0, MAX_TEXT);
}

const round = (x: number): number => Math.round(x * 100) / 100;

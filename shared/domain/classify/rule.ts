import type { GatewayId, Vendor } from "../gateways/catalogue.ts";
import type { EnhancedCode, SmtpStage } from "./smtp-reply.ts";
import type { Category, Side } from "./taxonomy.ts";

/** Everything a rule may look at, parsed once per bounce. */
export interface RuleContext {
  /** The rejection text with whitespace collapsed. */
  readonly text: string;
  readonly reply: number | null;
  readonly enhanced: EnhancedCode | null;
  readonly stage: SmtpStage | null;
  /** Gateway recognised from the MX host or a host named in the text. */
  readonly gateway: GatewayId | null;
  /** Vendor recognised from the gateway or from fingerprints in the text (tokens, URLs). */
  readonly vendor: Vendor | null;
}

export interface Verdict {
  readonly category: Category;
  readonly side?: Side;
  readonly confidence: number;
}

/**
 * A text rule: a pattern plus the verdict it implies. `evidence` names where the fact comes from, so every
 * decision can be traced to a vendor document or an observed sample.
 */
export interface TextRule extends Verdict {
  readonly id: string;
  readonly pattern: RegExp;
  readonly evidence: string;
  /** The vendor whose wording this is. With `requiresVendor`, the rule fires only when that vendor is identified. */
  readonly vendor?: Vendor;
  readonly requiresVendor?: boolean;
  /** The gateway the pattern itself proves (a vendor-unique token), used when no MX host was given. */
  readonly identifies?: GatewayId;
  /** Extra condition on codes or stage. */
  readonly when?: (ctx: RuleContext) => boolean;
  /**
   * The verdict is about one mailbox ("user unknown"): stage rules may overturn it (such wording after DATA is a
   * filter decision), and directory-copy gateways lower its confidence unless `definitive`.
   */
  readonly mailboxLevel?: boolean;
  /** Wording only the final mailbox store produces (e.g. Microsoft RESOLVER.ADR.RecipientNotFound). */
  readonly definitive?: boolean;
}

export function ruleApplies(rule: TextRule, ctx: RuleContext): boolean {
  if (rule.requiresVendor && rule.vendor !== ctx.vendor) return false;
  if (rule.when && !rule.when(ctx)) return false;
  return rule.pattern.test(ctx.text);
}

export const permanent = (ctx: RuleContext): boolean =>
  ctx.enhanced ? ctx.enhanced.klass === 5 : ctx.reply === null || ctx.reply >= 500;
export const temporary = (ctx: RuleContext): boolean => !permanent(ctx);

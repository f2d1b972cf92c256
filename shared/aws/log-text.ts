import { mapStrings, maskAddresses, safeLine } from "../domain/text/safe-text.ts";

/**
 * What a function logs carries outside text (bounce replies, provider errors, DNS answers): every string is made
 * one inert line (controls and bidi overrides as visible escapes) and, unless masking is off, its addresses
 * masked, before Powertools writes it to CloudWatch Logs.
 */
export function logSafe(masking: boolean): <T>(value: T) => T {
  const clean = (s: string) => (masking ? maskAddresses(safeLine(s)) : safeLine(s));
  return <T>(value: T): T => mapStrings(value, clean);
}

/**
 * Bounce texts are often a relaying MTA's wrapper around the receiving server's own words ("Google tried to
 * deliver your message ... The error that the other server returned was: 550 ..."). The wrapper's wording
 * ("address couldn't be found") is boilerplate, so the quoted reply is the better evidence.
 */
const MARKERS: readonly RegExp[] = [
  /the error that the other server returned was:/gi,
  /the response (?:from the remote server )?was:/gi,
  /remote (?:host|server) said(?:\[response message\])?:/gi,
  /\bhost \S+ ?(?:\[[^\]]*\])? said:/gi,
  /remote server returned '/gi,
  /responded with failure:/gi,
  /(?:generated|returned) (?:the following )?response:/gi,
  /the following (?:error|reason) was given:/gi,
];

/** The remote server's quoted reply inside a relay's wrapper text, or null when there is no wrapper. */
export function quotedRemoteReply(text: string): string | null {
  let end = -1;
  for (const marker of MARKERS) {
    for (const m of text.matchAll(marker)) {
      const after = (m.index ?? 0) + m[0].length;
      if (after > end) end = after;
    }
  }
  if (end < 0) return null;
  const inner = text.slice(end).trim();
  return inner.length >= 3 ? inner : null;
}

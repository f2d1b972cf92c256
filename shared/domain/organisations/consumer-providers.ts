// email-providers (maintained list of ~8,700 free and consumer mailbox domains). A static JSON import, so a
// Lambda bundle carries the list instead of looking for node_modules at run time.
import allProviders from "email-providers/all.json" with { type: "json" };

const PROVIDERS: ReadonlySet<string> = new Set(allProviders as string[]);

/** RFC 2606/6761 names: documentation and test domains are nobody's mailbox provider (the list has some). */
const RESERVED = /(^|\.)(example|test|invalid|localhost)$|^example\.(com|net|org)$/;

/** Whether an organisation is a consumer mailbox provider, i.e. part of the analysis's control group. */
export function isConsumerProvider(organisation: string): boolean {
  const o = organisation.toLowerCase();
  return !RESERVED.test(o) && PROVIDERS.has(o);
}

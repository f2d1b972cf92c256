import { createRequire } from "node:module";

// email-providers (maintained list of ~8,700 free and consumer mailbox domains); loaded once per process.
const require = createRequire(import.meta.url);
const PROVIDERS: ReadonlySet<string> = new Set(require("email-providers/all.json") as string[]);

/** RFC 2606/6761 names: documentation and test domains are nobody's mailbox provider (the list has some). */
const RESERVED = /(^|\.)(example|test|invalid|localhost)$|^example\.(com|net|org)$/;

/** Whether an organisation is a consumer mailbox provider, i.e. part of the analysis's control group. */
export function isConsumerProvider(organisation: string): boolean {
  const o = organisation.toLowerCase();
  return !RESERVED.test(o) && PROVIDERS.has(o);
}

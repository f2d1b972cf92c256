import type { ReputationConfig } from "../../config.ts";
import { type BlocklistZone, defaultBlocklistZones } from "../../domain/reputation/blocklist-answer.ts";

/** The configured lists: the chosen built-ins (Spamhaus through DQS when a key is given) and the custom ones. */
export function blocklistZonesFor(config: ReputationConfig, spamhausDqsKey?: string): BlocklistZone[] {
  const builtIn = defaultBlocklistZones(spamhausDqsKey).filter((z) =>
    (config.blocklists as readonly string[]).includes(z.id),
  );
  return [...builtIn, ...config.customBlocklists];
}

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type BounceInput, BounceInputSchema } from "../../shared/domain/classify/index.ts";
import { mulberry32 } from "../../shared/simulation/seeded-random.ts";

/** Labelled rejection texts from real gateways and MTAs: the vocabulary of the synthetic traffic. */
const TEXT_DIRS = ["eval/dev", "eval/heldout"];

/**
 * MX hosts an ESP reports beside a bounce: none, a hosted-mailbox platform, a gateway, a self-hosted server.
 * The same text arrives with each, and the classifier reads them, so each is a distinct memo key.
 */
const MX_HOSTS: ReadonlyArray<string | undefined> = [
  undefined,
  "acme-com.mail.protection.outlook.com",
  "mx1.hc1234-56.eu.iphmx.com",
  "eu-smtp-inbound-1.mimecast.com",
  "mx.corp-example.net",
  "mail.smallbiz-example.org",
];
const ESP_CLASSES: ReadonlyArray<BounceInput["espClass"]> = [undefined, "hard", "soft"];

export function loadBounceTexts(root = "."): BounceInput[] {
  return TEXT_DIRS.flatMap((dir) =>
    readdirSync(join(root, dir))
      .filter((f) => f.endsWith(".ndjson"))
      .sort()
      .flatMap((f) =>
        readFileSync(join(root, dir, f), "utf8")
          .split("\n")
          .filter((line) => line.trim() !== "")
          // Labelled rows carry ids and labels too; the schema keeps only what the classifier reads.
          .map((line) => BounceInputSchema.parse(JSON.parse(line))),
      ),
  );
}

/**
 * Every labelled text with every MX host and ESP class: the distinct inputs repeated traffic draws from. There
 * are more of them than the memo holds, so its eviction is exercised too.
 */
export function inputPool(texts: readonly BounceInput[]): BounceInput[] {
  return texts.flatMap((t) =>
    MX_HOSTS.flatMap((mxHost) =>
      ESP_CLASSES.map(
        (espClass): BounceInput => ({
          ...t,
          ...(mxHost !== undefined ? { mxHost } : {}),
          ...(espClass !== undefined ? { espClass } : {}),
        }),
      ),
    ),
  );
}

/**
 * `count` NDJSON lines drawn from the pool with Zipf-like frequencies (exponent 1.1), as in real traffic where a
 * few gateway replies make most bounces. Lines are shared string instances: memory stays small at 1M lines.
 */
export function repeatedLines(pool: readonly BounceInput[], count: number, seed: number): string[] {
  const random = mulberry32(seed);
  const serialised = pool.map((input) => JSON.stringify(input));
  // Shuffle so popularity does not follow the file order of the labelled sets.
  for (let i = serialised.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [serialised[i], serialised[j]] = [serialised[j] as string, serialised[i] as string];
  }
  const cumulative: number[] = [];
  let total = 0;
  for (let rank = 1; rank <= serialised.length; rank++) {
    total += 1 / rank ** 1.1;
    cumulative.push(total);
  }
  const lines: string[] = [];
  for (let n = 0; n < count; n++) {
    const target = random() * total;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cumulative[mid] as number) < target) lo = mid + 1;
      else hi = mid;
    }
    lines.push(serialised[lo] as string);
  }
  return lines;
}

/**
 * `count` lines that are all different: each pool input with a unique queue id appended, the way MTAs stamp
 * their replies. Nothing repeats, so a memo can only add its own cost.
 */
export function distinctLines(pool: readonly BounceInput[], count: number, seed: number): string[] {
  const random = mulberry32(seed);
  const lines: string[] = [];
  for (let n = 0; n < count; n++) {
    const input = pool[Math.floor(random() * pool.length)] as BounceInput;
    const queueId = `${n.toString(16).toUpperCase().padStart(8, "0")}${Math.floor(random() * 0xffff).toString(16)}`;
    lines.push(JSON.stringify({ ...input, text: `${input.text} (queue id ${queueId})` }));
  }
  return lines;
}

import { classifyBounce } from "./classify-bounce.ts";
import type { BounceInput, Classification } from "./taxonomy.ts";

/**
 * Real bounce traffic repeats itself: a gateway answers thousands of recipients with the same wording. Some
 * thousands of entries hold the working set of distinct replies (a few hundred bytes each, so a few MB) while
 * keeping memory bounded in a Lambda.
 */
export const DEFAULT_MEMO_CAPACITY = 8192;
/**
 * Texts longer than this bypass the memo, so the memo's worst case stays near 20 MB however long the ESPs'
 * diagnostics are; real rejection texts are a few hundred characters, and very long ones rarely repeat exactly.
 */
export const MAX_MEMO_TEXT = 1024;

export interface ClassificationMemoOptions {
  readonly capacity?: number;
  /** The classifier being memoised; the pure rules-based one unless a test needs another. */
  readonly classify?: (input: BounceInput) => Classification;
}

/** Share of the entries dropped when the memo is full: eviction sorts, so it runs rarely and in bulk. */
const EVICT_SHARE = 1 / 8;

/** One remembered answer: the input fields besides the text (the text is the map key), and when it was used. */
interface Entry {
  readonly code: BounceInput["code"];
  readonly enhanced: BounceInput["enhanced"];
  readonly mxHost: BounceInput["mxHost"];
  readonly espClass: BounceInput["espClass"];
  readonly answer: Classification;
  lastUsed: number;
}

/**
 * A bounded least-recently-used memo in front of the (pure) bounce classifier. An answer is reused only for an
 * input equal in every field the classifier reads (text, code, enhanced, mxHost, espClass), so two inputs share
 * an answer only when the classifier could not tell them apart. Answers are frozen: they are shared between
 * callers, and a caller's edit must not leak into another's.
 *
 * The hot path is cheap on purpose: the text itself is the map key (no key string is built), the few variants
 * of one text are compared field by field, and a hit only stamps the entry with a counter. When the memo is
 * full, the least recently used eighth is dropped at once.
 */
export class ClassificationMemo {
  readonly capacity: number;
  private readonly classify: (input: BounceInput) => Classification;
  private readonly byText = new Map<string, Entry[]>();
  private count = 0;
  private clock = 0;
  private hitCount = 0;
  private missCount = 0;

  constructor(options: ClassificationMemoOptions = {}) {
    const capacity = options.capacity ?? DEFAULT_MEMO_CAPACITY;
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new Error(`classification memo: capacity must be a positive integer, got ${capacity}`);
    this.capacity = capacity;
    this.classify = options.classify ?? classifyBounce;
  }

  /** Answers held. */
  get size(): number {
    return this.count;
  }

  get stats(): { readonly hits: number; readonly misses: number } {
    return { hits: this.hitCount, misses: this.missCount };
  }

  classifyBounce(input: BounceInput): Classification {
    if (input.text.length > MAX_MEMO_TEXT) {
      this.missCount++;
      return Object.freeze(this.classify(input));
    }
    const variants = this.byText.get(input.text);
    if (variants !== undefined) {
      const { code, enhanced, mxHost, espClass } = input;
      for (let i = 0; i < variants.length; i++) {
        const e = variants[i] as Entry;
        if (e.espClass === espClass && e.code === code && e.mxHost === mxHost && e.enhanced === enhanced) {
          this.hitCount++;
          e.lastUsed = ++this.clock;
          return e.answer;
        }
      }
    }
    this.missCount++;
    const answer = Object.freeze(this.classify(input));
    if (this.count >= this.capacity) this.evictLeastRecentlyUsed();
    const entry: Entry = {
      code: input.code,
      enhanced: input.enhanced,
      mxHost: input.mxHost,
      espClass: input.espClass,
      answer,
      lastUsed: ++this.clock,
    };
    // Eviction may have removed this text's list, so look it up again.
    const list = this.byText.get(input.text);
    if (list) list.push(entry);
    else this.byText.set(input.text, [entry]);
    this.count++;
    return answer;
  }

  clear(): void {
    this.byText.clear();
    this.count = 0;
    this.hitCount = 0;
    this.missCount = 0;
  }

  private evictLeastRecentlyUsed(): void {
    const drop = Math.max(1, Math.floor(this.capacity * EVICT_SHARE));
    const stamps: number[] = [];
    for (const list of this.byText.values()) for (const e of list) stamps.push(e.lastUsed);
    stamps.sort((a, b) => a - b);
    // Stamps are unique, so exactly `drop` entries are at or below the cut.
    const cut = stamps[drop - 1] ?? Number.POSITIVE_INFINITY;
    for (const [text, list] of this.byText) {
      const kept = list.filter((e) => e.lastUsed > cut);
      if (kept.length === 0) this.byText.delete(text);
      else if (kept.length !== list.length) this.byText.set(text, kept);
      this.count -= list.length - kept.length;
    }
  }
}

/** One memo per process (per Lambda container): warm invocations reuse the answers of earlier ones. */
const sharedMemo = new ClassificationMemo();

/** classifyBounce with the process-wide memo in front: same answers, frozen, for repeated inputs at map speed. */
export function classifyBounceCached(input: BounceInput): Classification {
  return sharedMemo.classifyBounce(input);
}

import type { Readable } from "node:stream";

export interface ObjectInfo {
  readonly key: string;
  readonly size: number;
}

export interface PutOptions {
  /** Write only when the key does not exist yet; `put` then returns false if it did. */
  readonly ifAbsent?: boolean;
  readonly contentType?: string;
}

/**
 * The bucket, or a local folder laid out exactly like it. Keys are `/`-separated, never start with `/`,
 * and are owned by store/keys.ts. Both adapters keep the same semantics: a put is atomic (readers see the
 * old object or the new one, never a part), list is in lexicographic key order, delete of a missing key is
 * not an error.
 */
export interface ObjectStore {
  /** For messages: `s3://bucket/prefix` or the folder's absolute path. */
  readonly location: string;
  get(key: string): Promise<Uint8Array | null>;
  getStream(key: string): Promise<Readable | null>;
  /** Returns false only when `ifAbsent` was asked and the key already existed. */
  put(key: string, body: Uint8Array | string, options?: PutOptions): Promise<boolean>;
  /** Streams a body of unknown length (large exports) without buffering it whole. */
  putStream(key: string, body: Readable, options?: { readonly contentType?: string }): Promise<void>;
  list(prefix: string): AsyncIterable<ObjectInfo>;
  delete(key: string): Promise<void>;
}

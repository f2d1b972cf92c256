import type { Readable } from "node:stream";

export interface ObjectInfo {
  readonly key: string;
  readonly size: number;
  /**
   * A checksum of the object's content, when `list` is asked for it: S3's ETag (the MD5 of a single-part
   * upload), or locally the same version token as getVersioned (its MD5; costs a read of the file).
   */
  readonly etag?: string;
}

export interface ListOptions {
  /** Include each object's content checksum (free on S3, a read of every file locally). */
  readonly etags?: boolean;
}

export interface PutOptions {
  /** Write only when the key does not exist yet; `put` then returns false if it did. */
  readonly ifAbsent?: boolean;
  /**
   * Write only when the key exists and its version token (`getVersioned().etag`) is this one; `put` then
   * returns false if it was replaced, deleted or never existed (S3: If-Match).
   */
  readonly ifMatch?: string;
  readonly contentType?: string;
}

export interface DeleteOptions {
  /** Delete only when the key's version token is this one (S3: If-Match); `delete` then returns false. */
  readonly ifMatch?: string;
}

/** An object's bytes and the version token conditional writes compare (S3: the ETag). */
export interface VersionedObject {
  readonly body: Uint8Array;
  readonly etag: string;
}

/**
 * The bucket, or a local folder laid out exactly like it. Keys are `/`-separated, never start with `/`,
 * and are owned by store/keys.ts. Both adapters keep the same semantics: a put is atomic (readers see the
 * old object or the new one, never a part), list is in lexicographic key order, delete of a missing key is
 * not an error. Conditional writes (ifAbsent, ifMatch) are atomic with respect to each other, also across
 * processes: of two writers conditioned on the same version, at most one succeeds.
 */
export interface ObjectStore {
  /** For messages: `s3://bucket/prefix` or the folder's absolute path. */
  readonly location: string;
  get(key: string): Promise<Uint8Array | null>;
  /** The object with its version token, for a later conditional put or delete. */
  getVersioned(key: string): Promise<VersionedObject | null>;
  getStream(key: string): Promise<Readable | null>;
  /** Returns false only when a condition (`ifAbsent`, `ifMatch`) was asked and did not hold. */
  put(key: string, body: Uint8Array | string, options?: PutOptions): Promise<boolean>;
  /** Streams a body of unknown length (large exports) without buffering it whole. */
  putStream(key: string, body: Readable, options?: { readonly contentType?: string }): Promise<void>;
  list(prefix: string, options?: ListOptions): AsyncIterable<ObjectInfo>;
  /** Returns false only when `ifMatch` was asked and did not hold (another version, or no object). */
  delete(key: string, options?: DeleteOptions): Promise<boolean>;
}

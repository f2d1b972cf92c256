import type { Readable } from "node:stream";
import type {
  DeleteOptions,
  ListOptions,
  ObjectInfo,
  ObjectStore,
  PutOptions,
  VersionedObject,
} from "../../shared/store/object-store.ts";

export interface StoreTally {
  gets: number;
  puts: number;
  lists: number;
  getSeconds: number;
  putSeconds: number;
  /** Puts by the first two segments of their key (`aggregates/daily`, `reports/2026`, ...). */
  putsByPrefix: Record<string, number>;
}

/**
 * An ObjectStore that counts and times the calls it forwards, so a slow run can say how much of its time was
 * the store's. A getStream is timed until the stream is open, not while it is read.
 */
export class TimedStore implements ObjectStore {
  readonly tally: StoreTally = { gets: 0, puts: 0, lists: 0, getSeconds: 0, putSeconds: 0, putsByPrefix: {} };

  constructor(private readonly inner: ObjectStore) {}

  get location(): string {
    return this.inner.location;
  }

  get(key: string): Promise<Uint8Array | null> {
    this.tally.gets++;
    return this.timed("getSeconds", this.inner.get(key));
  }

  getVersioned(key: string): Promise<VersionedObject | null> {
    this.tally.gets++;
    return this.timed("getSeconds", this.inner.getVersioned(key));
  }

  getStream(key: string): Promise<Readable | null> {
    this.tally.gets++;
    return this.timed("getSeconds", this.inner.getStream(key));
  }

  put(key: string, body: Uint8Array | string, options?: PutOptions): Promise<boolean> {
    this.countPut(key);
    return this.timed("putSeconds", this.inner.put(key, body, options));
  }

  putStream(key: string, body: Readable, options?: { readonly contentType?: string }): Promise<void> {
    this.countPut(key);
    return this.timed("putSeconds", this.inner.putStream(key, body, options));
  }

  list(prefix: string, options?: ListOptions): AsyncIterable<ObjectInfo> {
    this.tally.lists++;
    return this.inner.list(prefix, options);
  }

  delete(key: string, options?: DeleteOptions): Promise<boolean> {
    return this.inner.delete(key, options);
  }

  private countPut(key: string): void {
    this.tally.puts++;
    const prefix = key.split("/").slice(0, 2).join("/");
    this.tally.putsByPrefix[prefix] = (this.tally.putsByPrefix[prefix] ?? 0) + 1;
  }

  private async timed<T>(field: "getSeconds" | "putSeconds", call: Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      return await call;
    } finally {
      this.tally[field] += (performance.now() - start) / 1000;
    }
  }
}

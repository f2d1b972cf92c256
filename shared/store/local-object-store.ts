import { createHash, randomBytes } from "node:crypto";
import type { Dirent } from "node:fs";
import { createReadStream } from "node:fs";
import {
  type FileHandle,
  link,
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  rmdir,
  stat,
  unlink,
  writeFile,
} from "node:fs/promises";
import { hostname } from "node:os";
import { dirname, join, resolve, sep } from "node:path";
import type { Readable } from "node:stream";
import * as z from "zod";
import { assertValidKey, assertValidPrefix } from "./key-syntax.ts";
import type {
  DeleteOptions,
  ListOptions,
  ObjectInfo,
  ObjectStore,
  PutOptions,
  VersionedObject,
} from "./object-store.ts";

/**
 * Marks in-flight temp files, named `<file>.~tmp-<writer pid>-<random>`; list skips them and no key may
 * contain it.
 */
const TEMP_MARK = ".~tmp-";
/** A temp file whose writer cannot be told dead (another host, a reused pid) is stray after this long. */
const STRAY_TEMP_AGE_MS = 24 * 3_600_000;

/** How often to retry when a concurrent delete prunes the parent folder between our mkdir and open. */
const PARENT_RACE_ATTEMPTS = 3;

/**
 * A conditional write holds its key's lock file for one read, compare and rename (milliseconds). Another
 * writer waits up to this long before giving up with an error naming the holder.
 */
const KEY_LOCK_WAIT_MS = 30_000;
/** A lock file from another host cannot have its process checked; older than this, its holder is gone. */
const FOREIGN_LOCK_STALE_MS = 60_000;

const KeyLockSchema = z.object({
  pid: z.number().int(),
  host: z.string(),
  nonce: z.string(),
  at: z.number(),
});
type KeyLock = z.infer<typeof KeyLockSchema>;

/**
 * The local store's version token: the content's MD5 in quotes, as S3's ETag of a single-part upload is (a
 * lease's body carries a random token, so two versions never share one).
 */
export function etagOf(bytes: Uint8Array): string {
  return `"${createHash("md5").update(bytes).digest("hex")}"`;
}

/**
 * The bucket as a local folder: key `a/b/c.json` is the file `<root>/a/b/c.json`. Writes go to a temp file
 * beside the target and are renamed (or hard-linked, for ifAbsent) into place, so readers never see a
 * partial object.
 *
 * Conditional writes: ifAbsent is a hard link (fails atomically when the key exists). ifMatch (put and
 * delete) reads, compares and replaces while holding the key's lock file, `<key>.~tmp-lock`, created with an
 * exclusive link, so conditional writes are atomic with respect to each other across processes. A lock left
 * by a process that died (kill -9 inside those milliseconds) is broken once its process is gone.
 */
export class LocalObjectStore implements ObjectStore {
  readonly location: string;

  constructor(root: string) {
    this.location = resolve(root);
  }

  async get(key: string): Promise<Uint8Array | null> {
    const path = this.pathOf(key);
    try {
      return new Uint8Array(await readFile(path));
    } catch (e) {
      if (isMissing(e)) return null;
      throw fsError("read", key, e);
    }
  }

  async getVersioned(key: string): Promise<VersionedObject | null> {
    const body = await this.get(key);
    return body ? { body, etag: etagOf(body) } : null;
  }

  async getStream(key: string): Promise<Readable | null> {
    const path = this.pathOf(key);
    let handle: FileHandle;
    try {
      handle = await open(path, "r");
    } catch (e) {
      if (isMissing(e)) return null;
      throw fsError("open", key, e);
    }
    // Opening a folder succeeds on Linux; a folder is not an object (S3 would say no such key).
    if (!(await handle.stat()).isFile()) {
      await handle.close();
      return null;
    }
    return handle.createReadStream();
  }

  async put(key: string, body: Uint8Array | string, options: PutOptions = {}): Promise<boolean> {
    const path = this.pathOf(key);
    const data = typeof body === "string" ? Buffer.from(body, "utf8") : body;
    const ifMatch = options.ifMatch;
    if (options.ifAbsent === true && ifMatch !== undefined)
      throw new Error("put: ifAbsent and ifMatch exclude each other");
    const write = async (handle: FileHandle) => {
      await handle.writeFile(data);
    };
    if (ifMatch === undefined) return this.viaTempFile(key, path, write, options.ifAbsent === true);
    return this.withKeyLock(key, path, async () => {
      if ((await this.currentEtag(key, path)) !== ifMatch) return false;
      return this.viaTempFile(key, path, write, false);
    });
  }

  async putStream(key: string, body: Readable): Promise<void> {
    const path = this.pathOf(key);
    await this.viaTempFile(
      key,
      path,
      async (handle) => {
        // Awaiting each write is the backpressure; the handle stays open for datasync.
        for await (const chunk of body) {
          await writeAll(
            handle,
            typeof chunk === "string" ? Buffer.from(chunk, "utf8") : (chunk as Uint8Array),
          );
        }
      },
      false,
    );
  }

  async *list(prefix: string, options: ListOptions = {}): AsyncIterable<ObjectInfo> {
    assertValidPrefix(prefix);
    // "events/source=ses/dt=2024-0" → walk "events/source=ses/" and keep entries starting with "dt=2024-0".
    const cut = prefix.lastIndexOf("/") + 1;
    const folderKey = prefix.slice(0, cut);
    const namePrefix = prefix.slice(cut);
    yield* this.walk(folderKey, namePrefix, options.etags === true);
  }

  async delete(key: string, options: DeleteOptions = {}): Promise<boolean> {
    const path = this.pathOf(key);
    const ifMatch = options.ifMatch;
    const removed =
      ifMatch === undefined
        ? await this.unlinkKey(key, path)
        : await this.withKeyLock(key, path, async () => {
            if ((await this.currentEtag(key, path)) !== ifMatch) return false;
            return this.unlinkKey(key, path);
          });
    if (removed) await this.pruneEmptyParents(path);
    return ifMatch === undefined || removed;
  }

  /** True when the file was there and is now gone. */
  private async unlinkKey(key: string, path: string): Promise<boolean> {
    try {
      await unlink(path);
      return true;
    } catch (e) {
      if (isMissing(e)) return false;
      throw fsError("delete", key, e);
    }
  }

  private async currentEtag(key: string, path: string): Promise<string | null> {
    try {
      return etagOf(await readFile(path));
    } catch (e) {
      if (isMissing(e)) return null;
      throw fsError("read", key, e);
    }
  }

  /**
   * Runs `critical` holding the key's lock file. The lock is created complete (written to a temp file, then
   * hard-linked into place), so a reader never sees it half written; it names its process, so a lock whose
   * process died is recognised and broken.
   */
  private async withKeyLock<T>(key: string, path: string, critical: () => Promise<T>): Promise<T> {
    const lockPath = `${path}${TEMP_MARK}lock`;
    const mine: KeyLock = {
      pid: process.pid,
      host: hostname(),
      nonce: randomBytes(8).toString("hex"),
      at: Date.now(),
    };
    const deadline = Date.now() + KEY_LOCK_WAIT_MS;
    for (let wait = 1; ; wait = Math.min(wait * 2, 8)) {
      if (await this.createLock(key, path, lockPath, mine)) break;
      const held = await readLock(lockPath);
      if (held && isStale(held)) {
        await breakStaleLock(lockPath, held);
        continue;
      }
      if (Date.now() > deadline) {
        const who = held ? `process ${held.pid} on ${held.host}` : "an unreadable lock file";
        throw new Error(
          `local store: key ${JSON.stringify(key)} stayed locked by ${who} for ${KEY_LOCK_WAIT_MS / 1000} s (${lockPath}); remove that file if no bounce-radar process is running`,
        );
      }
      await sleep(wait * (0.5 + Math.random()));
    }
    try {
      return await critical();
    } finally {
      await unlink(lockPath).catch(() => undefined);
    }
  }

  /** False when another lock file is in place. */
  private async createLock(key: string, path: string, lockPath: string, lock: KeyLock): Promise<boolean> {
    const temp = `${lockPath}-${lock.nonce}`;
    for (let attempt = 1; ; attempt++) {
      try {
        await mkdir(dirname(path), { recursive: true });
        await writeFile(temp, JSON.stringify(lock), { flag: "wx" });
        break;
      } catch (e) {
        // A concurrent delete pruned the folder between mkdir and open.
        if (errorCode(e) === "ENOENT" && attempt < PARENT_RACE_ATTEMPTS) continue;
        throw fsError("lock", key, e);
      }
    }
    try {
      await link(temp, lockPath);
      return true;
    } catch (e) {
      if (errorCode(e) === "EEXIST") return false;
      throw fsError("lock", key, e);
    } finally {
      await unlink(temp).catch(() => undefined);
    }
  }

  private pathOf(key: string): string {
    assertValidKey(key);
    if (key.split("/").some((segment) => segment.includes(TEMP_MARK))) {
      throw new Error(
        `invalid storage key ${JSON.stringify(key)}: contains the temp-file marker ${TEMP_MARK}`,
      );
    }
    return join(this.location, ...key.split("/"));
  }

  /**
   * Writes a temp file beside `path` with `write`, makes it durable, then moves it into place: a rename
   * (replaces atomically) or, with ifAbsent, a hard link (fails atomically when the key exists, so of two
   * concurrent callers exactly one wins). The temp file is removed whatever happens.
   */
  private async viaTempFile(
    key: string,
    path: string,
    write: (handle: FileHandle) => Promise<void>,
    ifAbsent: boolean,
  ): Promise<boolean> {
    const { temp, handle } = await this.openTemp(key, path);
    try {
      try {
        await write(handle);
        // Durable before visible: callers advance cursors once a put returns.
        await handle.datasync();
      } finally {
        await handle.close();
      }
      if (!ifAbsent) {
        await rename(temp, path);
        return true;
      }
      try {
        await link(temp, path);
        return true;
      } catch (e) {
        if (errorCode(e) === "EEXIST") return false;
        throw e;
      }
    } catch (e) {
      throw fsError("write", key, e);
    } finally {
      await unlink(temp).catch(() => undefined);
    }
  }

  /**
   * Creates the parent folder and an exclusive temp file in it. A concurrent delete can prune the folder
   * between the two steps (once the temp file exists it cannot), so that race is retried.
   */
  private async openTemp(key: string, path: string): Promise<{ temp: string; handle: FileHandle }> {
    for (let attempt = 1; ; attempt++) {
      const temp = `${path}${TEMP_MARK}${process.pid}-${randomBytes(6).toString("hex")}`;
      try {
        await mkdir(dirname(path), { recursive: true });
        return { temp, handle: await open(temp, "wx") };
      } catch (e) {
        if (errorCode(e) === "ENOENT" && attempt < PARENT_RACE_ATTEMPTS) continue;
        throw fsError("write", key, e);
      }
    }
  }

  private async *walk(folderKey: string, namePrefix: string, etags: boolean): AsyncIterable<ObjectInfo> {
    const folder = join(this.location, ...folderKey.split("/"));
    let entries: Dirent[];
    try {
      entries = await readdir(folder, { withFileTypes: true });
    } catch (e) {
      if (isMissing(e)) return;
      throw fsError("list", folderKey, e);
    }
    for (const entry of entries)
      if (entry.isFile() && entry.name.includes(TEMP_MARK)) await removeIfStray(join(folder, entry.name));
    // A folder's keys all start with "name/", so sorting folders as "name/" gives the keys' byte order.
    const sorted = entries
      .filter((entry) => entry.name.startsWith(namePrefix) && !entry.name.includes(TEMP_MARK))
      .filter((entry) => entry.isFile() || entry.isDirectory())
      .map((entry) => ({ entry, sortName: Buffer.from(entry.isDirectory() ? `${entry.name}/` : entry.name) }))
      .sort((a, b) => Buffer.compare(a.sortName, b.sortName));
    for (const { entry } of sorted) {
      const key = `${folderKey}${entry.name}`;
      if (entry.isDirectory()) {
        yield* this.walk(`${key}/`, "", etags);
        continue;
      }
      const path = join(this.location, ...key.split("/"));
      const size = await fileSize(path);
      // Deleted since readdir: list what exists.
      if (size === null) continue;
      const etag = etags ? await etagOfFile(path) : undefined;
      if (etags && etag === null) continue;
      yield etag ? { key, size, etag } : { key, size };
    }
  }

  /** Removes folders left empty by a delete, up to (never including) the root. */
  private async pruneEmptyParents(path: string): Promise<void> {
    let folder = dirname(path);
    while (folder.startsWith(this.location + sep)) {
      try {
        await rmdir(folder);
      } catch {
        // Not empty (or already gone and its parent refilled): nothing above can be empty because of us.
        return;
      }
      folder = dirname(folder);
    }
  }
}

async function readLock(lockPath: string): Promise<KeyLock | null> {
  try {
    const parsed = KeyLockSchema.safeParse(JSON.parse(await readFile(lockPath, "utf8")));
    return parsed.success ? parsed.data : null;
  } catch {
    // Gone (released meanwhile), or not ours to read: the next attempt finds out.
    return null;
  }
}

/** The lock's process is gone: dead on this host, or (another host's) older than anyone holds one. */
function isStale(lock: KeyLock): boolean {
  if (lock.host !== hostname()) return Date.now() - lock.at > FOREIGN_LOCK_STALE_MS;
  try {
    process.kill(lock.pid, 0);
    return false;
  } catch (e) {
    return errorCode(e) !== "EPERM";
  }
}

/**
 * Removes a stale lock, and only it: the lock file is moved aside first (rename is atomic) and its nonce
 * checked; a live lock moved by mistake (another breaker replaced the stale one in between) is linked back.
 */
async function breakStaleLock(lockPath: string, stale: KeyLock): Promise<void> {
  const aside = `${lockPath}-broken-${randomBytes(6).toString("hex")}`;
  try {
    await rename(lockPath, aside);
  } catch {
    return;
  }
  const moved = await readLock(aside);
  if (moved && moved.nonce !== stale.nonce) await link(aside, lockPath).catch(() => undefined);
  await unlink(aside).catch(() => undefined);
}

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

/** FileHandle.write may write less than asked; loop until the chunk is all on disk. */
async function writeAll(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  for (let offset = 0; offset < bytes.length; ) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.length - offset);
    offset += bytesWritten;
  }
}

/** The file's version token as etagOf gives it (streamed, not read whole), or null if it is gone. */
async function etagOfFile(path: string): Promise<string | null> {
  const hash = createHash("md5");
  try {
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  } catch (e) {
    if (isMissing(e)) return null;
    throw e;
  }
  return `"${hash.digest("hex")}"`;
}

/**
 * Removes a temp file a crashed writer left (kill -9, power loss): its writer process is gone, or it is
 * older than a day. A live writer's temp file is never touched.
 */
async function removeIfStray(path: string): Promise<void> {
  const pid = Number(/\.~tmp-(\d+)-[0-9a-f]+$/.exec(path)?.[1] ?? Number.NaN);
  let stray = Number.isInteger(pid) && pid > 0 && !processAlive(pid);
  if (!stray) {
    const info = await stat(path).catch(() => null);
    stray = info !== null && Date.now() - info.mtimeMs > STRAY_TEMP_AGE_MS;
  }
  if (stray) await unlink(path).catch(() => undefined);
}

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return errorCode(e) !== "ESRCH";
  }
}

async function fileSize(path: string): Promise<number | null> {
  try {
    return (await stat(path)).size;
  } catch (e) {
    if (isMissing(e)) return null;
    throw e;
  }
}

function errorCode(e: unknown): string | undefined {
  return typeof e === "object" && e !== null && "code" in e && typeof e.code === "string"
    ? e.code
    : undefined;
}

/** ENOTDIR/EISDIR: a path component is a file, or the key names a folder — in bucket terms, no such key. */
function isMissing(e: unknown): boolean {
  const code = errorCode(e);
  return code === "ENOENT" || code === "ENOTDIR" || code === "EISDIR";
}

function fsError(operation: string, key: string, e: unknown): Error {
  const message = e instanceof Error ? e.message : String(e);
  return new Error(`local store: ${operation} of key ${JSON.stringify(key)} failed: ${message}`, {
    cause: e,
  });
}

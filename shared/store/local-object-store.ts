import { randomBytes } from "node:crypto";
import type { Dirent } from "node:fs";
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
} from "node:fs/promises";
import { dirname, join, resolve, sep } from "node:path";
import type { Readable } from "node:stream";
import { assertValidKey, assertValidPrefix } from "./key-syntax.ts";
import type { ObjectInfo, ObjectStore, PutOptions } from "./object-store.ts";

/** Marks in-flight temp files; list skips them and no key may contain it. */
const TEMP_MARK = ".~tmp-";

/** How often to retry when a concurrent delete prunes the parent folder between our mkdir and open. */
const PARENT_RACE_ATTEMPTS = 3;

/**
 * The bucket as a local folder: key `a/b/c.json` is the file `<root>/a/b/c.json`. Writes go to a temp file
 * beside the target and are renamed (or hard-linked, for ifAbsent) into place, so readers never see a
 * partial object.
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
    return this.viaTempFile(
      key,
      path,
      async (handle) => {
        await handle.writeFile(data);
      },
      options.ifAbsent === true,
    );
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

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    assertValidPrefix(prefix);
    // "events/source=ses/dt=2024-0" → walk "events/source=ses/" and keep entries starting with "dt=2024-0".
    const cut = prefix.lastIndexOf("/") + 1;
    const folderKey = prefix.slice(0, cut);
    const namePrefix = prefix.slice(cut);
    yield* this.walk(folderKey, namePrefix);
  }

  async delete(key: string): Promise<void> {
    const path = this.pathOf(key);
    try {
      await unlink(path);
    } catch (e) {
      if (isMissing(e)) return;
      throw fsError("delete", key, e);
    }
    await this.pruneEmptyParents(path);
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
      const temp = `${path}${TEMP_MARK}${randomBytes(6).toString("hex")}`;
      try {
        await mkdir(dirname(path), { recursive: true });
        return { temp, handle: await open(temp, "wx") };
      } catch (e) {
        if (errorCode(e) === "ENOENT" && attempt < PARENT_RACE_ATTEMPTS) continue;
        throw fsError("write", key, e);
      }
    }
  }

  private async *walk(folderKey: string, namePrefix: string): AsyncIterable<ObjectInfo> {
    let entries: Dirent[];
    try {
      entries = await readdir(join(this.location, ...folderKey.split("/")), { withFileTypes: true });
    } catch (e) {
      if (isMissing(e)) return;
      throw fsError("list", folderKey, e);
    }
    // A folder's keys all start with "name/", so sorting folders as "name/" gives the keys' byte order.
    const sorted = entries
      .filter((entry) => entry.name.startsWith(namePrefix) && !entry.name.includes(TEMP_MARK))
      .filter((entry) => entry.isFile() || entry.isDirectory())
      .map((entry) => ({ entry, sortName: Buffer.from(entry.isDirectory() ? `${entry.name}/` : entry.name) }))
      .sort((a, b) => Buffer.compare(a.sortName, b.sortName));
    for (const { entry } of sorted) {
      const key = `${folderKey}${entry.name}`;
      if (entry.isDirectory()) {
        yield* this.walk(`${key}/`, "");
        continue;
      }
      const size = await fileSize(join(this.location, ...key.split("/")));
      // Deleted since readdir: list what exists.
      if (size !== null) yield { key, size };
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

/** FileHandle.write may write less than asked; loop until the chunk is all on disk. */
async function writeAll(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  for (let offset = 0; offset < bytes.length; ) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.length - offset);
    offset += bytesWritten;
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

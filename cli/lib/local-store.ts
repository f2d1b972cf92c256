import { mkdir } from "node:fs/promises";
import { resolve } from "node:path";
import { LocalObjectStore } from "../../shared/store/local-object-store.ts";

/** The --data folder as an object store, created if missing. */
export async function openDataFolder(dir: string): Promise<LocalObjectStore> {
  const root = resolve(dir);
  await mkdir(root, { recursive: true });
  return new LocalObjectStore(root);
}

import { readFileSync } from "node:fs";
import { z } from "zod";

/** The version in package.json, the one place it is written (npm and `bounce-radar --version` agree). */
export function packageVersion(packageJson: URL = new URL("../../package.json", import.meta.url)): string {
  const parsed = z
    .object({ version: z.string().min(1) })
    .safeParse(JSON.parse(readFileSync(packageJson, "utf8")));
  if (!parsed.success) throw new Error(`${packageJson.pathname}: no "version" string`);
  return parsed.data.version;
}

import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { packageVersion } from "../../cli/lib/package-version.ts";

const manifestVersion = (JSON.parse(readFileSync("package.json", "utf8")) as { version: string }).version;

describe("bounce-radar --version", () => {
  it("prints package.json's version and exits 0", () => {
    const r = spawnSync(process.execPath, ["bin/bounce-radar.js", "--version"], {
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(manifestVersion);
  });

  it("reads the version from the manifest it is given, not from a copy in the code", () => {
    const file = join(mkdtempSync(join(tmpdir(), "br-version-")), "package.json");
    writeFileSync(file, JSON.stringify({ name: "bounce-radar", version: "9.8.7" }));
    expect(packageVersion(pathToFileURL(file))).toBe("9.8.7");
  });

  it("names the manifest when it has no version", () => {
    const file = join(mkdtempSync(join(tmpdir(), "br-version-")), "package.json");
    writeFileSync(file, JSON.stringify({ name: "bounce-radar" }));
    expect(() => packageVersion(pathToFileURL(file))).toThrow(/package\.json: no "version" string/);
  });
});

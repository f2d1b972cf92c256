import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DEFAULT_CONFIG_FILE, loadCliConfig } from "../../cli/commands/ingest.ts";
import { ConfigError } from "../../shared/config.ts";

const folder = (files: Record<string, unknown>): string => {
  const dir = mkdtempSync(join(tmpdir(), "br-config-file-"));
  for (const [name, content] of Object.entries(files))
    writeFileSync(join(dir, name), JSON.stringify(content));
  return dir;
};

describe("the CLI's default configuration file", () => {
  it("is the file the README's quick start creates", () => {
    expect(DEFAULT_CONFIG_FILE).toBe("bounce-radar.config.json");
  });

  it("reads ./bounce-radar.config.json when no --config is given", async () => {
    const dir = folder({ "bounce-radar.config.json": { analysis: { windowHours: 48 } } });
    expect((await loadCliConfig(undefined, dir)).analysis.windowHours).toBe(48);
  });

  it("still reads the old name ./bounce-radar.json, after the new one", async () => {
    const old = folder({ "bounce-radar.json": { analysis: { windowHours: 12 } } });
    expect((await loadCliConfig(undefined, old)).analysis.windowHours).toBe(12);
    const both = folder({
      "bounce-radar.json": { analysis: { windowHours: 12 } },
      "bounce-radar.config.json": { analysis: { windowHours: 48 } },
    });
    expect((await loadCliConfig(undefined, both)).analysis.windowHours).toBe(48);
  });

  it("without one, says which file to create and points to a page that exists", async () => {
    const err = await loadCliConfig(undefined, folder({})).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(String(err)).toContain("create bounce-radar.config.json here (see docs/configuration.md)");
    expect(existsSync("docs/configuration.md")).toBe(true);
  });
});

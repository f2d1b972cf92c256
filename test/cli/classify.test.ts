import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";

const run = (args: string[], stdin = "") =>
  spawnSync(process.execPath, ["bin/bounce-radar.js", ...args], {
    input: stdin,
    encoding: "utf8",
    timeout: 20_000,
  });

describe("bounce-radar classify (CLI contract)", () => {
  it("writes one classified line per input line, keeping the input's fields", () => {
    const input = [
      { text: "550 5.7.606 Access denied, banned sending IP [198.51.100.7]", espClass: "hard", id: "a1" },
      { text: "550 5.1.1 User Unknown", mxHost: "mx0b-00123401.pphosted.com" },
    ]
      .map((l) => JSON.stringify(l))
      .join("\n");
    const r = run(["classify"], `${input}\n`);
    expect(r.status).toBe(0);
    const out = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(out).toHaveLength(2);
    expect(out[0]).toMatchObject({
      id: "a1",
      espClass: "hard",
      category: "reputation_block",
      side: "sender",
      falseHardBounce: true,
    });
    expect(out[1]).toMatchObject({ category: "invalid_recipient", gateway: "proofpoint" });
    for (const o of out)
      expect(Object.keys(o)).toEqual(
        expect.arrayContaining(["category", "side", "falseHardBounce", "gateway", "rule"]),
      );
  });

  it("answers a bad line with an error in its place, goes on, and exits 2", () => {
    const r = run(["classify"], 'not json\n{"code":550}\n{"text":"552 5.2.2 Mailbox full"}\n');
    expect(r.status).toBe(2);
    const out = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(out).toHaveLength(3);
    expect(out[0]).toMatchObject({ line: 1 });
    expect(out[0].error).toMatch(/not valid JSON/);
    expect(out[1]).toMatchObject({ line: 2 });
    expect(out[1].error).toMatch(/"text"/);
    expect(out[2]).toMatchObject({ category: "mailbox_full" });
    expect(r.stderr).toMatch(/2 line\(s\)/);
  });

  it("prints help for the command and exits 2 on an unknown command", () => {
    const help = run(["classify", "--help"]);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/NDJSON in on stdin/);
    const bad = run(["no-such-command"]);
    expect(bad.status).toBe(2);
  });
});

describe("bounce-radar sample (the quick-start job)", () => {
  it("classifies the bundled rejection lines and prints a summary", () => {
    const r = run(["sample"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/summary/);
    expect(r.stdout).toMatch(/reputation_block/);
    expect(r.stdout).toMatch(/bounces the ESP called hard are blocks/);
  });
});

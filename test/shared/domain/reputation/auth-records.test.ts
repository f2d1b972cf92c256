import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  evaluateSpf,
  judgeDkim,
  parseDmarc,
  parseMtaStsTxt,
  parseSpf,
  parseSpfRecord,
  type TxtAnswer,
} from "../../../../shared/domain/reputation/auth-records.ts";

/** A DKIM p= value: the base64 SubjectPublicKeyInfo of a fresh key. */
function rsaKey(bits: number, type: "spki" | "pkcs1" = "spki"): string {
  const { publicKey } = generateKeyPairSync("rsa", { modulusLength: bits });
  return publicKey.export({ type, format: "der" }).toString("base64");
}

function zone(records: Record<string, string[]>): (name: string) => TxtAnswer | undefined {
  return (name) => {
    const r = records[name];
    return r === undefined ? { status: "nxdomain", records: [] } : { status: "ok", records: r };
  };
}

describe("parseSpfRecord", () => {
  it("reads qualifiers, mechanisms and modifiers", () => {
    const r = parseSpfRecord(
      "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 a mx:mail.example.com/24 -include:x.example.net ~all exp=why.example.com",
    );
    expect(r.errors).toEqual([]);
    expect(r.terms).toEqual([
      { kind: "mechanism", qualifier: "+", name: "ip4", value: "192.0.2.0/24" },
      { kind: "mechanism", qualifier: "+", name: "ip6", value: "2001:db8::/32" },
      { kind: "mechanism", qualifier: "+", name: "a", value: "" },
      { kind: "mechanism", qualifier: "+", name: "mx", value: "mail.example.com/24" },
      { kind: "mechanism", qualifier: "-", name: "include", value: "x.example.net" },
      { kind: "mechanism", qualifier: "~", name: "all", value: "" },
      { kind: "modifier", name: "exp", value: "why.example.com" },
    ]);
  });

  it("collects syntax errors instead of throwing", () => {
    const r = parseSpfRecord(
      "v=spf1 ip4:192.0.2.300 include: foo redirect=a.example redirect=b.example -all",
    );
    expect(r.errors).toEqual([
      '"ip4:192.0.2.300" is not an IPv4 address',
      "include needs :domain",
      'unknown mechanism "foo"',
      "redirect= appears twice",
    ]);
  });
});

describe("parseSpf", () => {
  it("accepts one record ending ~all or -all", () => {
    expect(parseSpf(["google-site-verification=abc", "v=spf1 ip4:192.0.2.10 -all"])).toMatchObject({
      status: "good",
      value: "-all",
    });
    const soft = parseSpf(["v=spf1 mx a ~all"]);
    expect(soft).toMatchObject({ status: "good", value: "~all" });
    expect(soft.detail).toContain("2 of 10 DNS lookups");
  });

  it("is bad with no record, two records, +all or a syntax error", () => {
    expect(parseSpf(["some-other=txt"])).toMatchObject({ status: "bad", value: "none" });
    expect(parseSpf(["v=spf1 -all", "v=spf1 mx ~all"])).toMatchObject({ status: "bad", value: "permerror" });
    expect(parseSpf(["v=spf1 +all"])).toMatchObject({ status: "bad", value: "+all" });
    expect(parseSpf(["v=spf1 all"])).toMatchObject({ status: "bad", value: "+all" });
    expect(parseSpf(["v=spf1 ipv4:192.0.2.1 -all"])).toMatchObject({ status: "bad", value: "permerror" });
  });

  it("warns on ?all and on no all at all", () => {
    expect(parseSpf(["v=spf1 mx ?all"])).toMatchObject({ status: "warning", value: "?all" });
    expect(parseSpf(["v=spf1 ip4:192.0.2.1"])).toMatchObject({ status: "warning", value: "no all" });
  });

  it("counts only the top record when no lookup is given, and says so", () => {
    const j = parseSpf(["v=spf1 include:_spf.google.com include:sendgrid.net ~all"]);
    expect(j.status).toBe("good");
    expect(j.detail).toMatch(
      /2 of 10 DNS lookups; includes not followed \(_spf\.google\.com, sendgrid\.net\)/,
    );
  });

  it("counts 11 lookups spread over nested includes as a permerror (RFC 7208 §4.6.4)", () => {
    // Top: a, mx, include (3); _spf.example.net: a, mx, include, ptr (4); _esp.example.org: 4 → 11.
    const lookup = zone({
      "_spf.example.net": ["v=spf1 a mx include:_esp.example.org ptr ip4:198.51.100.0/24 -all"],
      "_esp.example.org": [
        "v=spf1 exists:%{i}.x.example.org a:o1.example.org mx:o2.example.org mx:o3.example.org ~all",
      ],
    });
    const top = ["v=spf1 a mx include:_spf.example.net ~all"];
    expect(parseSpfRecord(top[0] ?? "").terms).toHaveLength(4);
    const e = evaluateSpf(top, lookup);
    expect(e).toMatchObject({ lookups: 11, exceeded: true });
    expect(parseSpf(top, lookup)).toMatchObject({ status: "bad", value: "permerror" });

    // One fewer at the bottom: 10 is still within the limit.
    const ten = zone({
      "_spf.example.net": ["v=spf1 a mx include:_esp.example.org ptr ip4:198.51.100.0/24 -all"],
      "_esp.example.org": ["v=spf1 exists:%{i}.x.example.org a:o1.example.org mx:o2.example.org ~all"],
    });
    const j = parseSpf(top, ten);
    expect(j).toMatchObject({ status: "good", value: "~all" });
    expect(j.detail).toContain("10 of 10 DNS lookups");
  });

  it("ends an include loop at the limit instead of recursing", () => {
    const loop = zone({ "loop.example.com": ["v=spf1 include:loop.example.com -all"] });
    const e = evaluateSpf(["v=spf1 include:loop.example.com -all"], loop);
    expect(e.exceeded).toBe(true);
    expect(e.lookups).toBe(11);
  });

  it("takes the all of a redirect target, and fails on a target without SPF", () => {
    const lookup = zone({ "_spf.example.net": ["v=spf1 ip4:192.0.2.0/24 ?all"] });
    expect(parseSpf(["v=spf1 redirect=_spf.example.net"], lookup)).toMatchObject({
      status: "warning",
      value: "?all",
    });
    // An all in the record itself wins over redirect= (RFC 7208 §6.1).
    expect(parseSpf(["v=spf1 -all redirect=_spf.example.net"], lookup)).toMatchObject({ value: "-all" });
    const missing = parseSpf(["v=spf1 include:gone.example.net -all"], lookup);
    expect(missing).toMatchObject({ status: "bad", value: "permerror" });
    expect(missing.detail).toContain("include:gone.example.net has no SPF record");
  });

  it("is unknown when an include could not be looked up", () => {
    const j = parseSpf(["v=spf1 include:_spf.example.net -all"], () => ({
      status: "timeout",
      records: [],
      detail: "queryTxt ETIMEOUT _spf.example.net",
    }));
    expect(j).toMatchObject({ status: "unknown", value: null });
    expect(j.detail).toContain("include:_spf.example.net timeout");
  });
});

describe("parseDmarc", () => {
  it("reads p=reject as good and notes the reporting address", () => {
    const j = parseDmarc(["v=DMARC1; p=reject; rua=mailto:dmarc@example.com; adkim=s"], {
      name: "_dmarc.example.com",
    });
    expect(j).toMatchObject({ status: "good", value: "p=reject" });
    expect(j.detail).toContain("_dmarc.example.com: p=reject, enforced");
    expect(j.detail).toContain("strict DKIM alignment");
    expect(j.detail).toContain("aggregate reports to mailto:dmarc@example.com");
  });

  it("reads p=none as a warning: monitoring only", () => {
    const j = parseDmarc(["v=DMARC1; p=none; rua=mailto:d@example.com"]);
    expect(j).toMatchObject({ status: "warning", value: "p=none" });
    expect(j.detail).toContain("monitoring only");
  });

  it("is bad without a record or with two of them", () => {
    expect(parseDmarc([])).toMatchObject({ status: "bad", value: "none" });
    expect(parseDmarc(["v=spf1 -all"])).toMatchObject({ status: "bad", value: "none" });
    // The version tag must come first.
    expect(parseDmarc(["p=reject; v=DMARC1"])).toMatchObject({ status: "bad", value: "none" });
    const two = parseDmarc(["v=DMARC1; p=reject", "v=DMARC1; p=none"]);
    expect(two).toMatchObject({ status: "bad", value: "multiple" });
    expect(two.detail).toContain("2 v=DMARC1 records");
  });

  it("treats an unusable p= as p=none only when there is a valid rua (RFC 7489 §6.6.3)", () => {
    expect(parseDmarc(["v=DMARC1; p=rejected"])).toMatchObject({ status: "bad", value: "invalid" });
    expect(parseDmarc(["v=DMARC1; rua=mailto:d@example.com"])).toMatchObject({
      status: "warning",
      value: "p=none",
    });
  });

  it("notes partial enforcement from pct (RFC 7489) and t (DMARCbis)", () => {
    const pct = parseDmarc(["v=DMARC1; p=quarantine; pct=25"]);
    expect(pct).toMatchObject({ status: "good", value: "p=quarantine" });
    expect(pct.detail).toContain("pct=25: the policy applies to only 25% of failing mail");
    expect(pct.detail).toContain("no rua=");
    const t = parseDmarc(["v=DMARC1; p=reject; t=y; np=reject; psd=n"]);
    expect(t.detail).toContain("t=y: testing");
    expect(t.detail).toContain("np=reject");
  });

  it("applies sp= to a subdomain that inherits the organisational record", () => {
    const j = parseDmarc(["v=DMARC1; p=reject; sp=none"], {
      name: "_dmarc.example.com",
      inheritedFrom: "example.com",
    });
    expect(j).toMatchObject({ status: "warning", value: "p=none" });
    expect(j.detail).toContain("sp=none");
    expect(j.detail).toContain("inherited from the organisational domain example.com");
    expect(parseDmarc(["v=DMARC1; p=reject"], { inheritedFrom: "example.com" })).toMatchObject({
      status: "good",
      value: "p=reject",
    });
  });
});

describe("judgeDkim", () => {
  const key2048 = rsaKey(2048);
  const key1024 = rsaKey(1024);

  it("reads the RSA key size exactly: 2048 good, 1024 a warning, 512 bad", () => {
    expect(judgeDkim([`v=DKIM1; k=rsa; p=${key2048}`])).toMatchObject({ status: "good", value: "rsa-2048" });
    const mid = judgeDkim([`v=DKIM1; k=rsa; p=${key1024}`], { name: "s1._domainkey.example.com" });
    expect(mid).toMatchObject({ status: "warning", value: "rsa-1024" });
    expect(mid.detail).toContain("below the 2048 bits Google recommends");
    expect(judgeDkim([`v=DKIM1; p=${rsaKey(512)}`])).toMatchObject({ status: "bad", value: "rsa-512" });
  });

  it("accepts a key split over whitespace and a bare PKCS#1 key", () => {
    const spaced = `${key2048.slice(0, 200)} ${key2048.slice(200)}`;
    expect(judgeDkim([`v=DKIM1; k=rsa; p=${spaced}`])).toMatchObject({ value: "rsa-2048" });
    expect(judgeDkim([`k=rsa; p=${rsaKey(2048, "pkcs1")}`])).toMatchObject({ value: "rsa-2048" });
  });

  it("is bad for a revoked key (empty p=), a missing record or a malformed key", () => {
    const revoked = judgeDkim(["v=DKIM1; k=rsa; p="], { name: "old._domainkey.example.com" });
    expect(revoked).toMatchObject({ status: "bad", value: "revoked" });
    expect(revoked.detail).toContain("old._domainkey.example.com");
    expect(judgeDkim([])).toMatchObject({ status: "bad", value: "missing" });
    expect(judgeDkim(["v=spf1 -all"])).toMatchObject({ status: "bad", value: "missing" });
    expect(judgeDkim(["v=DKIM1; p=bm90IGEga2V5"])).toMatchObject({ status: "bad", value: "invalid" });
    expect(judgeDkim([`v=DKIM1; h=sha1; p=${key2048}`])).toMatchObject({ status: "bad", value: "sha1-only" });
    expect(judgeDkim([`v=DKIM1; k=dsa; p=${key2048}`])).toMatchObject({ status: "bad", value: "invalid" });
  });

  it("warns on t=y (testing)", () => {
    const j = judgeDkim([`v=DKIM1; t=y; p=${key2048}`]);
    expect(j).toMatchObject({ status: "warning", value: "rsa-2048" });
    expect(j.detail).toContain("t=y");
  });

  it("reads an Ed25519 key", () => {
    const ed = generateKeyPairSync("ed25519").publicKey.export({ type: "spki", format: "der" });
    const raw = ed.subarray(ed.length - 32).toString("base64");
    expect(judgeDkim([`v=DKIM1; k=ed25519; p=${raw}`])).toMatchObject({ status: "good", value: "ed25519" });
  });
});

describe("parseMtaStsTxt", () => {
  it("is good whether present or absent: it only protects mail sent to the domain", () => {
    expect(parseMtaStsTxt(["v=STSv1; id=20240101T000000"])).toMatchObject({
      status: "good",
      value: "present",
    });
    const absent = parseMtaStsTxt([]);
    expect(absent).toMatchObject({ status: "good", value: "absent" });
    expect(absent.detail).toContain("only matters for mail sent to this domain");
    expect(parseMtaStsTxt(["v=STSv1; id=a-b"])).toMatchObject({ status: "good", value: "invalid" });
    expect(parseMtaStsTxt(["v=STSv1; id=1", "v=STSv1; id=2"])).toMatchObject({ value: "invalid" });
  });
});

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { classifyBounce } from "../../../../shared/domain/classify/index.ts";

describe("classifyBounce: the issue's must-show lines", () => {
  it("reads a Microsoft banned-sending-IP hard bounce as a sender reputation block, a false hard bounce", () => {
    const c = classifyBounce({
      text: "550 5.7.606 Access denied, banned sending IP [198.51.100.7]",
      espClass: "hard",
    });
    expect(c).toMatchObject({ category: "reputation_block", side: "sender", falseHardBounce: true });
  });

  it("reads Mimecast's envelope block as a recipient-side policy block", () => {
    const c = classifyBounce({
      text: "550 Administrative prohibition - envelope blocked - https://community.mimecast.com/docs/DOC-1369#550",
    });
    expect(c).toMatchObject({ category: "policy_block", side: "recipient" });
  });

  it("reads a DMARC rejection as a sender authentication failure", () => {
    const c = classifyBounce({
      text: "550-5.7.26 Unauthenticated email from example.com is not accepted due to domain's DMARC policy",
    });
    expect(c).toMatchObject({ category: "auth_failure", side: "sender" });
  });

  it("reads the ESP's own routing failures as ESP-internal, whatever 5.4.x code they carry", () => {
    for (const text of [
      "550 5.4.4 [internal] no MX host reachable from 203.0.113.24 for the recipient domain",
      "554 5.4.0 [internal] message expired in the outbound queue",
      "550 5.4.6 routing loop detected at the sending relay",
      "554 5.4.0 mail for example.com loops back to myself",
    ]) {
      const c = classifyBounce({ text, espClass: "hard" });
      expect(c, text).toMatchObject({ category: "esp_internal", side: "sender" });
    }
    // A bare 5.4.4 from a receiver is still read from the code.
    expect(classifyBounce({ text: "550 5.4.4 Unable to route" }).category).toBe("invalid_recipient");
  });

  it("trusts Microsoft's RecipientNotFound more than a Proofpoint 'User Unknown'", () => {
    const ms = classifyBounce({
      text: "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup",
    });
    const pp = classifyBounce({ text: "550 5.1.1 User Unknown", mxHost: "mx0b-00123401.pphosted.com" });
    expect(ms.category).toBe("invalid_recipient");
    expect(pp).toMatchObject({ category: "invalid_recipient", gateway: "proofpoint" });
    expect(pp.confidence).toBeLessThan(ms.confidence);
  });
});

describe("classifyBounce: evidence order", () => {
  it("lets wording beat a user-unknown code", () => {
    const c = classifyBounce({
      text: "550 5.1.1 Service unavailable; client [192.0.2.1] blocked using zen.spamhaus.org",
    });
    expect(c.category).toBe("reputation_block");
  });

  it("lets a vendor token beat the recipient-rejection wording around it (Trend Micro ERS)", () => {
    const c = classifyBounce({ text: "550 5.7.1 <a@b.example>: Recipient address rejected: ERS-QIL." });
    expect(c).toMatchObject({ category: "reputation_block", gateway: "trend_micro", rule: "trend.ers" });
  });

  it("falls back to the enhanced code, then the reply code", () => {
    expect(classifyBounce({ text: "no words we know", enhanced: "5.7.26" })).toMatchObject({
      category: "auth_failure",
      rule: "enhanced.5.7.26",
    });
    expect(classifyBounce({ text: "zzz", code: 421 })).toMatchObject({
      category: "transient",
      rule: "reply.421",
    });
    expect(classifyBounce({ text: "" })).toMatchObject({ category: "unknown", rule: "none" });
  });

  it("prefers a specific code in the text over a generic supplied 5.0.0", () => {
    expect(classifyBounce({ text: "something 5.2.2 happened", enhanced: "5.0.0" }).category).toBe(
      "mailbox_full",
    );
  });

  it("does not read an IPv4 address as an enhanced status code", () => {
    expect(classifyBounce({ text: "rejected from 5.7.12.3 zzz" }).rule).not.toMatch(/^enhanced/);
  });

  it("classifies the remote server's quoted reply, not the relay's boilerplate", () => {
    const c = classifyBounce({
      text: "** Address not found ** Your message wasn't delivered to x@example.jp because the address couldn't be found. The response from the remote server was: 501 5.1.8 Sender address rejected",
    });
    expect(c).toMatchObject({ category: "policy_block", side: "sender" });
  });
});

describe("classifyBounce: stage and gateway habits", () => {
  it("treats user-unknown wording after DATA as a filter decision", () => {
    const c = classifyBounce({
      text: "host mx.example.net said: 550 Unknown user x@example.net (in reply to end of DATA command)",
    });
    expect(c).toMatchObject({ category: "policy_block", side: "recipient" });
    expect(c.rule).toMatch(/\+after-data$/);
  });

  it("keeps user-unknown at RCPT an invalid recipient", () => {
    const c = classifyBounce({
      text: "host mx.example.net said: 550 Unknown user x@example.net (in reply to RCPT TO command)",
    });
    expect(c.category).toBe("invalid_recipient");
  });

  it("never calls a 4xx an invalid recipient", () => {
    expect(classifyBounce({ text: "451 4.1.1 User unknown, try again" }).category).toBe("transient");
    expect(
      classifyBounce({ text: "451 Invalid Recipient - https://community.mimecast.com/docs/DOC-1369#451" })
        .category,
    ).toBe("transient");
  });

  it("lowers confidence in user-unknown from directory-copy gateways but not from the mailbox store", () => {
    const plain = classifyBounce({
      text: "550 5.1.1 <x@y.example>: Recipient address rejected: User unknown",
    });
    const mimecast = classifyBounce({
      text: "550 Invalid Recipient",
      mxHost: "us-smtp-inbound-1.mimecast.com",
    });
    const dbeb = classifyBounce({
      text: "550 5.4.1 Recipient address rejected: Access denied. AS(201806281)",
      mxHost: "acme-com.mail.protection.outlook.com",
    });
    const google = classifyBounce({
      text: "550-5.1.1 The email account that you tried to reach does not exist. - gsmtp",
      mxHost: "aspmx.l.google.com",
    });
    for (const c of [plain, mimecast, dbeb, google]) expect(c.category).toBe("invalid_recipient");
    expect(mimecast.confidence).toBeLessThan(plain.confidence);
    expect(dbeb.confidence).toBeLessThan(plain.confidence);
    expect(google.confidence).toBeGreaterThan(plain.confidence);
  });

  it("marks blocks the ESP called hard as false hard bounces, and genuine invalids not", () => {
    expect(
      classifyBounce({
        text: "554 Blocked - see https://ipcheck.proofpoint.com/?ip=192.0.2.1",
        espClass: "hard",
      }),
    ).toMatchObject({ falseHardBounce: true, gateway: "proofpoint" });
    expect(classifyBounce({ text: "550 5.1.1 User unknown", espClass: "hard" }).falseHardBounce).toBe(false);
    expect(
      classifyBounce({ text: "550 5.7.1 blocked using Spamhaus", espClass: "soft" }).falseHardBounce,
    ).toBe(false);
    // Without an ESP class a permanent reply stands in for "hard".
    expect(classifyBounce({ text: "550 5.7.1 blocked using Spamhaus" }).falseHardBounce).toBe(true);
  });

  it("recognises Sophos, Microsoft and Google tokens without an MX host", () => {
    expect(classifyBounce({ text: "550 5.7.1 XGEMAIL_0011 Command rejected" })).toMatchObject({
      category: "invalid_recipient",
      gateway: "sophos",
    });
    expect(classifyBounce({ text: "550 5.7.1 RESOLVER.RST.NotAuthorized; not authorized" }).category).toBe(
      "policy_block",
    );
    expect(
      classifyBounce({
        text: "550 5.7.1 Our system has detected that this message is likely unsolicited mail",
      }).category,
    ).toBe("spam_or_content_block");
  });
});

describe("classifyBounce: properties", () => {
  const input = fc.record(
    {
      text: fc.oneof(
        fc.string(),
        fc.string({ unit: "grapheme", maxLength: 400 }),
        fc.string({ minLength: 5000, maxLength: 20000 }),
      ),
      code: fc.integer({ min: 200, max: 599 }),
      enhanced: fc.oneof(fc.string(), fc.constantFrom("5.1.1", "4.7.1", "5.7.606", "5.0.0", "9.9.9", "")),
      mxHost: fc.oneof(fc.domain(), fc.string()),
      espClass: fc.constantFrom("hard" as const, "soft" as const, "block" as const, "undetermined" as const),
    },
    { requiredKeys: ["text"] },
  );

  it("never throws, always returns a well-formed verdict, and is deterministic", () => {
    fc.assert(
      fc.property(input, (i) => {
        const a = classifyBounce(i);
        const b = classifyBounce(i);
        expect(b).toEqual(a);
        expect(a.confidence).toBeGreaterThanOrEqual(0);
        expect(a.confidence).toBeLessThanOrEqual(1);
        expect(a.rule.length).toBeGreaterThan(0);
      }),
      { numRuns: 300 },
    );
  });

  it("handles very long and non-ASCII rejection texts", () => {
    const long = `550 5.1.1 ${"ユーザーが見つかりません ".repeat(5000)} user unknown`;
    expect(() => classifyBounce({ text: long })).not.toThrow();
    expect(
      classifyBounce({ text: "550 5.5.0 Adresse destinataire invalide. Invalid recipient. LPN007_416" })
        .category,
    ).toBe("invalid_recipient");
  });
});

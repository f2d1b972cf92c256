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

describe("classifyBounce: refusals the ESP made on its own", () => {
  // Each text is the ESP's published wording (sources in shared/domain/classify/rules/esp-rules.ts).
  const refusals: ReadonlyArray<readonly [string, Partial<{ code: number; enhanced: string }>]> = [
    ["554 5.7.1 recipient address was suppressed due to customer policy", { code: 554, enhanced: "5.7.1" }],
    ["554 5.7.1 recipient address was suppressed due to system policy (Spam Complaint)", { code: 554 }],
    ["554 5.7.1 [internal] recipient address was suppressed due to system policy", {}],
    ["Not delivering to a user who marked your messages as spam", {}],
    ["Not delivering to previously bounced address", {}],
    ["Not delivering to unsubscribed address", {}],
    ["554 5.7.1 [internal] Campaign cancelled", { code: 554, enhanced: "5.7.1" }],
    ["550 5.7.1 Unconfigured Sending Domain <app.example.com>", { code: 550 }],
    [
      "host smtp.sparkpostmail.com[54.69.234.221] said: 550 5.7.1 Unconfigured Sending Domain <app.example.com> (in reply to end of DATA command)",
      {},
    ],
    [
      "Amazon SES has suppressed sending to this address because it has a recent history of bouncing as an invalid address. For more information about how to remove an address from the suppression list, see the Amazon SES Developer Guide",
      { enhanced: "5.1.1" },
    ],
    [
      "Amazon SES did not send the message to this address because it is on the suppression list for your account.",
      { enhanced: "5.1.1" },
    ],
    ["Address on suppression list", {}],
    ["Spam Reporting Address", {}],
    ["Attribute 'name' is not present in the rendering data.", {}],
  ];

  it("reads suppression-list hits, cancelled campaigns, unconfigured domains and rendering failures as esp_refused: neutral, never a block", () => {
    for (const [text, codes] of refusals) {
      const c = classifyBounce({ text, ...codes, espClass: "hard" });
      expect(c, text).toMatchObject({ category: "esp_refused", side: "neutral", falseHardBounce: false });
    }
  });

  it("keeps the ESP suspending or throttling itself an ESP fault, not greylisting", () => {
    for (const input of [
      { text: "451 4.3.0 [internal] Sending IP temporarily suspended" },
      { text: "451 4.3.0 [internal] Sending IP temporarily suspended", code: 451, enhanced: "4.3.0" },
    ]) {
      expect(classifyBounce(input), input.text).toMatchObject({ category: "esp_internal", side: "sender" });
    }
  });

  it("reads the SES mailbox simulator's blacklisted address as a missing mailbox, not a block list", () => {
    const c = classifyBounce({
      text: "550 5.1.1 user unknown ( blacklisted address: bounce@simulator.amazonses.com )",
      espClass: "hard",
    });
    expect(c).toMatchObject({ category: "invalid_recipient", side: "neutral", falseHardBounce: false });
    // A listed sending IP is still a reputation block.
    expect(classifyBounce({ text: "554 5.7.1 Service unavailable; Client host blacklisted" }).category).toBe(
      "reputation_block",
    );
  });

  it("reads SendGrid's unresolvable recipient domain as an invalid recipient, not a PTR requirement", () => {
    const c = classifyBounce({
      text: "unable to get mx info: failed to get IPs from PTR record: lookup <nil>: unrecognized address",
      espClass: "block",
    });
    expect(c).toMatchObject({ category: "invalid_recipient", side: "neutral" });
    // A receiver's reverse-DNS requirement stays a sender-side policy block.
    expect(
      classifyBounce({
        text: "550 5.7.25 The IP address sending this message does not have a PTR record setup",
      }),
    ).toMatchObject({ category: "policy_block", side: "sender" });
  });
});

describe("classifyBounce: directory misses, disabled accounts and null MX of less common servers", () => {
  it("reads directory-miss wording from Sisimai's UserUnknown table as an invalid recipient", () => {
    for (const text of [
      "550 sorry, no account by that name here",
      "550 5.1.1 <kijitora@example.org> not found",
      "550 User x@example.org was not found in LDAP server",
      "553 sorry, your envelope recipient is in my badrcptto list (#5.7.1)",
      "550 vdeliver: Invalid or unknown virtual user 'neko'",
      "550 5.1.1 Recipient not OK",
      "550 there is no one at this address",
    ]) {
      expect(classifyBounce({ text }).category, text).toBe("invalid_recipient");
    }
  });

  it("reads suspended, archived and inactive mailboxes as invalid recipients, not policy blocks", () => {
    for (const text of [
      "550 5.2.1 This mailbox has been blocked due to inactivity",
      "550 This mailbox is no longer in service",
      "550 5.2.1 <neko@example.org> is a deactivated mailbox",
      "550 Requested action not taken: archived recipient",
      "550 5.2.1 kijitora@example.org is currently suspended",
    ]) {
      expect(classifyBounce({ text }).category, text).toBe("invalid_recipient");
    }
  });

  it("reads a null MX (RFC 7505) as an invalid recipient, also in Gmail's DNS Error wording", () => {
    for (const text of [
      "DNS Error: 1234 DNS type 'mx' lookup of example.org responded with code NOERROR The domain example.org doesn't receive email according to the administrator: returned Null MX",
      "550 5.1.10 Recipient address has a null MX",
      "553 example.org does not accept mail (nullMX)",
    ]) {
      expect(classifyBounce({ text }).category, text).toBe("invalid_recipient");
    }
    // A failed lookup Gmail retries stays transient.
    expect(
      classifyBounce({
        text: "DNS Error: 80335577 DNS type 'mx' lookup of example.jp responded with code SERVFAIL",
        enhanced: "4.0.0",
      }).category,
    ).toBe("transient");
  });

  it("reads Amazon's 'the account or domain may not exist, they may be blacklisted' as an invalid recipient", () => {
    const c = classifyBounce({
      text: "The mail server could not deliver mail to x@example.net. The account or domain may not exist, they may be blacklisted, or missing the proper dns entries.",
    });
    expect(c.category).toBe("invalid_recipient");
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

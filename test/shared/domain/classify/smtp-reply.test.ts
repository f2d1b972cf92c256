import { describe, expect, it } from "vitest";
import {
  bestEnhancedCode,
  bestReplyCode,
  enhancedCodesIn,
  smtpStageOf,
} from "../../../../shared/domain/classify/smtp-reply.ts";

describe("smtp-reply parsing", () => {
  it("finds enhanced codes in common notations", () => {
    expect(enhancedCodesIn("550-5.7.26 Unauthenticated").map((c) => c.raw)).toEqual(["5.7.26"]);
    expect(enhancedCodesIn("sorry (#5.1.1 - chkusr)").map((c) => c.raw)).toEqual(["5.1.1"]);
    expect(enhancedCodesIn("550 5.7.606 Access denied").map((c) => c.raw)).toEqual(["5.7.606"]);
  });

  it("skips IPv4 addresses, version numbers and dotted dates", () => {
    expect(enhancedCodesIn("client [5.7.1.2] via v4.4.1 on 5.4.2024.1")).toEqual([]);
  });

  it("prefers a specific code over a generic one", () => {
    expect(bestEnhancedCode("5.0.0", "550 5.0.0 <x>... 5.1.1 unknown")?.raw).toBe("5.1.1");
    expect(bestEnhancedCode("5.2.2", "550 5.1.1")?.raw).toBe("5.2.2");
    expect(bestEnhancedCode(undefined, "no code")).toBeNull();
  });

  it("reads reply codes from the start of the text or a quoted reply", () => {
    expect(bestReplyCode(undefined, "550-5.7.1 blocked")).toBe(550);
    expect(bestReplyCode(undefined, "host x said: 554 5.7.1 Rejected")).toBe(554);
    expect(bestReplyCode(421, "550 x")).toBe(421);
    expect(bestReplyCode(undefined, "nothing here")).toBeNull();
  });

  it("recognises the SMTP stage from Postfix and Exim wording", () => {
    expect(smtpStageOf("(in reply to RCPT TO command)")).toBe("rcpt");
    expect(smtpStageOf("(in reply to end of DATA command)")).toBe("data");
    expect(smtpStageOf("SMTP error from remote mail server after MAIL FROM:<a@b>")).toBe("mail");
    expect(smtpStageOf("host x refused to talk to me: 554")).toBe("connect");
    expect(smtpStageOf("550 user unknown")).toBeNull();
  });
});

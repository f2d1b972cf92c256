import { describe, expect, it } from "vitest";
import { isConsumerProvider } from "../../../../shared/domain/organisations/consumer-providers.ts";
import {
  domainOfAddress,
  normaliseDomain,
  organisationOf,
} from "../../../../shared/domain/organisations/organisation-of.ts";

describe("organisationOf", () => {
  it("takes the registrable domain under the Public Suffix List", () => {
    expect(organisationOf("mail.eu.acme.co.uk")).toBe("acme.co.uk");
    expect(organisationOf("ACME.com.")).toBe("acme.com");
    expect(organisationOf("sales.initech.com.au")).toBe("initech.com.au");
  });

  it("normalises IDNs to punycode and keeps unlisted names", () => {
    expect(normaliseDomain("Bücher.de")).toBe("xn--bcher-kva.de");
    expect(organisationOf("intranet")).toBe("intranet");
  });

  it("reads the domain of an address", () => {
    expect(domainOfAddress("J.Doe@Mail.Acme.COM")).toBe("mail.acme.com");
    expect(domainOfAddress("no-at-sign")).toBeNull();
    expect(domainOfAddress("trailing@")).toBeNull();
  });
});

describe("isConsumerProvider", () => {
  it("flags the big consumer mailbox providers as the control group", () => {
    for (const d of ["gmail.com", "outlook.com", "hotmail.com", "yahoo.com", "icloud.com", "gmx.de"]) {
      expect(isConsumerProvider(d)).toBe(true);
    }
  });

  it("does not flag corporate or reserved documentation domains", () => {
    for (const d of ["acme-corp.com", "initech.co.uk", "example.com", "example.org", "acme.example"]) {
      expect(isConsumerProvider(d)).toBe(false);
    }
  });
});

import { describe, expect, it } from "vitest";
import { ZoneMxResolver } from "../../../shared/simulation/zone-mx-resolver.ts";

describe("ZoneMxResolver", () => {
  const resolver = new ZoneMxResolver({
    "acme.example": {
      mx: [
        { exchange: "MX0B-1.pphosted.com.", priority: 20 },
        { exchange: "mx0a-1.pphosted.com", priority: 10 },
      ],
    },
    "nomail.example": { mx: [] },
  });

  it("answers the zone's MX hosts by preference, normalised", async () => {
    expect(await resolver.mx("ACME.example.")).toEqual({
      status: "ok",
      hosts: ["mx0a-1.pphosted.com", "mx0b-1.pphosted.com"],
    });
  });

  it("says nodata for a name without MX and nxdomain outside the zone", async () => {
    expect((await resolver.mx("nomail.example")).status).toBe("nodata");
    expect((await resolver.mx("elsewhere.example")).status).toBe("nxdomain");
  });
});

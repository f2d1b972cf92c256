import type { Vendor } from "../gateways/catalogue.ts";

/**
 * Tokens and URLs that name the rejecting vendor even when no MX host is known (docs/sources.md#gateway-fingerprints, "other
 * fingerprints"). Checked in order; the first match wins.
 */
const FINGERPRINTS: ReadonlyArray<readonly [RegExp, Vendor]> = [
  [
    /RESOLVER\.(?:ADR|RST)\.|STOREDRV\.|\bAS\(\d{3,}\)|sender\.office\.com|protection\.outlook\.com|\(S\d{3,4}\)/i,
    "microsoft",
  ],
  [/pphosted\.com|ppe-hosted\.com|proofpoint/i, "proofpoint"],
  [/mimecast/i, "mimecast"],
  [/barracuda|cuda_nsu|cudasvc\.com/i, "barracuda"],
  [/iphmx\.com|senderbase\.org|ironport/i, "cisco"],
  [/messagelabs|symanteccloud|symantec/i, "broadcom"],
  [/\bERS-(?:QIL|RBL|DUL|Customized-Block)\b|BLOCK-SEND-ER|trendmicro|trend micro/i, "trend_micro"],
  [/XGEMAIL_\d{4}|sophos/i, "sophos"],
  [/\bETP\d{3}\b|fireeyecloud/i, "trellix"],
  [/hornetsecurity|antispameurope/i, "hornetsecurity"],
  [/mailcontrol\.com|forcepoint/i, "forcepoint"],
  [/ - gsmtp\b|support\.google\.com|google\.com\/mail|groups\.google\.com/i, "google"],
  [/yahoo(?:inc)?\.com|yahoodns\.net|\[TSS?0\d\]/i, "yahoo"],
  [/icloud\.com|\.me\.com/i, "apple"],
];

export function vendorFromText(text: string): Vendor | null {
  for (const [re, vendor] of FINGERPRINTS) {
    if (re.test(text)) return vendor;
  }
  return null;
}

import * as z from "zod";

/**
 * Recipient-side mail gateways and hosted mailbox platforms bounce-radar recognises.
 * Facts (MX host patterns, directory-validation behaviour) come from docs/sources.md#gateway-fingerprints and #directory-copy-validation.
 */
export const GatewayIdSchema = z.enum([
  "microsoft365",
  "outlook_com",
  "google_workspace",
  "gmail",
  "yahoo",
  "icloud",
  "proofpoint",
  "mimecast",
  "barracuda",
  "cisco",
  "broadcom",
  "trend_micro",
  "sophos",
  "trellix",
  "hornetsecurity",
  "forcepoint",
  "fortimail",
  "spamexperts",
  "spamtitan",
  "zix_appriver",
  "cloudflare",
  "libraesva",
  "cyren",
  "mcafee",
  "intermedia",
  "rackspace",
  "godaddy",
  "zoho",
  "nospamproxy",
  "securence",
]);
export type GatewayId = z.infer<typeof GatewayIdSchema>;

export type Vendor =
  | "microsoft"
  | "google"
  | "yahoo"
  | "apple"
  | "proofpoint"
  | "mimecast"
  | "barracuda"
  | "cisco"
  | "broadcom"
  | "trend_micro"
  | "sophos"
  | "trellix"
  | "hornetsecurity"
  | "forcepoint"
  | "other";

export interface GatewayInfo {
  readonly id: GatewayId;
  readonly name: string;
  readonly vendor: Vendor;
  /** A consumer mailbox provider: accepts and junks rather than rejects, so it serves as a control group. */
  readonly consumer: boolean;
  /**
   * Validates recipients against its own copy of the customer's directory, so it is documented to answer
   * "user unknown" for mailboxes that exist when the copy is stale (docs/sources.md#directory-copy-validation).
   */
  readonly directoryCopy: boolean;
  /** Host-name suffixes or patterns, matched against a lower-cased host without the trailing dot. */
  readonly mxPatterns: readonly RegExp[];
}

const suffix = (s: string): RegExp => new RegExp(`(^|\\.)${s.replace(/\./g, "\\.")}$`);

export const GATEWAYS: readonly GatewayInfo[] = [
  {
    id: "outlook_com",
    name: "Outlook.com / Hotmail",
    vendor: "microsoft",
    consumer: true,
    directoryCopy: false,
    // hotmail-com.olc.protection.outlook.com, outlook-com.olc.protection.outlook.com
    mxPatterns: [suffix("olc.protection.outlook.com"), suffix("hotmail.com")],
  },
  {
    id: "microsoft365",
    name: "Microsoft 365 / Exchange Online Protection",
    vendor: "microsoft",
    consumer: false,
    directoryCopy: true, // Directory-Based Edge Blocking (5.4.1)
    mxPatterns: [
      suffix("mail.protection.outlook.com"),
      suffix("protection.outlook.com"),
      suffix("prod.outlook.com"),
      suffix("onmicrosoft.com"),
      suffix("exchangelabs.com"),
      suffix("mx.microsoft"),
      suffix("mail.protection.office365.us"),
      suffix("mail.protection.partner.outlook.cn"),
    ],
  },
  {
    id: "gmail",
    name: "Gmail",
    vendor: "google",
    consumer: true,
    directoryCopy: false,
    mxPatterns: [/(^|\.)gmail-smtp-in\.l\.google\.com$/],
  },
  {
    id: "google_workspace",
    name: "Google Workspace",
    vendor: "google",
    consumer: false,
    directoryCopy: false,
    mxPatterns: [
      /(^|\.)aspmx\.l\.google\.com$/,
      /^aspmx\d*\.googlemail\.com$/,
      /^smtp\.google\.com$/,
      suffix("psmtp.com"),
    ],
  },
  {
    id: "yahoo",
    name: "Yahoo / AOL",
    vendor: "yahoo",
    consumer: true,
    directoryCopy: false,
    mxPatterns: [suffix("yahoodns.net"), suffix("mx.aol.com"), suffix("mail.aol.com")],
  },
  {
    id: "icloud",
    name: "Apple iCloud Mail",
    vendor: "apple",
    consumer: true,
    directoryCopy: false,
    mxPatterns: [suffix("mail.icloud.com"), /(^|\.)mx\d*\.me\.com(\.akadns\.net)?$/],
  },
  {
    id: "proofpoint",
    name: "Proofpoint (Enterprise, on Demand, Essentials)",
    vendor: "proofpoint",
    consumer: false,
    directoryCopy: true, // Essentials SMTP Discovery "marked as invalid"
    mxPatterns: [suffix("pphosted.com"), suffix("ppe-hosted.com")],
  },
  {
    id: "mimecast",
    name: "Mimecast",
    vendor: "mimecast",
    consumer: false,
    directoryCopy: true, // Known Recipients Only / Directory Users Only
    mxPatterns: [suffix("mimecast.com"), suffix("mimecast.co.za"), suffix("mimecast-offshore.com")],
  },
  {
    id: "barracuda",
    name: "Barracuda Email Security / Email Gateway Defense",
    vendor: "barracuda",
    consumer: false,
    directoryCopy: true, // unsynced user list
    mxPatterns: [suffix("ess.barracudanetworks.com"), suffix("barracudanetworks.com")],
  },
  {
    id: "cisco",
    name: "Cisco Secure Email (IronPort)",
    vendor: "cisco",
    consumer: false,
    directoryCopy: true, // LDAP accept queries / recipient access tables
    mxPatterns: [suffix("iphmx.com"), suffix("etd.cisco.com")],
  },
  {
    id: "broadcom",
    name: "Broadcom / Symantec Email Security.cloud (MessageLabs)",
    vendor: "broadcom",
    consumer: false,
    directoryCopy: true, // cached directory data
    mxPatterns: [suffix("messagelabs.com"), suffix("inboundmx.com")],
  },
  {
    id: "trend_micro",
    name: "Trend Micro Email Security",
    vendor: "trend_micro",
    consumer: false,
    directoryCopy: true, // HES Directory Management
    mxPatterns: [
      suffix("tmes.trendmicro.com"),
      suffix("tmes.trendmicro.eu"),
      suffix("hes.trendmicro.com"),
      suffix("hes.trendmicro.eu"),
      suffix("tmes-anz.trendmicro.com"),
      suffix("tmes.trendmicro.co.jp"),
    ],
  },
  {
    id: "sophos",
    name: "Sophos Email",
    vendor: "sophos",
    consumer: false,
    directoryCopy: false,
    mxPatterns: [suffix("hydra.sophos.com")],
  },
  {
    id: "trellix",
    name: "Trellix (FireEye) Email Security",
    vendor: "trellix",
    consumer: false,
    directoryCopy: false,
    mxPatterns: [suffix("fireeyecloud.com")],
  },
  {
    id: "hornetsecurity",
    name: "Hornetsecurity",
    vendor: "hornetsecurity",
    consumer: false,
    directoryCopy: false,
    mxPatterns: [suffix("hornetsecurity.com"), suffix("antispameurope.com")],
  },
  {
    id: "forcepoint",
    name: "Forcepoint Email Security Cloud",
    vendor: "forcepoint",
    consumer: false,
    directoryCopy: false,
    mxPatterns: [suffix("mailcontrol.com")],
  },
  gateway("fortimail", "FortiMail Cloud", [suffix("fortimailcloud.com")]),
  gateway("spamexperts", "SpamExperts / N-able Mail Assure", [
    suffix("spamexperts.com"),
    suffix("spamexperts.eu"),
    suffix("spamexperts.net"),
    suffix("antispamcloud.com"),
    suffix("mtaroutes.com"),
    suffix("mailspamprotection.com"),
  ]),
  gateway("spamtitan", "SpamTitan", [suffix("spamtitan.com")]),
  gateway("zix_appriver", "Zix / AppRiver", [suffix("arsmtp.com"), suffix("zixmail.net")]),
  gateway("cloudflare", "Cloudflare Email Security / Email Routing", [
    suffix("mxrecord.io"),
    suffix("mxrecord.mx"),
    suffix("mx.cloudflare.net"),
  ]),
  gateway("libraesva", "Libraesva", [suffix("esvacloud.com")]),
  gateway("cyren", "Cyren / eleven", [suffix("ctmail.com"), suffix("expurgate.net")]),
  gateway("mcafee", "McAfee MX Logic", [suffix("mxlogic.net")]),
  gateway("intermedia", "Intermedia", [suffix("serverdata.net")]),
  gateway("rackspace", "Rackspace Email", [suffix("emailsrvr.com")]),
  gateway("godaddy", "GoDaddy", [suffix("secureserver.net")]),
  gateway("zoho", "Zoho Mail", [/^mx\d*\.zoho\.(com|eu|in|com\.au)$/, suffix("zoho.com"), suffix("zoho.eu")]),
  gateway("nospamproxy", "NoSpamProxy", [suffix("nospamproxy.com")]),
  gateway("securence", "Securence", [suffix("securence.com")]),
];

function gateway(id: GatewayId, name: string, mxPatterns: RegExp[]): GatewayInfo {
  return { id, name, vendor: "other", consumer: false, directoryCopy: false, mxPatterns };
}

const BY_ID = new Map(GATEWAYS.map((g) => [g.id, g]));

export function gatewayInfo(id: GatewayId): GatewayInfo {
  const info = BY_ID.get(id);
  if (!info) throw new Error(`unknown gateway id: ${id}`);
  return info;
}

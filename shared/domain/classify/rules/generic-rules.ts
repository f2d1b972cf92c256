import type { TextRule } from "../rule.ts";
import { temporary } from "../rule.ts";

/**
 * Wording any receiver may use, in priority order: the first rule that matches wins. Specific outcomes
 * (quota, size, disabled account) come before "user unknown" so `over quota (#5.1.1)` is not read as a missing
 * mailbox, and sender-side refusals (authentication, block lists) come before content and policy wording, as
 * Sisimai orders its probes (docs/sources.md#sisimai-reason-names). Text beats codes: a 5.1.1 that says "blocked using
 * Spamhaus" is a reputation block (docs/sources.md#classifier-heuristics).
 */
export const GENERIC_RULES: readonly TextRule[] = [
  {
    id: "generic.sender-quota",
    pattern:
      /submission quota exceeded|throttling failure|maximum sending rate exceeded|daily (?:sending )?(?:quota|limit) (?:exceeded|reached)/i,
    category: "rate_limited",
    side: "sender",
    confidence: 0.85,
    evidence:
      "Microsoft Exchange Online NDRs (5.2.2 submission quota); SES 'Throttling failure': limits on the sending account",
  },
  {
    id: "generic.esp-internal",
    pattern:
      /\bamazon ses (?:could not|was unable|did not)|your (?:sending )?account (?:has been|is) (?:paused|suspended|disabled|under review)|esp internal error|internal error (?:occurred )?(?:while|when) sending|message was not sent (?:because|due to)/i,
    category: "esp_internal",
    side: "sender",
    confidence: 0.7,
    evidence: "failures the ESP reports about itself, with no reply from a receiving server",
  },
  {
    // The ESP's own MTA reporting a routing failure: no receiver answered, so nothing here is about the
    // recipient, whatever 5.4.x code it carries (RFC 3463 X.4.x is network and routing status).
    id: "generic.esp-routing",
    pattern:
      /\[internal\]|\bno (?:mx|mail exchangers?)(?: hosts?)? (?:were |was |is )?reachable\b|\brouting loop\b|\bloops? back to (?:myself|itself)\b/i,
    category: "esp_internal",
    side: "sender",
    confidence: 0.75,
    evidence:
      "replies the sending ESP's own MTA writes (marked [internal], or naming its routing); RFC 3463 X.4.x network and routing status",
  },
  {
    id: "generic.mailbox-full",
    pattern:
      /\b(?:mail ?box|in ?box|account|mail ?folder|user|recipient|destinataire)(?:'s)?\b[^.;]{0,40}?\b(?:is |was )?(?:full|over ?quota|out of (?:storage|space))\b|\bover ?quota\b|\bquota (?:exceeded|exceeds|full|limit exceeded)\b|exceeded (?:its |the |their |his |her )?(?:storage|quota|mailbox)|not enough (?:storage|space) (?:in|for|on)|mailbox (?:size|storage) (?:limit )?exceeded|user mailbox exceeds allowed size|exceeds (?:the )?(?:mailbox|storage|disk) quota|boite du destinataire pleine/i,
    category: "mailbox_full",
    confidence: 0.9,
    evidence:
      "sisimai MailboxFull phrases; Google Workspace SMTP errors 'over quota', 'out of storage space'",
  },
  {
    id: "generic.message-too-large",
    pattern:
      /message (?:size|length) (?:exceeds|is over|too)|messages? (?:is |was )?too (?:large|big)|message file too big|exceeds? (?:the )?(?:fixed |maximum |max )?(?:allowed )?(?:message |mail )?size|max(?:imum)? (?:message |email |mail )?size (?:exceeded|limit)|size limit (?:exceeded|reached)|mail size exceeds|line limit exceeded|RecipSizeLimit|too large for this recipient|taille limite du message/i,
    category: "message_too_large",
    confidence: 0.9,
    evidence: "sisimai EmailTooLarge (MesgTooBig/ExceedLimit) phrases; RFC 3463 X.2.3 / X.3.4",
  },
  {
    id: "generic.account-disabled",
    pattern:
      /\b(?:account|mail ?box|user|address|recipient|e-?mail)\b[^.;]{0,30}?\b(?:has been |is |was )?(?:disabled|deactivated|suspended|inactive|frozen|locked|closed|terminated|discontinued|archived)\b|\binactive (?:e-?mail )?(?:address|account|user|mailbox)|disabled recipient|no longer (?:accepts|accepting|receives|receiving) (?:e-?)?mail|this (?:address|account|mail ?box) (?:is )?no longer (?:active|in use|in service|valid)|\b(?:is currently|has been|temporar(?:il)?y) (?:suspended|locked)\b|\barchived recipient\b|boite du destinataire archivee|\bis a deactivated mailbox\b|user is terminated|recipient suspend the service|(?:blocked|closed|disabled|deactivated|suspended|locked) (?:due to|because of|for) (?:long |prolonged )?inactivity/i,
    category: "invalid_recipient",
    confidence: 0.8,
    mailboxLevel: true,
    evidence:
      "sisimai Suspend phrases (github.com/sisimai/go-sisimai reason/why-suspend.go, BSD 2-Clause); RFC 3463 X.7.13 user account disabled (for B2B usually a person who left)",
  },
  {
    id: "generic.moved",
    pattern:
      /has been replaced by|recipient no longer on server|no longer (?:on|at) this server|(?:mailbox|address|user) has moved/i,
    category: "invalid_recipient",
    confidence: 0.85,
    mailboxLevel: true,
    evidence: "sisimai HasMoved; RFC 3463 X.1.6 destination mailbox moved, no forwarding address",
  },
  {
    id: "generic.auth",
    pattern:
      /\b(?:spf|dkim|dmarc)\b|sender policy framework|domainkeys|\barc (?:validation|failure)|unauthenticated (?:e-?mail|mail|senders?)|authentication (?:information|checks?|fail(?:ed|ure)?|required)|fails? to pass authentication|must pass either spf or dkim|(?:ip|host|server)[^.;]{0,30} (?:is )?not (?:authori[sz]ed|allowed|permitted) to send|invalid ip for sending/i,
    category: "auth_failure",
    confidence: 0.9,
    evidence:
      "sisimai AuthFailure; Google 5.7.26/4.7.27; Mimecast DOC-1369; docs/sources.md#classifier-heuristics",
  },
  {
    id: "generic.content-blocklist",
    pattern:
      /(?:black|block|ban)[ -]?listed (?:url|link|domain|uri)s? in|\b(?:uribl|surbl)\b|spam url in content/i,
    category: "spam_or_content_block",
    confidence: 0.85,
    evidence: "URL/domain block lists concern the message body, not the sending IP",
  },
  {
    // Amazon's generic DSN: "The account or domain may not exist, they may be blacklisted, or missing the proper
    // dns entries." Its first guess is the recipient; "blacklisted" here is not about the sending IP.
    id: "generic.account-or-domain-may-not-exist",
    pattern: /the account or domain may not exist/i,
    category: "invalid_recipient",
    confidence: 0.55,
    evidence:
      "sisimai HostUnknown phrase 'the account or domain may not exist' (go-sisimai reason/why-hostunknown.go)",
  },
  {
    id: "generic.reputation",
    pattern:
      /\b(?:black|block|deny|ban)[ -]?list(?:ed)?\b(?! (?:e-?mail )?address\b)|\b(?:rbl|dnsbl|dnsbls|rbl\+)\b|spamhaus|spamcop|sorbs|cloudmark|senderscore|barracudacentral|blocked using|\blisted (?:in|on|at) (?:the |our )?[\w.-]*\s?(?:rbl|dnsbl|list|block)|banned sending ip|(?:poor|bad|low|negative|insufficient) (?:ip |sender |sending )?reputation|reputation (?:of the sending|is too low|score)|blocked for spam|(?:ip|host|client|source)[^.;]{0,40}\b(?:blocked|banned|rejected|bloquee)\b[^.;]{0,20}\b(?:for|due to|because of|pour)\b[^.;]{0,20}\b(?:spam|abuse)|(?:is|as) an open relay|due to (?:user )?complaints|sender is (?:a )?spammer/i,
    category: "reputation_block",
    confidence: 0.85,
    evidence:
      "sisimai Blocked / BadReputation phrases; docs/sources.md#classifier-heuristics (blocked using, blacklist, RBL, Spamhaus, Cloudmark). A 'blacklisted address' is a listed mailbox (the SES mailbox simulator's '550 5.1.1 user unknown ( blacklisted address: … )'), not the sending IP",
  },
  {
    id: "generic.rate-limited",
    pattern:
      /too many (?:connections|concurrent|messages|recipients|mails|e-?mails|sessions|smtp)|\brate[ -]?limit|ratelimit|frequency limited|throttl|try again slower|slow down|receiving mail at a rate|exceeded the (?:max(?:imum)?) (?:number of )?(?:connections|messages|e-?mails|recipients)|connection (?:rate )?limit|(?:sending|message|hourly|daily) limit (?:exceeded|reached)|max(?:imum)? (?:e-?mails|messages) per hour|unexpected volume/i,
    category: "rate_limited",
    confidence: 0.85,
    evidence: "sisimai RateLimited (Speeding, TooManyConn); RFC 3463 X.5.3",
  },
  {
    id: "generic.spam-content",
    pattern:
      /\bspam\b|spamassassin|\bUBE\b|unsolicited|bulk (?:e-?)?mail filter|junk ?mail|content (?:filter|rejected|rejection|policy|violation)|message content|(?:virus|malware|infected|phishing)\b|illegal attachment|attachment[^.;]{0,20} (?:not allowed|blocked|rejected|prohibited)|banned (?:content|attachment)|executable|suspicious (?:content|links?)|content presents a potential security issue|not rfc ?5322 compliant|multiple addresses in from|missing a valid address in from|duplicate header|stray linefeeds|8-?bit data in (?:message )?header|message (?:looks|appears|seems) (?:like|to be)/i,
    category: "spam_or_content_block",
    confidence: 0.85,
    evidence: "sisimai SpamDetected, VirusDetected, ContentError, NotCompliantRFC phrases",
  },
  {
    id: "generic.sender-rejected",
    pattern:
      /sender (?:address )?(?:rejected|refused|denied|blocked|verify failed)|domain of sender address|sender (?:domain|address) (?:must exist|not found|does not exist|invalid)|invalid sender|emetteur invalide|your (?:e-?mail )?address has been blocked|badmailfrom|without a valid sender domain/i,
    category: "policy_block",
    side: "sender",
    confidence: 0.8,
    evidence: "sisimai Rejected (envelope sender refused); RFC 3463 X.1.7/X.1.8; sisimai/p5-sisimai#395",
  },
  {
    id: "generic.sender-infrastructure",
    pattern:
      /reverse dns|\bptr\b|\brdns\b|ip name lookup failed|cannot find your hostname|(?:helo|ehlo) command rejected|(?:invalid|bad) helo|client host rejected|may not be mail exchanger|(?:tls|starttls|encryption) (?:is )?required|requires? (?:tls|encryption|starttls)/i,
    category: "policy_block",
    side: "sender",
    confidence: 0.8,
    evidence:
      "sisimai RequirePTR, Blocked (HELO/client host), FailedSTARTTLS: requirements the sending side must meet",
  },
  {
    id: "generic.relay-denied",
    pattern:
      /relay(?:ing)? (?:access )?(?:denied|not permitted|prohibited|not allowed)|not permitted to relay|(?:unable|refuse) to relay|we do not relay|open relay not allowed|don'?t handle mail for|not in my list of allowed rcpthosts|use me [^.]* as a relay/i,
    category: "policy_block",
    confidence: 0.4,
    evidence:
      "sisimai NoRelaying; docs/sources.md#classifier-heuristics: the recipient domain's MX no longer serves it, not a mailbox verdict",
  },
  {
    id: "generic.recipient-policy",
    pattern:
      /denied by policy|polic(?:y|ies) (?:violation|reasons|rejection)|(?:rejected|refused|blocked|denied) (?:by|due to|for) (?:the )?(?:organi[sz]ation(?:al)?|local|security|administrative|recipient'?s?|domain|company)? ?polic|(?:local|administrative|security|organi[sz]ation) polic(?:y|ies)|administrative prohibition|envelope blocked|\bprohibited\b|not authori[sz]ed|not allowed to (?:send|post)|permission to post|blocked by (?:the )?recipient|rejected by (?:the )?recipient|recipient preferences|user reject|message (?:was )?filtered|anti-?spoof|spoofed|blocked senders?|not accepting (?:any )?mail|protocol violation|access denied|no access from|service denied|will not accept messages from/i,
    category: "policy_block",
    confidence: 0.7,
    evidence: "sisimai PolicyViolation, Filtered, SecurityError phrases; RFC 3463 X.7.1",
  },
  {
    id: "generic.host-unknown",
    pattern:
      /host unknown|unknown host|domain (?:does not exist|doesn'?t exist|not found|is not reachable|name not found|may not exist|is invalid)|no such domain|unroute?able (?:address|domain)|couldn'?t find any host|illegal host\/domain|invalid domain|host or domain name not found|recipient domain must exist|no mx (?:record|host)|(?:host|domain) does not accept mail|does not accept mail \(nullmx\)|no smtp service|null ?mx|mail receiving disabled|find the recipient domain|\b(?:[a-z0-9-]+\.)+[a-z]{2,} does not exist\b|name or service not known|\bdomain must exist|name server: \.: host not found|mail domain mentioned in email address is unknown|unknown domain name|\b(?:domain|host)\b[^.;]{0,60}?\b(?:does not|doesn'?t) (?:accept|receive) (?:e-?)?mail/i,
    category: "invalid_recipient",
    confidence: 0.85,
    evidence:
      "sisimai HostUnknown / NotAccept phrases (go-sisimai reason/why-hostunknown.go, why-notaccept.go); RFC 3463 X.1.2, X.4.4; RFC 7505 null MX ('Recipient address has null MX', 5.1.10)",
  },
  {
    id: "generic.user-unknown",
    pattern:
      /\b(?:user|mail ?box|recipient|address|account|addressee|local[ -]?part|e-?mail address|destination)(?:s|\(s\))?\b[^.;]{0,40}?\b(?:unknown|not found|does not exist|doesn'?t exist|not exist|is invalid|not valid|unavailable|not listed|not recognized|couldn'?t be found|could not be found|was rejected|were rejected|rejected)\b|\b(?:unknown|invalid|no such|bad|illegal|non-?existent|nonexisting) (?:user|mail ?box|recipient|address|alias|local ?part|destination|e-?mail|account|person)|no mailbox here|not our customer|recipnotfound|invalid final delivery|no valid recipients|addressee unknown|unknown or illegal|not a valid (?:e-?mail|mailbox|recipient|user)|destinataire invalide|adresse d au moins un destinataire invalide/i,
    category: "invalid_recipient",
    confidence: 0.85,
    mailboxLevel: true,
    evidence: "sisimai UserUnknown phrases; RFC 3463 X.1.1",
  },
  {
    // How less common servers word a directory miss (qmail/vpopmail, Courier, Domino, Exim callouts, LDAP
    // lookups, non-English servers): the phrases of Sisimai's UserUnknown table the generic rule misses.
    id: "generic.directory-miss",
    pattern:
      /\baddress (?:invalid|not present in directory)\b|can'?t accept user|is not a known user|is not an active address at this host|\bmailbox (?:invalid|not present)\b|no (?:account|mailbox) by that name|no mail ?box (?:available for this user|found)|\bthere is no one at this address|no such (?:person|address) (?:at|here)|\brecipient (?:is not accepted|not ok)\b|recipient refuses to accept your mail|sorry, badrcptto|your envelope recipient (?:has been denied|is in my badrcptto list)|this recipient is (?:in my badrecipientto|not in my validrcptto) list|the following recipients was undeliverable|this email address is wrong or no longer valid|user missing home directory|\buser not (?:active|known)\b|invalid or unknown virtual user|<[^<>\s]+@[^<>\s]+> not found|\bno \S+ in name directory|\brcpt <[^>]*> does not exist|\b(?:recipient|user) \S+ was not found\b|\buser \([^)]*\) unknown|nessun utente simile|no existe (?:dicha persona|ese usuario)|utilisateur inconnu|adresse nicht gefunden/i,
    category: "invalid_recipient",
    confidence: 0.75,
    mailboxLevel: true,
    evidence:
      "sisimai UserUnknown phrases (github.com/sisimai/go-sisimai reason/why-userunknown.go, BSD 2-Clause); RFC 3463 X.1.1",
  },
  {
    id: "generic.recipient-mailer-error",
    pattern:
      /\bpipe to \||procmail:|command died with status|mailer error|x-unix;|local delivery (?:failed|error)/i,
    category: "transient",
    confidence: 0.6,
    evidence: "sisimai MailerError: the recipient's local delivery program failed",
  },
  {
    id: "generic.greylisted",
    pattern:
      /greylist|graylist|try again later|please try later|temporar(?:y|ily)|veuillez essayer plus tard/i,
    when: temporary,
    category: "transient",
    confidence: 0.7,
    evidence: "4xx with retry wording: greylisting or a busy server",
  },
  {
    id: "generic.expired",
    pattern:
      /\bexpired\b|timed? ?out|time-?out|queue too long|retry time|not delivered within|could not be delivered (?:for|within)|been delayed|will be retried|delivery failed \d+ attempts|failing for a long time|unable to deliver (?:this )?message after|no answer|connection refused|unable to connect|failed to connect|could not connect|socket error|lost connection/i,
    category: "transient",
    confidence: 0.75,
    evidence: "sisimai Expired: the sending queue gave up after retries",
  },
  {
    id: "generic.network",
    pattern:
      /too many hops|hop count exceeded|mail loop|loop detected|forwarding loop|name service error|dns (?:error|failure|lookup failed)|host name lookup failure|no route to host|network (?:is )?unreachable/i,
    category: "transient",
    confidence: 0.7,
    evidence: "sisimai NetworkError: DNS, routing and loop problems",
  },
  {
    id: "generic.system",
    pattern:
      /insufficient (?:system )?(?:disk )?(?:space|storage)|mail system full|system (?:is )?(?:full|busy|overloaded)|local configuration error|server configuration error|service (?:currently |temporarily )?(?:unavailable|not available)|temporary local problem|internal server error/i,
    category: "transient",
    confidence: 0.65,
    evidence: "sisimai SystemError / SystemFull: the receiver's own trouble",
  },
];

import { Command } from "commander";
import { classifyStream } from "./commands/classify.ts";
import { runSample } from "./commands/sample.ts";

const program = new Command()
  .name("bounce-radar")
  .description(
    "Tells a recipient gateway's policy change from a sender/ESP problem when the hard-bounce rate spikes.",
  )
  .version("0.1.0")
  .showHelpAfterError()
  .exitOverride((err) => {
    // Bad usage exits 2 (CLI contract); help and version exit 0.
    process.exit(err.exitCode === 0 ? 0 : 2);
  });

program
  .command("classify")
  .description("classify bounce lines: NDJSON in on stdin, NDJSON out on stdout")
  .addHelpText(
    "after",
    `
Input, one JSON object per line (only "text" is required):
  {"text": "550 5.1.1 User unknown", "code": 550, "enhanced": "5.1.1", "mxHost": "mx0a-1.pphosted.com", "espClass": "hard"}

Output, one line per input line: the input's fields plus
  category         invalid_recipient | policy_block | spam_or_content_block | reputation_block | auth_failure |
                   rate_limited | mailbox_full | message_too_large | transient | esp_internal | unknown
  side             recipient | sender | neutral
  falseHardBounce  the ESP called it hard (espClass "hard", or a 5xx when espClass is absent) but it is a block
  gateway          recipient gateway recognised from mxHost or the text, or null
  confidence       0..1
  rule             id of the rule that decided
A line that is not a JSON object with a string "text" yields {"line": N, "error": "..."} instead.

Exit status: 0 all lines classified, 2 if any line was bad.

Example:
  echo '{"text":"550 5.7.606 Access denied, banned sending IP [198.51.100.7]"}' | bounce-radar classify`,
  )
  .action(async () => {
    const { bad } = await classifyStream(process.stdin, process.stdout);
    if (bad > 0) {
      process.stderr.write(
        `bounce-radar classify: ${bad} line(s) could not be classified (see "error" lines)\n`,
      );
      process.exitCode = 2;
    }
  });

program
  .command("sample")
  .description("classify a bundled sample of real gateway rejection lines and print a summary")
  .action(() => runSample((line) => process.stdout.write(`${line}\n`)));

await program.parseAsync(process.argv);

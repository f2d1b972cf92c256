import { safeText } from "../domain/text/safe-text.ts";
import type { AlertMessage } from "./alert-message.ts";

/** Where alerts go: SNS in AWS, the terminal for the CLI, a recorder in tests. */
export interface Notifier {
  publish(message: AlertMessage): Promise<{ messageId: string }>;
}

/** Prints the subject and the email body: the CLI's notifier, so a local run shows what would be sent. */
export class ConsoleNotifier implements Notifier {
  private sent = 0;

  constructor(private readonly write: (text: string) => void) {}

  async publish(message: AlertMessage): Promise<{ messageId: string }> {
    this.sent += 1;
    const rule = "-".repeat(Math.min(72, Math.max(8, message.subject.length)));
    const email = message.email.endsWith("\n") ? message.email : `${message.email}\n`;
    // The SMS line shows what a phone subscriber would get.
    // formatAlert already made every field inert; a terminal gets the same guarantee whoever built the message.
    this.write(safeText(`${message.subject}\n${rule}\n${email}${rule}\nSMS: ${message.sms}\n`));
    return { messageId: `console-${this.sent}` };
  }
}

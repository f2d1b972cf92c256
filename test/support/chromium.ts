import { constants } from "node:fs";
import { access } from "node:fs/promises";
import { type Browser, chromium } from "playwright-core";

/** Debian's chromium package (CI installs it with apt-get); CHROMIUM_PATH points elsewhere on a laptop. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/**
 * Flags for a quiet, offline headless browser: no sandbox (containers lack user namespaces), and none of
 * Chromium's own background traffic, so a test that counts network requests sees only the page's.
 */
const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Whether an executable Chromium is at CHROMIUM_PATH. */
export async function chromiumAvailable(): Promise<boolean> {
  try {
    await access(CHROMIUM_PATH, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Launches the system Chromium through playwright-core (which ships no browser of its own). Fails with a
 * message that says how to install it, rather than letting a browser test skip silently.
 */
export async function launchChromium(): Promise<Browser> {
  if (!(await chromiumAvailable())) {
    throw new Error(
      `Chromium not found or not executable at ${CHROMIUM_PATH}. Install it (Debian/Ubuntu: ` +
        "`apt-get install -y chromium`, as CI does) or set CHROMIUM_PATH to a Chromium/Chrome binary.",
    );
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: ARGS });
}

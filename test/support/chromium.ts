import { execFile } from "node:child_process";
import { constants } from "node:fs";
import { access, mkdir, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { type Browser, chromium } from "playwright-core";

/** A system Chromium: Debian's chromium package by default; CHROMIUM_PATH points elsewhere on a laptop. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/**
 * Which browser the tests launch, BOUNCE_RADAR_TEST_BROWSER:
 * - unset: CHROMIUM_PATH when set; else /usr/bin/chromium when it is there; else the npm one.
 * - "npm": the Chromium inside the @sparticuz/chromium package (installed by `npm ci`), even when CHROMIUM_PATH
 *   is set or a system Chromium is there. .ci/run sets it, so CI takes the path of a machine with only Node.
 * - "system": CHROMIUM_PATH only (an error when it is not there).
 */
const TEST_BROWSER = process.env.BOUNCE_RADAR_TEST_BROWSER || undefined;

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

/**
 * @sparticuz/chromium's own flags (made for AWS Lambda) that the npm browser does not get; it gets the rest
 * after ARGS (--no-zygote, --disable-setuid-sandbox, its SwiftShader GL flags, no pings, ...).
 */
const NPM_ARGS_LEFT_OUT = [
  // ARGS says --headless; its value here ('shell', in quotes) is for its own launcher.
  "--headless",
  // Lambda needs one process; here the browser dies when a test closes its first BrowserContext.
  "--single-process",
  // Chromium keeps only the last of each: these would replace the lists Playwright passes (which keep
  // the browser off the network at startup).
  "--disable-features",
  "--enable-features",
  // The report is checked under the browser's normal security.
  "--disable-web-security",
  "--allow-running-insecure-content",
  "--disable-site-isolation-trials",
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
 * Launches a headless Chromium through playwright-core (which ships no browser of its own): the system one,
 * or the one from npm (see TEST_BROWSER). Fails with a message that says what is missing, rather than
 * letting a browser test skip silently.
 */
export async function launchChromium(): Promise<Browser> {
  if (TEST_BROWSER !== undefined && TEST_BROWSER !== "npm" && TEST_BROWSER !== "system") {
    throw new Error(`BOUNCE_RADAR_TEST_BROWSER is "${TEST_BROWSER}": "npm", "system" or unset.`);
  }
  const system =
    TEST_BROWSER === "system" ||
    (TEST_BROWSER === undefined && (process.env.CHROMIUM_PATH !== undefined || (await chromiumAvailable())));
  if (!system) {
    const npm = await npmChromium();
    return chromium.launch({ executablePath: npm.executablePath, args: npm.args, env: npm.env });
  }
  if (!(await chromiumAvailable())) {
    throw new Error(
      `Chromium not found or not executable at ${CHROMIUM_PATH}. Set CHROMIUM_PATH to a Chromium/Chrome ` +
        "binary, or leave CHROMIUM_PATH and BOUNCE_RADAR_TEST_BROWSER unset to use the one npm ci installs.",
    );
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: ARGS });
}

interface NpmChromium {
  readonly executablePath: string;
  readonly args: string[];
  readonly env: Record<string, string | undefined>;
}

let unpacked: Promise<NpmChromium> | undefined;

/** The npm Chromium, unpacked once per process (and once per machine, see unpackNpmChromium). */
function npmChromium(): Promise<NpmChromium> {
  unpacked ??= unpackNpmChromium().catch((e: unknown) => {
    unpacked = undefined;
    throw e;
  });
  return unpacked;
}

/**
 * Run in a child Node with TMPDIR set to an empty folder: the package's executablePath() unpacks its
 * brotli files (the chromium binary, SwiftShader, Open Sans) into os.tmpdir(). AWS_EXECUTION_ENV makes it
 * unpack, as on Amazon Linux 2023, the NSS/NSPR/expat libraries the binary links to, which a machine with
 * only Node lacks (Debian's libnss3 comes with chromium or Java, not with Node).
 */
const UNPACK = `require(process.argv[1]).executablePath().then(
  (path) => process.stdout.write(path),
  (e) => { console.error(e); process.exitCode = 1; },
)`;

/**
 * Unpacks @sparticuz/chromium (about 200 MB, 2-3 s of CPU) into node_modules/.cache/bounce-radar/
 * chromium-<version>, which `npm ci` clears. The package's own executablePath() unpacks to a fixed
 * /tmp/chromium and takes any file there as done, even a half-written one or another version's; so it
 * runs here on a private folder that is renamed into place when complete. Test files in other vitest
 * workers that find no Chromium at the same time each unpack their own and the first rename wins.
 */
async function unpackNpmChromium(): Promise<NpmChromium> {
  const entry = createRequire(import.meta.url).resolve("@sparticuz/chromium");
  const packageDir = join(dirname(entry), "..", "..");
  const { version } = JSON.parse(await readFile(join(packageDir, "package.json"), "utf8")) as {
    version: string;
  };
  const dir = join(packageDir, "..", "..", ".cache", "bounce-radar", `chromium-${version}`);
  const executablePath = join(dir, "chromium");

  if (!(await exists(executablePath))) {
    await mkdir(dirname(dir), { recursive: true });
    const partial = await mkdtemp(`${dir}.partial-`);
    try {
      const { stdout } = await promisify(execFile)(process.execPath, ["-e", UNPACK, entry], {
        env: { ...process.env, TMPDIR: partial, AWS_EXECUTION_ENV: "AWS_Lambda_nodejs20.x" },
      });
      for (const file of [stdout, join(partial, "al2023", "lib", "libnss3.so")]) {
        if (!file.startsWith(partial) || !(await exists(file))) {
          throw new Error(`${file} is not in ${partial} after executablePath()`);
        }
      }
      await writeFile(join(partial, "fonts.conf"), fontsConf(dir));
      await rename(partial, dir).catch(async (e: unknown) => {
        if (!(await exists(executablePath))) throw e; // else another worker was first
      });
    } catch (e) {
      throw new Error(
        `The Chromium from npm (@sparticuz/chromium ${version}, installed by npm ci) did not unpack: ${e}`,
      );
    } finally {
      await rm(partial, { recursive: true, force: true });
    }
  }

  const { default: Sparticuz } = await import("@sparticuz/chromium");
  const args = [
    ...ARGS,
    ...Sparticuz.args.filter(
      (arg) =>
        !ARGS.includes(arg) && !NPM_ARGS_LEFT_OUT.some((left) => arg === left || arg.startsWith(`${left}=`)),
    ),
  ];
  const libraries = join(dir, "al2023", "lib");
  const env = {
    ...process.env,
    LD_LIBRARY_PATH: [libraries, process.env.LD_LIBRARY_PATH].filter(Boolean).join(":"),
    // Its own Open Sans only: the same text on every machine, and text at all where no font is installed.
    FONTCONFIG_FILE: join(dir, "fonts.conf"),
  };
  return { executablePath, args, env };
}

/** The package's fonts.conf names /tmp/fonts; this one names the fonts where they were unpacked. */
function fontsConf(dir: string): string {
  const xml = (path: string) => path.replaceAll("&", "&amp;").replaceAll("<", "&lt;");
  return `<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
<fontconfig>
  <dir>${xml(join(dir, "fonts"))}</dir>
  <cachedir>${xml(join(dir, "fonts-cache"))}</cachedir>
</fontconfig>
`;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

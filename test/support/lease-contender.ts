/**
 * One contender process of the lease race test (test/shared/store/lease.test.ts). For each trial it waits at a
 * barrier until every contender is ready, tries to take the trial's (expired) lease on the shared local store,
 * and records a win as `wins/{trial}-{contender}`. Leases name this process, so they hold until it exits.
 *
 * Usage: node bin/run-ts.js test/support/lease-contender.ts ROOT CONTENDER CONTENDERS TRIALS
 */
import { readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { acquireLease } from "../../shared/store/lease.ts";
import { LocalObjectStore } from "../../shared/store/local-object-store.ts";

const [root = "", contender = "0", contenders = "2", trials = "1"] = process.argv.slice(2);
const store = new LocalObjectStore(join(root, "store"));
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

// One more barrier than trials: no contender exits (which would free its leases) while another still tries.
for (let trial = 0; trial <= Number(trials); trial++) {
  const barrier = join(root, "barrier");
  await writeFile(join(barrier, `${trial}-${contender}`), "");
  for (;;) {
    const ready = (await readdir(barrier)).filter((name) => name.startsWith(`${trial}-`)).length;
    if (ready >= Number(contenders)) break;
    await sleep(1);
  }
  if (trial === Number(trials)) break;
  const attempt = await acquireLease(
    store,
    `state/leases/trial-${trial}.json`,
    `contender-${contender}`,
    new Date(),
    60_000,
    { recordProcess: true },
  );
  if (attempt.acquired) await writeFile(join(root, "wins", `${trial}-${contender}`), "");
}

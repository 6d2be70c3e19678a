// Runs the browser tests: writes the fixture runs into a temporary folder, serves them with
// `nabla view` (the binary named by NABLA_BIN; nothing is built here), then runs every
// tests/browser/*.test.mjs with node's test runner, one file at a time. The tests find the page
// in VIEW_URL and the fixture folders in VIEW_RUNS (a JSON object: run name → folder).
//
//   NABLA_BIN=target/debug/nabla node tests/browser/run.mjs

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFailedCnnRun, writeMalformedRun, writeOlderRun, writeResumedRun, writeToyRun } from './fixtures.mjs';
import { nablaBin, serve, stop } from './harness.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
nablaBin();
const root = mkdtempSync(join(tmpdir(), 'nabla-view-runs-'));
/** The served runs, in the order `nabla view` is given them (their ids 0, 1, ...). */
const runs = {
  finished: join(root, 'spiral-finished'),
  training: join(root, 'spiral-training'),
  failed: join(root, 'cnn-failed'),
  older: join(root, 'older-format'),
  malformed: join(root, 'malformed'),
  resumed: join(root, 'resumed'),
  deleted: join(root, 'deleted-while-served'),
};
writeToyRun(runs.finished, { name: 'spiral-finished', epochs: 6 });
writeToyRun(runs.training, { name: 'spiral-training', epochs: 6, trained: 2, seed: 5, start: 1.4 });
writeFailedCnnRun(runs.failed);
writeOlderRun(runs.older);
writeMalformedRun(runs.malformed);
writeResumedRun(runs.resumed);
writeToyRun(runs.deleted, { name: 'deleted-while-served', epochs: 2, trained: 1 });

let server;
let status = 1;
try {
  server = await serve(['view', ...Object.values(runs)]);
  const files = readdirSync(HERE).filter((f) => f.endsWith('.test.mjs')).sort().map((f) => join(HERE, f));
  const result = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=spec', ...files], {
    stdio: 'inherit',
    env: { ...process.env, VIEW_URL: server.url, VIEW_RUNS: JSON.stringify(runs) },
  });
  status = result.status ?? 1;
} catch (error) {
  console.error(error.message);
} finally {
  stop(server);
  rmSync(root, { recursive: true, force: true });
}
process.exit(status);

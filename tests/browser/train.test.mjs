// The run page on a real run: `nabla train` on a small 2-D toy set writes its events.jsonl while
// `nabla view` serves it. Every epoch line the trainer writes must be drawn within 2 s; at the
// end the page shows every epoch, the graph's chain rule as the log gives it, and the boundary.
// And when the server goes away while a run is followed, the page says so and carries on once
// the server is back.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { appendEpoch, writeToyRun } from './fixtures.mjs';
import { launch, nablaBin, openPage, screenshot, serve, stop } from './harness.mjs';

const EPOCHS = 6;
let context;
let folder;
let trainer;
let server;

before(async () => {
  context = await launch();
  folder = mkdtempSync(join(tmpdir(), 'nabla-view-train-'));
});
after(async () => {
  stop(server);
  trainer?.kill();
  await context?.close();
  rmSync(folder, { recursive: true, force: true });
});

/** The complete lines of the run's events.jsonl, parsed. */
function events(run) {
  const text = readFileSync(join(run, 'events.jsonl'), 'utf8');
  return text.split('\n').slice(0, -1).map((line) => JSON.parse(line));
}

test('a run being trained gains each epoch on the page within 2 s of the trainer writing it', async () => {
  const run = join(folder, 'spiral');
  trainer = spawn(nablaBin(), [
    'train', '--data', 'spiral', '--samples', '3000', '--hidden', '32,32', '--batch-size', '16', '--lr', '0.01',
    '--epochs', String(EPOCHS), '--out', run, '--quiet',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  trainer.stderr.setEncoding('utf8').on('data', (chunk) => { stderr += chunk; });
  const exited = new Promise((resolve) => trainer.on('exit', resolve));
  while (!existsSync(join(run, 'events.jsonl'))) {
    assert.equal(trainer.exitCode, null, `nabla train stopped before writing events.jsonl: ${stderr}`);
    await sleep(20);
  }
  server = await serve(['view', run]);
  const page = await openPage(context, server.url);
  await page.locator('#loss-chart').waitFor();
  const ready = Date.now();

  // When each epoch line appeared in the file, and when the page first drew it.
  const written = new Map();
  const drawn = new Map();
  const start = Date.now();
  while (drawn.size < EPOCHS && Date.now() - start < 120000) {
    const now = Date.now();
    for (const e of events(run).filter((x) => x.type === 'epoch')) if (!written.has(e.epoch)) written.set(e.epoch, now);
    const points = await page.locator('#loss-chart g[data-run="0"][data-series="train_loss"] circle.point').count();
    for (let k = 1; k <= points; k++) if (!drawn.has(k)) drawn.set(k, Date.now());
    await sleep(50);
  }
  assert.equal(await exited, 0, `nabla train failed: ${stderr}`);
  assert.equal(drawn.size, EPOCHS, 'every epoch drawn');
  // Epochs written before the page was up are drawn as it loads; those after it, live.
  const live = [...written].filter(([, at]) => at >= ready).map(([epoch, at]) => [epoch, drawn.get(epoch) - at]);
  console.log(`# epochs drawn live, ms after the trainer wrote them: ${live.map(([e, d]) => `${e}: ${d}`).join(', ') || 'none'}`);
  assert.ok(live.length > 0, 'the run trained long enough for the page to see an epoch end');
  for (const [epoch, delay] of live) assert.ok(delay <= 2000, `epoch ${epoch} drawn ${delay} ms after it was written`);

  await page.locator('#run-list .status-finished').waitFor();
  await page.locator('#boundary-canvas').waitFor();
  const graph = events(run).filter((e) => e.type === 'graph').at(-1);
  const step = graph.explanation.steps.find((s) => s.inputs.length > 0);
  await page.locator(`#graph-picture g.node[data-step="${step.number}"]`).click();
  const detail = await page.locator('#graph-detail').innerText();
  assert.ok(detail.includes(`[${step.number}`), detail);
  assert.ok(detail.includes(`upstream gradient: ${step.upstream.text}`), `${detail}\nupstream ${step.upstream.text}`);
  for (const input of step.inputs) assert.ok(detail.includes(`to ${input.name}`), `${detail}\ninput ${input.name}`);
  // The picture the page shows is the one nabla drew, element for element, arrows included.
  const [shown, drawnSvg] = await page.evaluate((text) => {
    const serialise = (node) => new XMLSerializer().serializeToString(node);
    const parsed = new DOMParser().parseFromString(text, 'image/svg+xml').documentElement;
    return [serialise(document.querySelector('#graph-picture svg')), serialise(parsed)];
  }, graph.svg);
  assert.equal(shown.replace(/ class="node selected"/, ' class="node"'), drawnSvg);
  assert.match(shown, /marker-end="url\(#arrow\)"/);
  await screenshot(page, 'real-spiral-run');
  assert.deepEqual(page.errors, []);

  await page.close();
});

test('a lost connection is noted on the page, and the page carries on once the server is back', async () => {
  const run = join(folder, 'unfinished');
  writeToyRun(run, { name: 'unfinished', epochs: 3, trained: 1 });
  stop(server);
  server = await serve(['view', run]);
  const page = await openPage(context, server.url);
  await page.locator('#loss-chart g[data-run="0"] circle.point').first().waitFor();
  const port = new URL(server.url).port;
  stop(server);
  await new Promise((resolve) => server.child.on('exit', resolve));
  await page.locator('#run-list li[data-run="0"] .connection').waitFor({ timeout: 10000 });
  // While the server is away, the browser logs each refused reconnection; nothing else.
  const errors = page.errors.filter((e) => !/ERR_CONNECTION_REFUSED|ERR_EMPTY_RESPONSE|ERR_CONNECTION_RESET/.test(e));
  assert.deepEqual(errors, []);
  server = await serve(['view', '--port', port, run]);
  appendEpoch(run, 2);
  await page.waitForFunction(() => document.querySelectorAll('#loss-chart g[data-run="0"][data-series="train_loss"] circle.point').length === 2, null, { timeout: 15000 });
  await page.locator('#run-list li[data-run="0"] .connection').waitFor({ state: 'detached' });
  await page.close();
});

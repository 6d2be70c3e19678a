// The run page (GET /) against the fixture runs run.mjs serves: the run list with statuses and
// problems, curves with one point per epoch that grow live, hover and smoothing, distributions
// with an epoch slider, gradient norms on a log axis, the graph with its chain-rule steps, and
// the decision boundary, filters and feature maps. Every test fails on a console error.

import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, afterEach, before, test } from 'node:test';
import { appendEpoch, appleGraph } from './fixtures.mjs';
import { launch, openPage, screenshot } from './harness.mjs';

const URL = process.env.VIEW_URL;
const RUNS = JSON.parse(process.env.VIEW_RUNS ?? '{}');
/** Run ids, as run.mjs hands the folders to `nabla view`. */
const ID = { finished: 0, training: 1, failed: 2, older: 3, malformed: 4, resumed: 5, deleted: 6 };

let browser;
let page;

before(async () => {
  assert.ok(URL, 'VIEW_URL is not set: run the tests with tests/browser/run.mjs');
  browser = await launch();
});
after(async () => browser?.close());
afterEach(async () => {
  const errors = page?.errors ?? [];
  await page?.close();
  page = null;
  assert.deepEqual(errors, [], 'the page logged errors');
});

/** Opens the run page and waits until every run's first event has been applied. */
async function open() {
  page = await openPage(browser, URL);
  page.setDefaultTimeout(10000);
  await page.waitForFunction((n) => document.querySelectorAll('#run-list li.run').length === n
    && document.querySelectorAll('#loss-chart g[data-series="train_loss"]').length === n, Object.keys(ID).length);
  return page;
}

/** Points drawn for `series` of run `id` in the chart `chart`. */
function points(chart, id, series) {
  return page.locator(`${chart} g[data-run="${id}"][data-series="${series}"] circle.point`).count();
}

function runItem(id) {
  return page.locator(`#run-list li[data-run="${id}"]`);
}

test('lists every run with its status, and shows failures, the older format and malformed lines', async () => {
  await open();
  await assert.doesNotReject(runItem(ID.failed).locator('.failure').waitFor());
  assert.match(await runItem(ID.finished).locator('.status').innerText(), /finished/);
  // No process holds the fixture's lock, so the server cannot tell it is training.
  assert.match(await runItem(ID.training).locator('.status').innerText(), /training|status unknown/);
  assert.match(await runItem(ID.failed).locator('.status').innerText(), /failed/);
  assert.match(await runItem(ID.failed).locator('.failure').innerText(), /Failed at epoch 2: the training loss became NaN at epoch 3, step 5/);
  assert.match(await runItem(ID.older).locator('.older').innerText(), /Older format: this run has only metrics\.jsonl/);
  await runItem(ID.malformed).locator('.problem').first().waitFor();
  const problems = await runItem(ID.malformed).locator('.problem').allInnerTexts();
  assert.equal(problems.length, 1, `one malformed line, the partial last line is no problem: ${problems}`);
  assert.match(problems[0], /line 3/);
  for (const id of [ID.finished, ID.training, ID.failed]) assert.equal(await runItem(id).locator('.problem').count(), 0);
  await screenshot(page, 'run-list-and-curves', { fullPage: false });
});

test('the curves show as many points as each run has epochs', async () => {
  await open();
  const expected = { [ID.finished]: 6, [ID.training]: 2, [ID.failed]: 2, [ID.older]: 3, [ID.malformed]: 2, [ID.resumed]: 5, [ID.deleted]: 1 };
  for (const [id, epochs] of Object.entries(expected)) {
    assert.equal(await points('#loss-chart', id, 'train_loss'), epochs, `run ${id}: train loss`);
    assert.equal(await points('#loss-chart', id, 'val_loss'), epochs, `run ${id}: validation loss`);
    assert.equal(await points('#accuracy-chart', id, 'train_acc'), epochs, `run ${id}: train accuracy`);
  }
  assert.match(await runItem(ID.finished).locator('.epochs').innerText(), /6 of 6 epochs/);
});

test('hovering a curve shows the values at that epoch', async () => {
  await open();
  const third = page.locator(`#loss-chart g[data-run="${ID.finished}"][data-series="train_loss"] circle.point`).nth(2);
  const box = await third.boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  const tip = page.locator('#loss-chart .tip');
  await tip.waitFor();
  const text = await tip.innerText();
  assert.match(text, /epoch 3/);
  // spiral-finished's train loss at epoch 3: 1 / (1 + 0.6 × 3).
  assert.match(text, /spiral-finished train: 0\.3571/);
});

test('a resumed run shows the epochs trained after the resume, not those it replaced', async () => {
  await open();
  const third = page.locator(`#loss-chart g[data-run="${ID.resumed}"][data-series="train_loss"] circle.point`).nth(2);
  const box = await third.boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  // Epoch 3 after the resume: 2 / (1 + 0.6 × 3); before it, 1 / (1 + 0.6 × 3) = 0.3571.
  assert.match(await page.locator('#loss-chart .tip').innerText(), /resumed train: 0\.7143/);
});

test('the smoothing slider changes the smoothed step loss', async () => {
  await open();
  const path = () => page.locator(`#step-loss-chart g[data-run="${ID.finished}"][data-series="step_loss"] path`).getAttribute('d');
  const before = await path();
  await page.locator('#smoothing').fill('0.95');
  await page.waitForFunction(() => document.querySelector('#step-loss-chart figcaption').textContent.includes('0.95'));
  assert.notEqual(await path(), before);
});

test('a run being trained gains a point within 2 s of an epoch ending', async () => {
  await open();
  assert.equal(await points('#loss-chart', ID.training, 'train_loss'), 2);
  const started = Date.now();
  appendEpoch(RUNS.training, 3);
  await page.waitForFunction((id) => document.querySelectorAll(`#loss-chart g[data-run="${id}"][data-series="train_loss"] circle.point`).length === 3,
    ID.training, { timeout: 2000 });
  console.log(`# the new epoch was drawn ${Date.now() - started} ms after it was appended`);
  assert.match(await runItem(ID.training).locator('.epochs').innerText(), /3 of 6 epochs/);
});

test('the epoch slider changes the distributions and histograms', async () => {
  await open();
  await page.selectOption('#run-select', String(ID.finished));
  const bars = () => page.locator('#histograms .layer-row[data-layer="0"] rect.bar').evaluateAll((rects) => rects.map((r) => ['x', 'width', 'height'].map((a) => r.getAttribute(a)).join(',')).join(' '));
  await page.locator('#histograms rect.bar').first().waitFor();
  assert.match(await page.locator('#epoch-value').innerText(), /6 \(latest\)/);
  const latest = await bars();
  await page.locator('#epoch-slider').fill('0');
  await page.waitForFunction(() => document.querySelector('#epoch-value').textContent === '0');
  assert.notEqual(await bars(), latest, 'the histogram at epoch 0 differs from the one at epoch 6');
  await page.selectOption('#hist-kind', 'weight_grad');
  assert.match(await page.locator('#histograms .layer-row[data-layer="2"] h4').innerText(), /layer 2 \(Linear\)/);
  assert.equal(await page.locator('#histograms .layer-row').count(), 2, 'weight gradients: only the two layers with parameters');
});

test('gradient norms are drawn on a log axis with the vanishing and exploding bands', async () => {
  await open();
  await page.selectOption('#run-select', String(ID.finished));
  const chart = page.locator('#grad-norm-chart');
  await chart.waitFor();
  const ticks = await chart.locator('text.tick').evaluateAll((texts) => texts.map((t) => t.textContent));
  const powers = ticks.filter((t) => t.startsWith('10'));
  assert.ok(powers.length >= 4 && powers.includes('10⁰'), `y ticks at powers of ten: ${ticks}`);
  assert.ok(powers.every((t) => /^10[⁻⁰¹²³⁴⁵⁶⁷⁸⁹]+$/.test(t)), `only powers of ten: ${powers}`);
  assert.equal(await chart.locator('g.series').count(), 2, 'one line per layer with parameters');
  const bands = await chart.locator('text.band-label').evaluateAll((texts) => texts.map((t) => t.textContent));
  // The alarm compares the first layer's norm to the last one's: the bands follow the last layer.
  assert.deepEqual(bands.sort(), ['exploding: first layer above last × 1000', 'vanishing: first layer below last × 0.001']);
});

test('clicking a node of the graph shows its chain-rule step with the numbers', async () => {
  await open();
  await page.selectOption('#run-select', String(ID.finished));
  await page.locator('#graph-picture g.node[data-step="3"]').click();
  const step = await page.locator('#graph-detail').innerText();
  assert.match(step, /\[3\] ×: apple\*count = 200/);
  assert.match(step, /upstream gradient: 1\.1/);
  assert.match(step, /to apple \(= 100\): local ∂\(apple\*count\)\/∂apple = count = 2; 2 × 1\.1 = 2\.2/);
  assert.match(step, /to count \(= 2\): local ∂\(apple\*count\)\/∂count = apple = 100; 100 × 1\.1 = 110/);
  await screenshot(page, 'graph-step');
  await page.locator('#graph-picture g.node[data-step="4"]').click();
  assert.match(await page.locator('#graph-detail').innerText(), /∂L\/∂apple = 2\.2/);
  await page.locator('#graph-picture g.node[data-step="1"]').click();
  assert.match(await page.locator('#graph-detail').innerText(), /to tax \(= 1\.1\): local .* = 200/);
});

test('a graph picture is inserted without its scripts, handlers and links', async () => {
  await open();
  await page.selectOption('#run-select', String(ID.malformed));
  const node = page.locator('#graph-picture g.node[data-step="1"]');
  await node.click();
  assert.match(await page.locator('#graph-detail').innerText(), /\[1\] ×: apple\*count\*tax = 220/);
  const picture = page.locator('#graph-picture');
  assert.equal(await picture.locator('script, foreignObject, iframe, a').count(), 0);
  assert.equal(await picture.locator('[onload], [onclick]').count(), 0);
  assert.equal(await page.evaluate(() => window.hostile), undefined, 'nothing of the picture ran');
  // Only SVG elements a graph is drawn with, whatever prefix named them, with no attribute that
  // names a resource.
  const names = await picture.locator('svg, svg *').evaluateAll((nodes) => [...new Set(nodes.map((n) => `${n.namespaceURI} ${n.localName}`))].sort());
  assert.deepEqual(names, ['g', 'rect', 'svg', 'text'].map((n) => `http://www.w3.org/2000/svg ${n}`));
  assert.equal(await picture.locator('[src], [action], [formaction], [href], [style]').count(), 0);
  const lure = picture.locator('rect.lure');
  assert.deepEqual(await lure.evaluate((r) => r.getAttributeNames().sort()), ['class', 'height', 'width', 'x', 'y']);
});

test('a graph picture nabla drew is kept whole, arrow markers included', async () => {
  await open();
  const { svg } = appleGraph(1);
  const [kept, parsed] = await page.evaluate(async (text) => {
    const { safeSvg } = await import('/static/graph.js');
    const serialise = (node) => new XMLSerializer().serializeToString(node);
    return [serialise(safeSvg(text)), serialise(new DOMParser().parseFromString(text, 'image/svg+xml').documentElement)];
  }, svg);
  assert.equal(kept, parsed);
  assert.match(kept, /<marker id="arrow"[^>]*>/);
  assert.match(kept, /marker-end="url\(#arrow\)"/);
});

/** Whether a canvas has any pixel that is not transparent. */
function painted(locator) {
  return locator.evaluate((c) => c.getContext('2d').getImageData(0, 0, c.width, c.height).data.some((v, i) => i % 4 === 3 && v > 0));
}

test('the decision boundary, filters and feature maps are drawn', async () => {
  await open();
  await page.selectOption('#run-select', String(ID.finished));
  assert.ok(await painted(page.locator('#boundary-canvas')), 'the boundary is drawn');
  await page.selectOption('#run-select', String(ID.failed));
  await page.locator('#filters-canvas').waitFor();
  assert.ok(await painted(page.locator('#filters-canvas')), 'the filters are drawn');
  assert.equal(await page.locator('#feature-maps canvas').count(), 2, 'the input and one convolution');
  await screenshot(page, 'cnn-inside');
  await page.selectOption('#run-select', String(ID.older));
  assert.match(await page.locator('#detail-note').innerText(), /older format/);
});

// Last: the folder it removes is gone for every test after it.
test('a run folder deleted while served is reported on the page', async () => {
  await open();
  rmSync(RUNS.deleted, { recursive: true, force: true });
  await runItem(ID.deleted).locator('.problem').first().waitFor({ timeout: 5000 });
});

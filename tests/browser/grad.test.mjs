// The expression stepper (GET /grad) of `nabla grad EXPR --at ... --view`: the apple example
// steps forward node by node, then backward, reaching the gradients in the textbook's order
// (tax 200, then apple 2.2 and count 110) with upstream × local = contribution on the edges;
// a fan-out sums what its consumers sent; editing a value or the expression recomputes (a variable
// typed into the expression gets a field, one taken out loses it); a bad
// expression shows nabla's error on the page. Every test fails on a console error.

import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import { launch, openPage, screenshot, serve, stop } from './harness.mjs';

/**
 * What Chromium logs by itself for an answer with an error status: the page asked for a bad
 * expression's data on purpose and shows the server's message, so this line is no fault.
 */
const BAD_REQUEST = 'console: Failed to load resource: the server responded with a status of 400 (Bad Request)';

let server;
let browser;
let page;

before(async () => {
  server = await serve(['grad', 'apple*count*tax', '--at', 'apple=100,count=2,tax=1.1', '--view']);
  browser = await launch();
});
after(async () => {
  await browser?.close();
  stop(server);
});
afterEach(async () => {
  const errors = (page?.errors ?? []).filter((e) => !(page.expectsBadRequest && e === BAD_REQUEST));
  await page?.close();
  page = null;
  assert.deepEqual(errors, [], 'the page logged errors');
});

/** Opens the stepper and waits for the expression's graph. */
async function open() {
  page = await openPage(browser, `${server.url}grad`);
  page.setDefaultTimeout(10000);
  await page.locator('#graph svg g.node').first().waitFor();
  return page;
}

/** The text of the node called `name` in the graph. */
function nodeText(name) {
  return page.locator(`#graph g.node[data-name="${name}"]`).textContent();
}

/** The gradients listed so far, in the order the backward pass reached them. */
function gradients() {
  return page.locator('#gradients li').allInnerTexts();
}

/** Saves a screenshot of the page down to the end of its content. */
async function screenshotOfPage(name) {
  const box = await page.locator('main').boundingBox();
  const width = page.viewportSize().width;
  await screenshot(page, name, { fullPage: false, clip: { x: 0, y: 0, width, height: box.y + box.height + 16 } });
}

/**
 * Types `text` into the field `selector` in place of what it held, and waits until the page has
 * shown the server's answer.
 */
async function retype(selector, text) {
  const answered = page.waitForResponse((r) => r.url().endsWith('/api/grad') && r.request().method() === 'POST');
  await page.fill(selector, text);
  await answered;
  await page.locator('#graph[aria-busy="false"]').waitFor();
}

test('steps forward, then backward to the gradients in the textbook\'s order', async () => {
  await open();
  assert.equal(await page.inputValue('#expression'), 'apple*count*tax');
  assert.equal(await page.inputValue('#value-tax'), '1.1');
  assert.match(await page.locator('#position').innerText(), /step 0 of 7/);
  // Before the forward pass only the variables have values.
  assert.match(await nodeText('apple'), /= 100/);
  assert.doesNotMatch(await nodeText('apple*count'), /=/);

  await page.click('#next');
  assert.equal(await page.locator('#step-text').innerText(), 'Forward 1 of 2: apple*count = 100*2 = 200');
  assert.match(await nodeText('apple*count'), /= 200/);
  assert.doesNotMatch(await nodeText('apple*count*tax'), /= 220/);
  await page.keyboard.press('ArrowRight');
  assert.match(await nodeText('apple*count*tax'), /= 220/);
  assert.deepEqual(await gradients(), []);

  const reached = [];
  const steps = [];
  for (let i = 0; i < 5; i += 1) {
    await page.click('#next');
    steps.push(await page.locator('#step-text').innerText());
    reached.push(await gradients());
    if (i === 2) {
      // At apple*count: the 1.1 it received, and that upstream times each local derivative,
      // written on the edges.
      const edges = await page.locator('#graph g.edge.current text.grad').allTextContents();
      assert.deepEqual(edges.sort(), ['1.1', '1.1 × 100 = 110', '1.1 × 2 = 2.2']);
      const lines = await page.locator('#step-inputs li').allInnerTexts();
      assert.equal(lines[0], 'to apple: local ∂(apple*count)/∂apple = count = 2; upstream × local = 1.1 × 2 = 2.2');
      await screenshotOfPage('grad-stepper');
    }
  }
  assert.match(steps[0], /step \[1\]: ∂L\/∂\(apple\*count\*tax\) = 1/);
  assert.deepEqual(reached, [
    [],
    ['∂L/∂tax = 200'],
    ['∂L/∂tax = 200'],
    ['∂L/∂tax = 200', '∂L/∂apple = 2.2'],
    ['∂L/∂tax = 200', '∂L/∂apple = 2.2', '∂L/∂count = 110'],
  ]);
  assert.ok(await page.isDisabled('#next'));
  assert.match(await nodeText('apple'), /grad 2\.2/);
  assert.match(await nodeText('apple*count'), /grad 1\.1/);
  await screenshotOfPage('grad-stepper-end');

  await page.keyboard.press('ArrowLeft');
  assert.deepEqual(await gradients(), ['∂L/∂tax = 200', '∂L/∂apple = 2.2']);
  await page.click('#reset');
  assert.deepEqual(await gradients(), []);
  assert.match(await page.locator('#position').innerText(), /step 0 of 7/);
});

test('editing a value recomputes, keeping the step', async () => {
  await open();
  for (let i = 0; i < 7; i += 1) await page.keyboard.press('ArrowRight');
  await retype('#value-apple', '150');
  assert.match(await nodeText('apple*count'), /= 300/);
  assert.match(await nodeText('apple*count*tax'), /= 330/);
  assert.deepEqual(await gradients(), ['∂L/∂tax = 300', '∂L/∂apple = 2.2', '∂L/∂count = 165']);
});

test('a fan-out sums what each consumer sent; a bad expression shows its error', async () => {
  await open();
  page.expectsBadRequest = true;
  await retype('#expression', 'x*x+sin(');
  await page.locator('#error').waitFor();
  assert.match(await page.locator('#error').innerText(), /^syntax error at column 9: .*\n {2}x\*x\+sin\(\n {10}\^$/);
  assert.ok(await page.locator('#graph.stale').isVisible());

  await retype('#expression', 'x*x+sin(x)');
  assert.ok(await page.locator('#error').isHidden());
  assert.deepEqual(await page.locator('#values input').evaluateAll((inputs) => inputs.map((i) => i.name)), ['x']);
  await retype('#value-x', '2');
  for (let i = 0; i < 3 + 4; i += 1) await page.click('#next');
  assert.equal(await page.locator('#step-text').innerText(),
    'Backward 4 of 4, step [4]: ∂L/∂x = (-0.416147) + 2 + 2 = 3.58385');
  assert.deepEqual(await gradients(), ['∂L/∂x = 3.58385']);
  await screenshotOfPage('grad-stepper-fan-out');

  await retype('#value-x', '');
  await page.locator('#error').waitFor();
  assert.equal(await page.locator('#error').innerText(), 'no value for the variable `x`');
});

test('a variable typed into the expression gets a field; one taken out loses it', async () => {
  await open();
  page.expectsBadRequest = true;
  const fields = () => page.locator('#values input').evaluateAll((inputs) => inputs.map((i) => i.name));
  await retype('#expression', 'apple*count*tax+y');
  await page.locator('#value-y').waitFor();
  assert.deepEqual(await fields(), ['apple', 'count', 'tax', 'y']);
  assert.ok(await page.locator('#error').isHidden());
  for (let i = 0; i < 3; i += 1) await page.click('#next');
  assert.match(await nodeText('y'), /= 1/);
  assert.match(await nodeText('apple*count*tax+y'), /= 221/);
  await retype('#value-y', '5');
  assert.match(await nodeText('apple*count*tax+y'), /= 225/);

  await retype('#expression', 'count*y');
  await page.locator('#value-apple').waitFor({ state: 'detached' });
  assert.deepEqual(await fields(), ['count', 'y']);
  assert.match(await nodeText('count*y'), /= 10/, 'the step is kept, past the forward pass');
  // A name too long for the message is cut short there: it is shown as nabla's error.
  const long = 'v'.repeat(60);
  await retype('#expression', `count*${long}`);
  await page.locator('#error').waitFor();
  assert.match(await page.locator('#error').innerText(), /^no value for the variable `v+…`$/);
  assert.deepEqual(await fields(), ['count'], 'y is not used any more; the cut name gets no field');
});

// Run folders written the way `nabla train` writes them (events.jsonl as docs/events.md gives
// it, or only metrics.jsonl for a run of the older format), with made-up but plausible numbers,
// so the page can be tested on every kind of event without training anything.

import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const BINS = 30;

/** A small deterministic random number generator (mulberry32). */
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** TensorStats of `count` values drawn around `mean` with spread `std`, as a 30-bin histogram. */
function stats(mean, std, count) {
  const lo = mean - 3 * std;
  const hi = mean + 3 * std;
  const counts = [];
  for (let i = 0; i < BINS; i++) {
    const centre = lo + ((i + 0.5) * (hi - lo)) / BINS;
    counts.push(Math.round((count * (hi - lo) / BINS) * Math.exp(-(((centre - mean) / std) ** 2) / 2) / (std * Math.sqrt(2 * Math.PI))));
  }
  return { count, mean, std, min: lo, max: hi, histogram: { lo, hi, counts, below: 0, above: 0, non_finite: 0 } };
}

export const MLP_LAYERS = [
  { index: 0, name: '0: Linear(in_features=2, out_features=16, bias=True)', type_name: 'Linear', label: 'layer 0 (Linear)', kind: 'linear', has_parameters: true },
  { index: 1, name: '1: ReLU()', type_name: 'ReLU', label: 'layer 1 (ReLU)', kind: 'relu', has_parameters: false },
  { index: 2, name: '2: Linear(in_features=16, out_features=2, bias=True)', type_name: 'Linear', label: 'layer 2 (Linear)', kind: 'linear', has_parameters: true },
];

const CNN_LAYERS = [
  { index: 0, name: '0: Conv2d(1, 4, kernel_size=(3, 3))', type_name: 'Conv2d', label: 'layer 0 (Conv2d)', kind: 'conv', has_parameters: true },
  { index: 1, name: '1: ReLU()', type_name: 'ReLU', label: 'layer 1 (ReLU)', kind: 'relu', has_parameters: false },
  { index: 2, name: '2: Flatten()', type_name: 'Flatten', label: 'layer 2 (Flatten)', kind: 'other', has_parameters: false },
  { index: 3, name: '3: Linear(in_features=144, out_features=3, bias=True)', type_name: 'Linear', label: 'layer 3 (Linear)', kind: 'linear', has_parameters: true },
];

function line(event) {
  return `${JSON.stringify(event)}\n`;
}

/**
 * The `graph` event of the textbook's apple example, apple*count*tax at 100, 2, 1.1: in
 * fixtures/apple-graph.json, nabla-inspect's `Graph::to_svg` (left to right) of
 * `expr::record`'s graph and its `explanation`, as `nabla train` writes a graph event.
 */
export function appleGraph(epoch) {
  const event = JSON.parse(readFileSync(new URL('./fixtures/apple-graph.json', import.meta.url), 'utf8'));
  return { ...event, epoch };
}

function probe(layers, epoch, rand) {
  const t = epoch + 1;
  return {
    type: 'probe',
    epoch,
    snapshot: {
      epoch,
      loss: 0.7 / t,
      layers: layers.map((layer) => ({
        layer: layer.index,
        activation: stats(layer.kind === 'relu' ? 0.3 + 0.1 * epoch : 0.05 * epoch, 0.5 + 0.15 * epoch, 256 * 16),
        saturated: null,
        dead: layer.kind === 'relu' ? 0.1 + 0.02 * epoch : null,
        weight: layer.has_parameters ? stats(0.01 * epoch, 0.3 + 0.05 * epoch, 48) : null,
        weight_grad: layer.has_parameters ? stats(0, 0.05 / t, 48) : null,
        grad_norm: layer.has_parameters ? (0.2 + 0.05 * rand()) / t : null,
      })),
    },
  };
}

function boundaryEvent(epoch, rand) {
  const side = 40;
  const classes = [];
  const confidence = [];
  const tilt = 0.4 + 0.3 * epoch;
  for (let row = 0; row < side; row++) {
    for (let col = 0; col < side; col++) {
      const x = -1.5 + (3 * (col + 0.5)) / side;
      const y = -1.5 + (3 * (row + 0.5)) / side;
      const score = Math.sin(3 * x * tilt) - y;
      classes.push(score > 0 ? 1 : 0);
      confidence.push(0.5 + 0.5 * Math.tanh(Math.abs(score) * (1 + epoch)));
    }
  }
  const points = { x: [], y: [], label: [] };
  for (let i = 0; i < 120; i++) {
    const x = -1.5 + 3 * rand();
    const y = -1.5 + 3 * rand();
    points.x.push(x);
    points.y.push(y);
    points.label.push(Math.sin(3 * x) - y > 0 ? 1 : 0);
  }
  return { type: 'boundary', epoch, x: [-1.5, 1.5], y: [-1.5, 1.5], side, classes, confidence, points };
}

/** The `epoch` event of epoch `e` of a run whose losses fall from `start`. */
export function epochEvent(e, start = 1.0) {
  return {
    type: 'epoch', epoch: e, lr: 0.01, train_loss: start / (1 + 0.6 * e), train_acc: 1 - 0.4 / (1 + e),
    val_loss: (start * 1.1) / (1 + 0.5 * e), val_acc: 1 - 0.45 / (1 + e), seconds: 0.4, samples_per_second: 2500,
  };
}

function stepsEvent(e, steps, start, rand) {
  const loss = [];
  const norms = [];
  for (let s = 1; s <= steps; s++) {
    const at = e - 1 + s / steps;
    loss.push(start / (1 + 0.6 * at) + 0.08 * (rand() - 0.5));
    norms.push([(0.3 / (1 + at)) * (0.8 + 0.4 * rand()), (0.05 / (1 + at)) * (0.8 + 0.4 * rand())]);
  }
  return { type: 'steps', epoch: e, first_step: 1, loss, grad_norms: norms };
}

function runEvent(name, epochs, layers, extra = {}) {
  return {
    type: 'run', format: 1, name, started: 1796600000, task: 'classification', epochs, steps_per_epoch: 8, batch_size: 32,
    layers, classes: ['0', '1'], vanishing_below: 1e-3, exploding_above: 1e3, gradient_alarm: 'first_over_last', config: { epochs, lr: 0.01, batch_size: 32 }, ...extra,
  };
}

/**
 * A finished 2-D classification run of `epochs` epochs: steps, epochs, probes, graphs and
 * decision boundaries; `trained` epochs written (all by default), then `end` when all were.
 */
export function writeToyRun(dir, { name = 'toy', epochs = 5, trained = epochs, seed = 1, start = 1.0 } = {}) {
  mkdirSync(dir, { recursive: true });
  const rand = random(seed);
  let text = line(runEvent(name, epochs, MLP_LAYERS));
  text += line(probe(MLP_LAYERS, 0, rand)) + line(appleGraph(0)) + line(boundaryEvent(0, rand));
  for (let e = 1; e <= trained; e++) text += epochLines(e, { seed: seed + e, start });
  if (trained === epochs) text += line({ type: 'end', status: 'finished', message: `trained ${epochs} epochs`, epoch: epochs });
  writeFileSync(join(dir, 'events.jsonl'), text);
}

/** The lines a toy run writes at the end of epoch `e`. */
export function epochLines(e, { seed = 7, start = 1.0 } = {}) {
  const rand = random(seed);
  return line(stepsEvent(e, 8, start, rand)) + line(epochEvent(e, start)) + line(probe(MLP_LAYERS, e, rand))
    + line(appleGraph(e)) + line(boundaryEvent(e, rand));
}

/** Appends epoch `e`'s lines to a toy run being trained. */
export function appendEpoch(dir, e) {
  appendFileSync(join(dir, 'events.jsonl'), epochLines(e));
}

/** A convolutional run that failed at its third epoch: filters and feature maps every epoch. */
export function writeFailedCnnRun(dir) {
  mkdirSync(dir, { recursive: true });
  const rand = random(11);
  let text = line({ ...runEvent('cnn', 5, CNN_LAYERS), classes: ['0', '1', '2'] });
  for (let e = 0; e <= 2; e++) {
    if (e > 0) text += line(stepsEvent(e, 8, 1.1, rand)) + line(epochEvent(e, 1.1));
    text += line(probe(CNN_LAYERS, e, rand));
    text += line({ type: 'filters', epoch: e, layer: 'layer 0 (Conv2d)', shape: [4, 1, 3, 3], values: Array.from({ length: 36 }, () => rand() * 2 - 1) });
    const image = Array.from({ length: 64 }, (_, i) => Math.sin(i / 5) * Math.cos(i / 9));
    text += line({
      type: 'feature_maps', epoch: e, input: { shape: [1, 8, 8], values: image },
      layers: [{ label: 'layer 0 (Conv2d)', shape: [4, 6, 6], values: Array.from({ length: 144 }, () => rand()) }],
    });
  }
  text += line({ type: 'end', status: 'failed', message: 'the training loss became NaN at epoch 3, step 5; lower --lr', epoch: 2 });
  writeFileSync(join(dir, 'events.jsonl'), text);
}

/** A run of the older format: metrics.jsonl and config.json, no events.jsonl. */
export function writeOlderRun(dir, epochs = 3) {
  mkdirSync(dir, { recursive: true });
  let text = '';
  for (let e = 1; e <= epochs; e++) {
    const metrics = epochEvent(e, 1.3);
    delete metrics.type;
    text += line(metrics);
  }
  writeFileSync(join(dir, 'metrics.jsonl'), text);
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ epochs, lr: 0.01, batch_size: 32 }));
}

/**
 * A run that trained 4 epochs, was resumed from epoch 2's checkpoint and trained epochs 3 to 5
 * again with losses from `start` 2 (so a reader that kept the first epochs 3 and 4 shows them).
 */
export function writeResumedRun(dir) {
  mkdirSync(dir, { recursive: true });
  let text = line(runEvent('resumed', 5, MLP_LAYERS));
  for (let e = 1; e <= 4; e++) text += epochLines(e, { seed: e });
  text += line({ type: 'resume', epoch: 2, started: 1796600100 });
  for (let e = 3; e <= 5; e++) text += epochLines(e, { seed: 10 + e, start: 2 });
  text += line({ type: 'end', status: 'finished', message: 'trained 5 epochs', epoch: 5 });
  writeFileSync(join(dir, 'events.jsonl'), text);
}

/** A graph picture that tries to run code and load things, as a hostile log could hold. */
const HOSTILE_SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="80" onload="window.hostile = 1">'
  + '<script>window.hostile = 2</script><foreignObject><iframe src="http://example.invalid/"></iframe></foreignObject>'
  + '<a href="javascript:window.hostile = 3"><text x="5" y="70">link</text></a>'
  // Prefixed names of the SVG and XHTML namespaces, which a search by tag name does not match.
  + '<s:script xmlns:s="http://www.w3.org/2000/svg">window.hostile = 5</s:script>'
  + '<x:foreignObject xmlns:x="http://www.w3.org/2000/svg" width="100" height="50">'
  + '<h:iframe xmlns:h="http://www.w3.org/1999/xhtml" src="http://example.invalid/frame"/>'
  + '<h:form xmlns:h="http://www.w3.org/1999/xhtml" action="http://example.invalid/form"><h:button formaction="http://example.invalid/b">go</h:button></h:form>'
  + '</x:foreignObject>'
  + '<h:img xmlns:h="http://www.w3.org/1999/xhtml" src="http://example.invalid/img.png"/>'
  + '<image href="http://example.invalid/i.png" width="10" height="10"/><use href="#arrow"/><style>rect { fill: url(http://example.invalid/p) }</style>'
  + '<rect class="lure" id="graph-detail" x="0" y="0" width="5" height="5" fill="url(http://example.invalid/paint#p)" stroke="u\\72l(http://example.invalid/escaped#p)" src="http://example.invalid/s" style="fill: red" marker-end="url(http://example.invalid/m#m)"/>'
  + '<g class="node" data-step="1" onclick="window.hostile = 4"><rect x="10" y="10" width="80" height="40" fill="#dbe9f8"/>'
  + '<text x="20" y="35">[1] ×</text></g></svg>';

/**
 * A run whose log has a malformed complete line (line 3), a graph whose SVG carries scripts,
 * handlers and links, and a partial last line.
 */
export function writeMalformedRun(dir) {
  mkdirSync(dir, { recursive: true });
  const graph = { ...appleGraph(2), svg: HOSTILE_SVG };
  const text = line(runEvent('broken', 3, MLP_LAYERS)) + line(epochEvent(1)) + '{"type":"epoch","epoch":2,\n' + line(epochEvent(2))
    + line(graph) + '{"type":"epo';
  writeFileSync(join(dir, 'events.jsonl'), text);
}

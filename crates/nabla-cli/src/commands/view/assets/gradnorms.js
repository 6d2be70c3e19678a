// Per-layer gradient norms of one run on a base-10 logarithmic axis, every training step (from
// the `steps` events; the probe batch's norm per epoch when the run recorded no steps), with the
// bands where the gradients count as vanishing or exploding shaded.

import { lineChart } from './chart.js';
import { html } from './svg.js';

const LAYER_COLOURS = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

function perStep(run) {
  const layers = run.gradientLayers;
  const perEpoch = run.stepsPerEpoch;
  const lines = layers.map(() => []);
  for (const chunk of [...run.steps].sort((a, b) => a.epoch - b.epoch || a.first_step - b.first_step)) {
    const width = perEpoch ?? Math.max(chunk.first_step + (chunk.grad_norms?.length ?? 1) - 1, 1);
    (chunk.grad_norms ?? []).forEach((norms, i) => {
      norms.forEach((norm, layer) => lines[layer]?.push([chunk.epoch - 1 + (chunk.first_step + i) / width, norm]));
    });
  }
  return layers.map((layer, i) => ({ layer, points: lines[i] }));
}

function perProbe(run) {
  return run.gradientLayers.map((layer) => ({
    layer,
    points: [...run.probes].sort((a, b) => a.epoch - b.epoch)
      .map((p) => [p.epoch, p.snapshot?.layers?.find((l) => l.layer === layer.index)?.grad_norm ?? null]),
  }));
}

/**
 * Where the gradient alarm of `run` goes off, to shade. With `gradient_alarm` `first_over_last`
 * the bounds are ratios of the first layer's norm to the last one's (docs/events.md), so the
 * bands follow the last layer's norm: below `last × vanishing_below`, above
 * `last × exploding_above`. Otherwise they are bounds on every norm, fixed bands.
 */
function alarmBands(run, lines) {
  const low = run.header?.vanishing_below;
  const high = run.header?.exploding_above;
  const bands = [];
  const areas = [];
  const include = [];
  if (run.header?.gradient_alarm === 'first_over_last') {
    const last = lines.length > 1 ? lines[lines.length - 1].points : [];
    if (typeof low === 'number') areas.push({ side: 'below', points: last.map(([x, y]) => [x, y * low]), colour: '#c6dbef', label: `vanishing: first layer below last × ${low}` });
    if (typeof high === 'number') areas.push({ side: 'above', points: last.map(([x, y]) => [x, y * high]), colour: '#fcbba1', label: `exploding: first layer above last × ${high}` });
    return { bands, areas, include };
  }
  if (typeof low === 'number') {
    bands.push({ from: 0, to: low, colour: '#c6dbef', label: `vanishing (below ${low})` });
    include.push(low / 10);
  }
  if (typeof high === 'number') {
    bands.push({ from: high, to: Infinity, colour: '#fcbba1', label: `exploding (above ${high})` });
    include.push(high * 10);
  }
  return { bands, areas, include };
}

/** The gradient-norm chart of `run`. */
export function gradientNorms(run) {
  let lines = perStep(run);
  let source = 'every training step';
  if (!lines.some((l) => l.points.length)) {
    lines = perProbe(run);
    source = 'the probe batch, per epoch';
  }
  if (!lines.some((l) => l.points.length)) return html('p', { class: 'note', text: 'No gradient norms recorded yet.' });
  const { bands, areas, include } = alarmBands(run, lines);
  const chart = lineChart({
    include,
    areas,
    title: `Gradient norm per layer (${source})`, xLabel: 'epoch', yLabel: '‖∇W‖ (log)', log: true, bands,
    series: lines.map(({ layer, points }, i) => ({
      label: layer.label, colour: LAYER_COLOURS[i % LAYER_COLOURS.length], width: 1.4, points, data: { 'data-layer': layer.index },
    })),
    describe: (x) => `epoch ${Number.isInteger(x) ? x : x.toFixed(2)}`,
  });
  chart.id = 'grad-norm-chart';
  return chart;
}

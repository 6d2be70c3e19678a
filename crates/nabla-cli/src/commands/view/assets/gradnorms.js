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
      .map((p) => [p.epoch, p.snapshot.layers.find((l) => l.layer === layer.index)?.grad_norm ?? null]),
  }));
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
  const bands = [];
  const low = run.header?.vanishing_below;
  const high = run.header?.exploding_above;
  if (typeof low === 'number') bands.push({ from: 0, to: low, colour: '#c6dbef', label: `vanishing (below ${low})` });
  if (typeof high === 'number') bands.push({ from: high, to: Infinity, colour: '#fcbba1', label: `exploding (above ${high})` });
  // A decade beyond each threshold, so both bands show.
  const include = [typeof low === 'number' ? low / 10 : null, typeof high === 'number' ? high * 10 : null].filter((v) => v !== null);
  const chart = lineChart({
    include,
    title: `Gradient norm per layer (${source})`, xLabel: 'epoch', yLabel: '‖∇W‖ (log)', log: true, bands,
    series: lines.map(({ layer, points }, i) => ({
      label: layer.label, colour: LAYER_COLOURS[i % LAYER_COLOURS.length], width: 1.4, points, data: { 'data-layer': layer.index },
    })),
    describe: (x) => `epoch ${Number.isInteger(x) ? x : x.toFixed(2)}`,
  });
  chart.id = 'grad-norm-chart';
  return chart;
}

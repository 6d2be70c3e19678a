// Per-layer distributions of one run over its epochs, from the probe snapshots: for every layer
// a distribution view (quantile bands over epochs, as TensorBoard's distributions draw them,
// with a line at the chosen epoch) beside the histogram of the chosen epoch.

import { formatNumber, html, linearTicks, scale, svg } from './svg.js';

/** What a histogram can be of, as the probe snapshot names it. */
export const KINDS = [
  { key: 'activation', label: 'activations' },
  { key: 'weight', label: 'weights' },
  { key: 'weight_grad', label: 'weight gradients' },
];

/** Quantiles drawn as bands, outermost first (min, ±1.5σ, ±1σ, ±0.5σ, median as TensorBoard). */
const QUANTILES = [0, 0.0668, 0.1587, 0.3085, 0.5, 0.6915, 0.8413, 0.9332, 1];

const W = 300;
const H = 130;
const M = { left: 52, right: 8, top: 8, bottom: 24 };

/**
 * The value below which a fraction `q` of a histogram's finite values lie, interpolating within
 * bins; values counted below or above its range are spread over [min, lo] and [hi, max].
 */
export function quantile(stats, q) {
  const h = stats.histogram;
  const width = (h.hi - h.lo) / h.counts.length;
  const buckets = [[Math.min(stats.min, h.lo), h.lo, h.below]];
  h.counts.forEach((c, i) => buckets.push([h.lo + i * width, h.lo + (i + 1) * width, c]));
  buckets.push([h.hi, Math.max(stats.max, h.hi), h.above]);
  const total = buckets.reduce((sum, b) => sum + b[2], 0);
  if (total === 0) return null;
  let target = q * total;
  for (const [lo, hi, count] of buckets) {
    if (count > 0 && target <= count) return lo + (hi - lo) * (target / count);
    target -= count;
  }
  return buckets[buckets.length - 1][1];
}

/** The stats of `kind` for layer `layer` at each probe (epoch order), skipping absent ones. */
function statsOver(run, layer, kind) {
  return [...run.probes]
    .sort((a, b) => a.epoch - b.epoch)
    .map((p) => [p.epoch, p.snapshot?.layers?.find((l) => l.layer === layer)?.[kind]])
    .filter(([, stats]) => stats && stats.histogram);
}

function frame(title) {
  return svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'mini' }, svg('title', {}, title));
}

function yAxis(root, y, [lo, hi]) {
  for (const t of linearTicks(lo, hi, 3)) {
    root.append(svg('line', { x1: M.left, x2: W - M.right, y1: y(t), y2: y(t), class: 'grid' }),
      svg('text', { x: M.left - 4, y: y(t) + 4, 'text-anchor': 'end', class: 'tick' }, formatNumber(t)));
  }
}

/** Quantile bands over epochs, with a line at `epoch`. */
function distribution(over, epoch, colour, title) {
  const root = frame(title);
  const bands = over.map(([e, stats]) => [e, QUANTILES.map((q) => quantile(stats, q))]).filter(([, qs]) => qs.every((v) => v !== null && Number.isFinite(v)));
  if (bands.length === 0) return root;
  const all = bands.flatMap(([, qs]) => qs);
  let lo = Math.min(...all);
  let hi = Math.max(...all);
  if (lo === hi) [lo, hi] = [lo - 0.5, hi + 0.5];
  const epochs = bands.map(([e]) => e);
  const [e0, e1] = [Math.min(...epochs), Math.max(...epochs)];
  const x = scale(e0 === e1 ? [e0 - 0.5, e1 + 0.5] : [e0, e1], [M.left, W - M.right]);
  const y = scale([lo, hi], [H - M.bottom, M.top]);
  yAxis(root, y, [lo, hi]);
  for (let i = 0; i < 4; i++) {
    const upper = bands.map(([e, qs]) => `${x(e).toFixed(1)},${y(qs[QUANTILES.length - 1 - i]).toFixed(1)}`);
    const lower = bands.map(([e, qs]) => `${x(e).toFixed(1)},${y(qs[i]).toFixed(1)}`).reverse();
    root.append(svg('polygon', { points: upper.concat(lower).join(' '), fill: colour, opacity: 0.15 + i * 0.12, stroke: bands.length === 1 ? colour : 'none' }));
  }
  root.append(svg('polyline', { points: bands.map(([e, qs]) => `${x(e).toFixed(1)},${y(qs[4]).toFixed(1)}`).join(' '), fill: 'none', stroke: colour, 'stroke-width': 1.5 }));
  for (const t of linearTicks(e0, e1, 4).filter(Number.isInteger)) {
    root.append(svg('text', { x: x(t), y: H - 8, 'text-anchor': 'middle', class: 'tick' }, String(t)));
  }
  if (epoch !== null) {
    root.append(svg('line', { x1: x(epoch), x2: x(epoch), y1: M.top, y2: H - M.bottom, class: 'epoch-marker' }));
  }
  return root;
}

/**
 * The histogram of one probe's stats as bars, on the axes shared by all the layer's epochs
 * (`xRange`, `top`) so that moving through epochs shows the distribution move and spread; the
 * counts outside its range noted.
 */
function bars(stats, [lo, hi], top, colour, title) {
  const root = frame(title);
  if (!stats) return root;
  const h = stats.histogram;
  const x = scale([lo, hi], [M.left, W - M.right]);
  const y = scale([0, top], [H - M.bottom, M.top]);
  const step = (h.hi - h.lo) / h.counts.length;
  h.counts.forEach((c, i) => {
    const left = x(h.lo + i * step);
    const right = x(h.lo + (i + 1) * step);
    root.append(svg('rect', {
      x: left.toFixed(1), y: y(c).toFixed(1), width: Math.max(right - left - 0.5, 0.5).toFixed(1), height: (y(0) - y(c)).toFixed(1), fill: colour, class: 'bar',
    }, svg('title', {}, `${formatNumber(h.lo + i * step)} … ${formatNumber(h.lo + (i + 1) * step)}: ${c}`)));
  });
  root.append(svg('line', { x1: M.left, x2: W - M.right, y1: y(0), y2: y(0), class: 'axis' }));
  for (const t of linearTicks(lo, hi, 4)) {
    root.append(svg('text', { x: x(t), y: H - 8, 'text-anchor': 'middle', class: 'tick' }, formatNumber(t)));
  }
  root.append(svg('text', { x: M.left - 4, y: M.top + 8, 'text-anchor': 'end', class: 'tick' }, String(top)));
  const outside = [h.below ? `${h.below} below` : '', h.above ? `${h.above} above` : '', h.non_finite ? `${h.non_finite} NaN/inf` : ''].filter(Boolean).join(', ');
  root.append(svg('text', { x: W - M.right, y: M.top + 8, 'text-anchor': 'end', class: 'tick' }, `mean ${formatNumber(stats.mean)}, std ${formatNumber(stats.std)}${outside ? `; ${outside}` : ''}`));
  return root;
}

/** The range of every histogram of `over` and their highest count. */
function sharedAxes(over) {
  const lo = Math.min(...over.map(([, s]) => s.histogram.lo));
  const hi = Math.max(...over.map(([, s]) => s.histogram.hi));
  const top = Math.max(1, ...over.flatMap(([, s]) => s.histogram.counts));
  return [[lo, hi], top];
}

/** The epochs that have a probe snapshot, in order. */
export function probeEpochs(run) {
  return [...new Set(run.probes.map((p) => p.epoch))].sort((a, b) => a - b);
}

/** For each layer of `run` that has `kind`, its distribution over epochs and its histogram at `epoch`. */
export function histograms(run, kind, epoch, colour) {
  const list = html('div', { class: 'layer-rows' });
  for (const layer of run.header?.layers ?? []) {
    const over = statsOver(run, layer.index, kind);
    if (over.length === 0) continue;
    const at = over.find(([e]) => e === epoch)?.[1] ?? null;
    const extra = kind === 'activation' ? saturation(run, layer.index, epoch) : '';
    list.append(html('div', { class: 'layer-row', 'data-layer': layer.index },
      html('h4', { text: `${layer.label}${extra}` }),
      distribution(over, epoch, colour, `${layer.label}: ${kind} over epochs`),
      bars(at, ...sharedAxes(over), colour, `${layer.label}: ${kind} at epoch ${epoch}`)));
  }
  if (!list.childElementCount) list.append(html('p', { class: 'note', text: 'No probe snapshots yet.' }));
  return list;
}

function saturation(run, layer, epoch) {
  const snap = run.probes.find((p) => p.epoch === epoch)?.snapshot?.layers?.find((l) => l.layer === layer);
  if (typeof snap?.saturated === 'number') return ` · saturated ${(snap.saturated * 100).toFixed(1)}%`;
  if (typeof snap?.dead === 'number') return ` · dead ${(snap.dead * 100).toFixed(1)}%`;
  return '';
}

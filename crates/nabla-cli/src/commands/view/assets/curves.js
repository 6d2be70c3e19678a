// The curves of every run, overlaid (one colour per run): loss and accuracy (or mean absolute
// error) per epoch on the training, validation and test sets, and the training loss of every
// step, smoothed as TensorBoard smooths it, the raw values faint behind.

import { lineChart } from './chart.js';
import { html, runColour } from './svg.js';

const SETS = [
  { prefix: 'train', label: 'train', dash: null },
  { prefix: 'val', label: 'validation', dash: '6 4' },
  { prefix: 'test', label: 'test', dash: '2 3' },
];

/**
 * TensorBoard's smoothing: an exponential moving average with weight `weight`, debiased so
 * the first values are not pulled towards zero. Values that are not finite pass through and do
 * not disturb the average.
 */
export function smooth(values, weight) {
  let last = 0;
  let count = 0;
  return values.map((v) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) return v;
    last = last * weight + (1 - weight) * v;
    count += 1;
    return last / (1 - weight ** count);
  });
}

/** The epoch axis: from 1 to the most epochs any run has or plans. */
function epochDomain(runs) {
  const last = Math.max(1, ...runs.map((r) => Math.max(r.plannedEpochs ?? 0, ...r.epochs.map((e) => e.epoch))));
  return [runs.some((r) => r.steps.length) ? 0 : 1, last];
}

function epochSeries(runs, metric, percent) {
  const series = [];
  for (const run of runs) {
    for (const set of SETS) {
      const key = `${set.prefix}_${metric}`;
      const points = run.epochs.filter((e) => key in e).map((e) => [e.epoch, percent && e[key] !== null ? e[key] * 100 : e[key]]);
      if (points.length === 0) continue;
      series.push({
        label: `${run.name} ${set.label}`, colour: runColour(run.index), dash: set.dash, points, markers: true,
        data: { 'data-run': run.index, 'data-series': key },
      });
    }
  }
  return series;
}

/** The legend of the epoch curves: a colour per run, a dash per set. */
function legendItems(runs, series) {
  const sets = SETS.filter((set) => series.some((s) => s.data['data-series'].startsWith(`${set.prefix}_`)));
  return runs.map((run) => ({ label: run.name, colour: runColour(run.index) }))
    .concat(sets.map((set) => ({ label: set.label, colour: '#5f6b7a', dash: set.dash })));
}

/** The points of a run's per-step training loss, x in epochs (epoch e's step s at e − 1 + s/S). */
function stepPoints(run) {
  const perEpoch = run.stepsPerEpoch;
  const points = [];
  for (const chunk of [...run.steps].sort((a, b) => a.epoch - b.epoch || a.first_step - b.first_step)) {
    const width = perEpoch ?? Math.max(chunk.first_step + chunk.loss.length - 1, 1);
    chunk.loss.forEach((loss, i) => points.push([chunk.epoch - 1 + (chunk.first_step + i) / width, loss]));
  }
  return points;
}

/** The curves of `runs`, the step losses smoothed with the weight `ui.smoothing`. */
export function curves(runs, ui) {
  const domain = epochDomain(runs);
  const describe = (x) => `epoch ${Number.isInteger(x) ? x : x.toFixed(2)}`;
  const panels = html('div', { class: 'panels' });
  const lossSeries = epochSeries(runs, 'loss', false);
  const loss = lineChart({ title: 'Loss per epoch', xLabel: 'epoch', yLabel: 'loss', series: lossSeries, legendItems: legendItems(runs, lossSeries), xDomain: domain, describe });
  loss.id = 'loss-chart';
  panels.append(loss);
  const classifying = runs.filter((r) => !r.isRegression);
  if (classifying.length) {
    const accSeries = epochSeries(classifying, 'acc', true);
    const acc = lineChart({ title: 'Accuracy per epoch (%)', xLabel: 'epoch', yLabel: 'accuracy %', series: accSeries, legendItems: legendItems(classifying, accSeries), xDomain: domain, describe });
    acc.id = 'accuracy-chart';
    panels.append(acc);
  }
  const regressing = runs.filter((r) => r.isRegression);
  if (regressing.length) {
    const maeSeries = epochSeries(regressing, 'mae', false);
    const mae = lineChart({ title: 'Mean absolute error per epoch', xLabel: 'epoch', yLabel: 'MAE', series: maeSeries, legendItems: legendItems(regressing, maeSeries), xDomain: domain, describe });
    mae.id = 'mae-chart';
    panels.append(mae);
  }

  const stepped = runs.filter((r) => r.steps.length);
  if (stepped.length) {
    const series = [];
    for (const run of stepped) {
      const points = stepPoints(run);
      const smoothed = smooth(points.map((p) => p[1]), ui.smoothing);
      series.push({ label: `${run.name} raw`, colour: runColour(run.index), width: 1, opacity: 0.25, points, legend: false, hover: false });
      series.push({
        label: `${run.name} smoothed`, colour: runColour(run.index), width: 2,
        points: points.map((p, i) => [p[0], smoothed[i]]), data: { 'data-run': run.index, 'data-series': 'step_loss' },
      });
    }
    const chart = lineChart({ title: `Training loss per step (smoothing ${ui.smoothing.toFixed(2)})`, xLabel: 'epoch', yLabel: 'loss', series, xDomain: [0, domain[1]], describe });
    chart.id = 'step-loss-chart';
    panels.append(chart);
  }
  return panels;
}

// The run page of `nabla view`: lists the served runs, follows each one's event log live, and
// draws the curves of all of them overlaid, then the inside of the run chosen (distributions per
// layer with an epoch slider, gradient norms, the graph of one batch with its chain rule, the
// decision boundary or the convolution filters and feature maps).

import { curves } from './curves.js';
import { gradientNorms } from './gradnorms.js';
import { graphView } from './graph.js';
import { histograms, KINDS } from './histograms.js';
import { boundary, featureMaps, filters } from './pictures.js';
import { Run } from './run.js';
import { follow } from './stream.js';
import { html, runColour } from './svg.js';

const RETRY_MS = 3000;

/** What the reader chose; `epoch` null follows the latest epoch. */
const ui = { smoothing: 0.6, run: 0, kind: 'activation', epoch: null, step: null };
let runs = [];
let pending = false;
/** The graph picture last drawn and the event it came from, kept while the event is the same. */
let drawnGraph = { event: null, view: null };

const $ = (id) => document.getElementById(id);

function schedule() {
  if (pending) return;
  pending = true;
  setTimeout(() => {
    pending = false;
    render();
  }, 60);
}

const STATUS_TEXT = {
  training: 'training', finished: 'finished', failed: 'failed', interrupted: 'interrupted', missing: 'folder missing', unknown: 'status unknown',
};

function runItem(run) {
  const epochs = run.epochs.length;
  const planned = run.plannedEpochs;
  const item = html('li', { class: `run status-${run.status}`, 'data-run': run.index },
    html('span', { class: 'swatch', style: `background:${runColour(run.index)}` }),
    html('strong', { text: run.name }),
    html('span', { class: 'path', text: run.path }),
    html('span', { class: 'status', text: STATUS_TEXT[run.status] ?? run.status }),
    html('span', { class: 'epochs', text: `${epochs}${planned ? ` of ${planned}` : ''} epoch${(planned ?? epochs) === 1 ? '' : 's'}` }));
  const notes = html('ul', { class: 'problems' });
  if (run.format === 'metrics-only') {
    notes.append(html('li', { class: 'older', text: 'Older format: this run has only metrics.jsonl (no events.jsonl), so only its curves are shown.' }));
  }
  if (run.end && run.end.status !== 'finished') {
    notes.append(html('li', { class: 'failure', text: `${run.end.status === 'failed' ? 'Failed' : 'Interrupted'} at epoch ${run.end.epoch ?? '?'}: ${run.end.message ?? ''}` }));
  }
  if (run.connection === 'retrying' || run.connection === 'lost') {
    notes.append(html('li', { class: 'connection', text: 'Connection to the server lost; retrying…' }));
  }
  for (const problem of run.problems) notes.append(html('li', { class: 'problem', text: problem }));
  if (notes.childElementCount) item.append(notes);
  return item;
}

/** The epochs the chosen run has pictures for, in order. */
function detailEpochs(run) {
  const lists = [run.probes, run.graphs, run.boundaries, run.filters, run.featureMaps];
  return [...new Set(lists.flatMap((l) => l.map((e) => e.epoch)))].sort((a, b) => a - b);
}

function renderDetail() {
  const run = runs[ui.run];
  const select = $('run-select');
  if (select.options.length !== runs.length) {
    select.replaceChildren(...runs.map((r) => html('option', { value: r.index, text: r.name })));
  }
  select.value = String(ui.run);
  if (!run) return;
  const epochs = detailEpochs(run);
  const slider = $('epoch-slider');
  slider.max = String(Math.max(0, epochs.length - 1));
  const position = ui.epoch === null ? epochs.length - 1 : Math.max(0, epochs.indexOf(ui.epoch));
  slider.value = String(Math.max(0, position));
  slider.disabled = epochs.length < 2;
  const epoch = epochs.length ? epochs[Math.max(0, position)] : null;
  $('epoch-value').textContent = epoch === null ? 'none yet' : `${epoch}${ui.epoch === null ? ' (latest)' : ''}`;
  $('detail-note').textContent = run.format === 'metrics-only'
    ? 'This run is of the older format: it recorded no histograms, gradients, graph or pictures.'
    : epochs.length === 0 ? 'Nothing recorded inside the network yet.' : '';

  $('histograms').replaceChildren(histograms(run, ui.kind, epoch, runColour(run.index)));
  $('grad-norms').replaceChildren(gradientNorms(run));

  const graph = run.latest('graphs', epoch ?? Infinity);
  if (!graph) {
    $('graph').replaceChildren(html('p', { class: 'note', text: 'No graph recorded yet.' }));
    drawnGraph = { event: null, view: null };
  } else if (drawnGraph.event !== graph) {
    drawnGraph = { event: graph, view: graphView(graph, ui, (step) => { ui.step = step; }) };
    $('graph').replaceChildren(drawnGraph.view);
  }
  $('graph-title').textContent = graph ? `The graph of one batch, after epoch ${graph.epoch}` : 'The graph of one batch';

  const pictures = [];
  const edge = run.latest('boundaries', epoch ?? Infinity);
  if (edge) pictures.push(html('h3', { text: `Decision boundary after epoch ${edge.epoch}` }), boundary(edge));
  const kernels = run.latest('filters', epoch ?? Infinity);
  if (kernels) pictures.push(html('h3', { text: `Filters after epoch ${kernels.epoch}` }), filters(kernels));
  const maps = run.latest('featureMaps', epoch ?? Infinity);
  if (maps) pictures.push(html('h3', { text: `Feature maps of one image after epoch ${maps.epoch}` }), featureMaps(maps));
  $('pictures').replaceChildren(...pictures);
}

function render() {
  $('run-list').replaceChildren(...runs.map(runItem));
  const training = runs.filter((r) => r.status === 'training').length;
  $('summary').textContent = runs.length === 0
    ? 'No runs are served.'
    : `${runs.length} run${runs.length === 1 ? '' : 's'}${training ? `, ${training} training` : ''}. The page follows them live.`;
  $('curves-body').replaceChildren(curves(runs, ui));
  renderDetail();
}

function wireControls() {
  $('smoothing').addEventListener('input', (e) => {
    ui.smoothing = Number(e.target.value);
    $('smoothing-value').textContent = ui.smoothing.toFixed(2);
    render();
  });
  $('hist-kind').replaceChildren(...KINDS.map((k) => html('option', { value: k.key, text: k.label })));
  $('hist-kind').addEventListener('change', (e) => {
    ui.kind = e.target.value;
    render();
  });
  $('run-select').addEventListener('change', (e) => {
    ui.run = Number(e.target.value);
    ui.epoch = null;
    ui.step = null;
    render();
  });
  $('epoch-slider').addEventListener('input', (e) => {
    const epochs = detailEpochs(runs[ui.run]);
    const index = Number(e.target.value);
    ui.epoch = index >= epochs.length - 1 ? null : epochs[index];
    render();
  });
}

async function start() {
  let infos;
  try {
    const response = await fetch('/api/runs');
    if (!response.ok) throw new Error(`the server answered ${response.status}`);
    infos = await response.json();
  } catch (error) {
    $('summary').textContent = `Cannot list the runs (${error.message}); retrying…`;
    setTimeout(start, RETRY_MS);
    return;
  }
  runs = infos.map((info, index) => new Run(info, index));
  for (const run of runs) follow(run, schedule);
  render();
}

wireControls();
// The streams open once the page has loaded: an event stream never ends, and one opened before
// the load event would hold it back.
if (document.readyState === 'complete') start();
else window.addEventListener('load', start, { once: true });

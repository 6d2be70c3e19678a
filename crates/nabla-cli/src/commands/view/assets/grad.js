// The expression stepper of `nabla grad EXPR --at ... --view`: asks the server for the
// expression's graph with its forward and backward passes (POST /api/grad), then steps through
// them node by node: forward, each operation's value; backward, each node's upstream gradient
// (a fan-in sums what its consumers sent) and, per input, upstream × local = contribution.

import { html } from './svg.js';
import { drawGraph } from './grad-graph.js';

const $ = (id) => document.getElementById(id);

const state = {
  /** The stepper's data for the expression shown, or null before the first answer. */
  data: null,
  /** Steps taken: 0 is the start, then one per forward step, then one per backward step. */
  index: 0,
  /** The variables offered a field: those of the last answer, and any nabla asked a value for since. */
  names: [],
  /** Every value typed, by variable name, kept when the expression drops and regains a name. */
  values: new Map(),
  /** Which request's answer is the latest asked for; older answers are dropped. */
  asked: 0,
};

/**
 * The name an error of nabla's is about, when it is that a variable has no value (`missing`) or
 * that a value is for a name the expression does not use (`unused`): the messages of
 * `Error::Unbound` and `Error::Unused` in crates/nabla-inspect/src/error.rs.
 */
function namedIn(message) {
  const missing = /^no value for the variable `([^`]+)`$/.exec(message);
  if (missing) return { missing: missing[1] };
  const unused = /^`([^`]+)` is given a value but /.exec(message);
  return unused ? { unused: unused[1] } : {};
}

/** One labelled number field per variable, holding the value last typed for it. */
function showValueFields(names) {
  const fieldset = $('values');
  const shown = [...fieldset.querySelectorAll('input')].map((input) => input.name);
  if (shown.join() === names.join()) return;
  for (const label of fieldset.querySelectorAll('label')) label.remove();
  for (const name of names) {
    if (!state.values.has(name)) state.values.set(name, '1');
    const input = html('input', {
      type: 'number', step: 'any', name, id: `value-${name}`, value: state.values.get(name),
    });
    input.addEventListener('input', () => {
      state.values.set(name, input.value);
      recompute();
    });
    fieldset.append(html('label', { for: input.id }, name, input));
  }
}

function showError(message) {
  const box = $('error');
  box.textContent = message ?? '';
  box.hidden = !message;
  $('graph').classList.toggle('stale', Boolean(message));
}

/** POSTs the expression with the values of `names` that are filled in; the answer as `{ ok, body }`. */
async function ask(expression, names) {
  const at = {};
  for (const name of names) {
    const text = state.values.get(name);
    if (text !== '' && text !== undefined) at[name] = Number(text);
  }
  try {
    const response = await fetch('/api/grad', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ expression, at }),
    });
    return { ok: response.ok, body: await response.json() };
  } catch (error) {
    return { ok: false, body: { error: `cannot reach nabla: ${error.message}` } };
  }
}

/**
 * Asks the server for the stepper's data of the expression and the values typed, and shows it.
 * nabla has the final word on the expression's variables: when it answers that one has no value,
 * the page offers a field for it (1 until typed) and asks again; when a value is for a name the
 * expression no longer uses, the field goes and the page asks again. Each name is added or
 * dropped once per edit, so the asking ends.
 */
async function recompute() {
  const expression = $('expression').value;
  state.asked += 1;
  const asked = state.asked;
  $('graph').setAttribute('aria-busy', 'true');
  const tried = new Set();
  let answer;
  for (;;) {
    answer = await ask(expression, state.names);
    if (asked !== state.asked) return;
    if (answer.ok) break;
    const { missing, unused } = namedIn(answer.body.error ?? '');
    // A name cut short in the message (`…` at its end, which no variable's name holds) is
    // shown as an error, not offered a field.
    if (missing && !missing.endsWith('…') && !state.names.includes(missing) && !tried.has(missing)) {
      state.names = [...state.names, missing];
      tried.add(missing);
    } else if (unused && state.names.includes(unused) && !tried.has(unused)) {
      state.names = state.names.filter((name) => name !== unused);
      tried.add(unused);
    } else {
      break;
    }
    showValueFields(state.names);
  }
  $('graph').setAttribute('aria-busy', 'false');
  if (!answer.ok) {
    showError(answer.body.error ?? 'nabla gave no reason');
    return;
  }
  showError(null);
  state.data = answer.body;
  state.names = state.data.variables;
  showValueFields(state.names);
  state.index = Math.min(state.index, stepCount());
  render();
}

function stepCount() {
  return state.data ? state.data.forward.length + state.data.backward.length : 0;
}

/** What is known after `state.index` steps, for the drawing. */
function viewAt(data, index) {
  const forwardDone = Math.min(index, data.forward.length);
  const backwardDone = Math.max(0, index - data.forward.length);
  const computed = new Set(data.forward.map((f) => f.node));
  const values = new Set(data.nodes.filter((n) => !computed.has(n.id)).map((n) => n.id));
  for (const step of data.forward.slice(0, forwardDone)) values.add(step.node);
  const view = { values, grads: new Set(), edgeGrads: new Map(), current: null, currentEdges: new Set() };
  if (index >= 1 && index <= data.forward.length) {
    const node = data.forward[index - 1].node;
    view.current = node;
    data.edges.forEach((edge, k) => { if (edge.to === node) view.currentEdges.add(k); });
  }
  data.backward.slice(0, backwardDone).forEach((step, k) => {
    const current = k === backwardDone - 1;
    view.grads.add(step.node);
    for (const input of step.inputs) {
      view.edgeGrads.set(input.edge, current ? input.text : input.contribution_text);
      if (current) view.currentEdges.add(input.edge);
    }
    if (current) {
      view.current = step.node;
      for (const received of step.from) view.currentEdges.add(received.edge);
    }
  });
  return view;
}

/** The text of the current step, and a line per input it sends to. */
function describe(data, index) {
  const forwardCount = data.forward.length;
  if (index === 0) {
    return {
      text: forwardCount > 0
        ? 'The variables have their values. Next (→) runs the forward pass, one operation at a time.'
        : 'Nothing to compute: the expression is a single value.',
      inputs: [],
    };
  }
  if (index <= forwardCount) {
    return { text: `Forward ${index} of ${forwardCount}: ${data.forward[index - 1].text}`, inputs: [] };
  }
  const k = index - forwardCount - 1;
  const step = data.backward[k];
  const first = k === 0 ? ' (∂L/∂L: the output is L)' : '';
  const inputs = step.inputs.map((input) => `to ${data.nodes[input.node].name}: local ${input.local}; `
    + `upstream × local = ${input.text}`);
  return { text: `Backward ${k + 1} of ${data.backward.length}, step [${step.number}]: ${step.text}${first}`, inputs };
}

function render() {
  const { data, index } = state;
  if (!data) return;
  const figure = $('graph');
  figure.replaceChildren(drawGraph(data, viewAt(data, index)));
  const { text, inputs } = describe(data, index);
  $('step-text').textContent = text;
  $('step-inputs').replaceChildren(...inputs.map((line) => html('li', { text: line })));
  $('omitted').hidden = data.omitted === 0;
  $('omitted').textContent = `${data.omitted} more nodes, further from the output, are not drawn; `
    + 'the steps through them are left out.';
  $('position').textContent = `step ${index} of ${stepCount()}`;
  $('back').disabled = index === 0;
  $('reset').disabled = index === 0;
  $('next').disabled = index === stepCount();
  const reached = data.backward.slice(0, Math.max(0, index - data.forward.length))
    .filter((step) => data.nodes[step.node].kind === 'leaf');
  $('gradients').replaceChildren(...reached.map((step) => {
    const node = data.nodes[step.node];
    return html('li', { 'data-name': node.name, text: `∂L/∂${node.name} = ${node.grad_text}` });
  }));
}

function go(index) {
  state.index = Math.max(0, Math.min(stepCount(), index));
  render();
}

function debounced(f, ms) {
  let timer;
  return () => {
    clearTimeout(timer);
    timer = setTimeout(f, ms);
  };
}

async function start() {
  $('next').addEventListener('click', () => go(state.index + 1));
  $('back').addEventListener('click', () => go(state.index - 1));
  $('reset').addEventListener('click', () => go(0));
  document.addEventListener('keydown', (event) => {
    if (event.target instanceof HTMLInputElement) return;
    const moves = { ArrowRight: state.index + 1, ArrowLeft: state.index - 1, Home: 0 };
    if (event.key in moves) {
      event.preventDefault();
      go(moves[event.key]);
    }
  });
  $('inputs').addEventListener('submit', (event) => event.preventDefault());
  $('expression').addEventListener('input', debounced(recompute, 250));

  let initial = { expression: 'apple*count*tax', at: { apple: 100, count: 2, tax: 1.1 } };
  try {
    const response = await fetch('/api/grad');
    if (response.ok) initial = await response.json();
  } catch (error) {
    showError(`cannot reach nabla: ${error.message}`);
    return;
  }
  $('expression').value = initial.expression;
  for (const [name, value] of Object.entries(initial.at)) state.values.set(name, String(value));
  state.names = Object.keys(initial.at);
  showValueFields(state.names);
  await recompute();
}

start();

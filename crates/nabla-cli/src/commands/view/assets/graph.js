// The model's graph for one batch (the `graph` event's SVG, checked before it is inserted), and
// beside it the chain-rule step of the node clicked: its upstream gradient, and for each input
// the local rule and what was sent, with the numbers of nabla's explanation.

import { html } from './svg.js';

/** Elements an SVG picture of a graph never needs and that could run or load something. */
const FORBIDDEN = ['script', 'foreignObject', 'iframe', 'object', 'embed', 'image', 'use', 'a', 'animate', 'set', 'style'];

/**
 * Parses `text` as SVG and strips anything that could run code or load a resource (scripts,
 * embedded documents, `on…` handlers, links); returns the `<svg>` element, or null when the text
 * is not an SVG document.
 */
export function safeSvg(text) {
  // Handlers are dropped from the tags before parsing too: the page's content security policy
  // would refuse them anyway, but it says so on the console as each one is parsed.
  const unhandled = text.replace(/<[^>]*>/g, (tag) => tag.replace(/\son[a-z]+\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)/gi, ''));
  const doc = new DOMParser().parseFromString(unhandled, 'image/svg+xml');
  const root = doc.documentElement;
  if (root.nodeName !== 'svg' || doc.getElementsByTagName('parsererror').length) return null;
  for (const name of FORBIDDEN) {
    for (const node of [...root.getElementsByTagName(name)]) node.remove();
  }
  for (const node of [root, ...root.querySelectorAll('*')]) {
    for (const attr of [...node.attributes]) {
      const name = attr.name.toLowerCase();
      if (name.startsWith('on') || name.endsWith('href') || (name === 'style' && /url\(/i.test(attr.value))) node.removeAttribute(attr.name);
    }
  }
  return document.importNode(root, true);
}

function shapeSuffix(values) {
  return values && values.shape.length ? ` [${values.shape.join(', ')}]` : '';
}

function isScalar(values) {
  return Array.isArray(values?.values) && values.values.length === 1;
}

/** A number as a factor of a product, as nabla writes it: (−1) rather than −1. */
function factor(text) {
  return text.startsWith('-') ? `(${text})` : text;
}

/** The line of one input, as `nabla grad --explain` and `--explain` write it. */
function inputLine(input, upstream) {
  const value = isScalar(input.value) ? ` (= ${input.value.text})` : shapeSuffix(input.value);
  const sent = input.sent ? input.sent.text : '?';
  const rule = input.rule;
  if (rule === 'Constant') return `to ${input.name}: no gradient (constant)`;
  if (rule === 'Unstated' || !rule) return `to ${input.name}${value}: sent ${sent} (the rule states no formula)`;
  if (rule.Map) return `to ${input.name}${value}: ${rule.Map.gradient} = ${sent}`;
  const { derivative, instantiated, local, summed } = rule.Elementwise;
  const localText = local ? local.text : '?';
  let text = derivative;
  if (instantiated) text += ` = ${instantiated}`;
  if (!text.endsWith(` = ${localText}`)) text += ` = ${localText}`;
  if (isScalar(local) && isScalar(upstream) && !summed) {
    return `to ${input.name}${value}: local ${text}; ${localText} × ${factor(upstream.text)} = ${sent}`;
  }
  return `to ${input.name}${value}: local ${text}; upstream ⊙ local${summed ? ', summed to its shape' : ''} = ${sent}`;
}

/** The panel of one explained step. */
export function stepPanel(step) {
  const number = `${step.number}${step.part ?? ''}`;
  const sum = step.contributions.length
    ? `${step.contributions.map(([from, g]) => `${g.text} (from ${from})`).join(' + ')} = ${step.upstream.text}`
    : step.upstream.text;
  const panel = html('div', { class: 'step', 'data-step': number });
  if (!step.symbol) {
    panel.append(html('h4', { text: `[${number}] ${step.name}${shapeSuffix(step.upstream)}` }),
      html('p', { class: 'rule', text: `∂L/∂${step.name} = ${sum}` }),
      html('p', { class: 'note', text: 'A leaf: this is the gradient it accumulates.' }));
    return panel;
  }
  const value = step.value ? (step.value.values ? ` = ${step.value.text}` : `: ${step.value.text}`) : '';
  const note = step.number === 1 && (!step.part || step.part === 'a') ? ' (∂L/∂L)' : '';
  panel.append(html('h4', { text: `[${number}] ${step.symbol}: ${step.name}${shapeSuffix(step.upstream)}${value}` }),
    html('p', { class: 'rule', text: `upstream gradient: ${sum}${note}` }));
  const list = html('ul', { class: 'inputs' });
  for (const input of step.inputs) list.append(html('li', { text: inputLine(input, step.upstream) }));
  panel.append(list);
  return panel;
}

/**
 * The graph section for a `graph` event: the picture (its nodes clickable) and the explanation of
 * the step chosen, `ui.step` (kept across redraws).
 */
export function graphView(event, ui, onPick) {
  const wrap = html('div', { class: 'graph-view' });
  const picture = html('div', { class: 'graph-picture', id: 'graph-picture' });
  const detail = html('div', { class: 'graph-detail', id: 'graph-detail' });
  const drawing = safeSvg(event.svg ?? '');
  if (!drawing) {
    picture.append(html('p', { class: 'problem', text: `The graph of epoch ${event.epoch} is not a readable SVG picture.` }));
  } else {
    picture.append(drawing);
  }
  const steps = event.explanation?.steps ?? [];
  const show = (number) => {
    const chosen = steps.filter((s) => String(s.number) === String(number));
    for (const node of picture.querySelectorAll('g.node.selected')) node.classList.remove('selected');
    picture.querySelector(`g.node[data-step="${CSS.escape(String(number))}"]`)?.classList.add('selected');
    detail.replaceChildren(...(chosen.length ? chosen.map(stepPanel) : [html('p', { class: 'note', text: `Step [${number}] is not in the explanation.` })]));
  };
  picture.addEventListener('click', (e) => {
    const node = e.target.closest?.('g.node[data-step]');
    if (!node) return;
    onPick(node.dataset.step);
    show(node.dataset.step);
  });
  const head = event.explanation ? `L = ${event.explanation.output} = ${event.explanation.value?.text ?? '?'}` : '';
  if (ui.step !== null && ui.step !== undefined) show(ui.step);
  else detail.append(html('p', { class: 'note', text: `${head ? `${head}. ` : ''}Click a node of the graph to see its step of the chain rule.` }));
  wrap.append(picture, detail);
  return wrap;
}

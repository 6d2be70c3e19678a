// The model's graph for one batch (the `graph` event's SVG, checked before it is inserted), and
// beside it the chain-rule step of the node clicked: its upstream gradient, and for each input
// the local rule and what was sent, with the numbers of nabla's explanation.

import { html } from './svg.js';

const SVG = 'http://www.w3.org/2000/svg';

/** The elements a graph picture is drawn with; any other element is dropped with its content. */
const ELEMENTS = new Set(['svg', 'g', 'path', 'rect', 'ellipse', 'polygon', 'polyline', 'line', 'circle', 'text',
  'tspan', 'title', 'defs', 'marker']);

/** Geometry and presentation attributes; any other attribute (handlers, links, styles) is dropped. */
const ATTRIBUTES = new Set(['x', 'y', 'x1', 'y1', 'x2', 'y2', 'cx', 'cy', 'r', 'rx', 'ry', 'dx', 'dy', 'width', 'height',
  'd', 'points', 'transform', 'viewBox', 'preserveAspectRatio', 'fill', 'fill-opacity', 'fill-rule', 'stroke',
  'stroke-width', 'stroke-opacity', 'stroke-dasharray', 'stroke-linecap', 'stroke-linejoin', 'opacity',
  'font-family', 'font-size', 'font-weight', 'font-style', 'text-anchor', 'dominant-baseline', 'paint-order',
  'class', 'data-step', 'id', 'refX', 'refY', 'markerWidth', 'markerHeight', 'markerUnits', 'orient',
  'marker-start', 'marker-mid', 'marker-end']);

/**
 * Whether an attribute of element `name` may be copied: allowed by name (an `id` on a marker
 * only, which arrows refer to), with no CSS escape (`u\72l(` reads as `url(`), and naming no
 * resource but `url(#local)`.
 */
function allowed(name, attr) {
  if (attr.namespaceURI !== null || !ATTRIBUTES.has(attr.localName)) return false;
  if ((attr.localName === 'id' && name !== 'marker') || attr.value.includes('\\')) return false;
  const urls = attr.value.match(/url\s*\(/gi) ?? [];
  return urls.length === 0 || /^url\(#[A-Za-z_][\w.-]*\)$/.test(attr.value.trim());
}

/**
 * A copy of the SVG element `node` made of allowed elements and attributes only, with its text;
 * null when `node` itself is not allowed (an element of another namespace, whatever its prefix).
 */
function cleanCopy(node) {
  if (node.namespaceURI !== SVG || !ELEMENTS.has(node.localName)) return null;
  const copy = document.createElementNS(SVG, node.localName);
  for (const attr of node.attributes) {
    if (allowed(node.localName, attr)) copy.setAttribute(attr.localName, attr.value);
  }
  for (const child of node.childNodes) {
    if (child.nodeType === Node.ELEMENT_NODE) {
      const kept = cleanCopy(child);
      if (kept) copy.append(kept);
    } else if (child.nodeType === Node.TEXT_NODE || child.nodeType === Node.CDATA_SECTION_NODE) {
      copy.append(document.createTextNode(child.data));
    }
  }
  return copy;
}

/**
 * Parses `text` as SVG and rebuilds it from an allow-list: SVG elements a graph is drawn with,
 * their geometry and presentation attributes, and text; everything else (scripts, embedded
 * documents, handlers, links, styles, elements of other namespaces) is left out. Returns the
 * `<svg>` element, or null when the text is not an SVG document.
 */
export function safeSvg(text) {
  // Handlers are dropped from the tags before parsing too: the page's content security policy
  // would refuse them anyway, but it says so on the console as each one is parsed.
  const unhandled = text.replace(/<[^>]*>/g, (tag) => tag.replace(/\son[a-z]+\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)/gi, ''));
  const doc = new DOMParser().parseFromString(unhandled, 'image/svg+xml');
  const root = doc.documentElement;
  if (root.localName !== 'svg' || doc.getElementsByTagNameNS('*', 'parsererror').length) return null;
  return cleanCopy(root);
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

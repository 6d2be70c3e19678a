// Draws the stepper's graph as SVG at the positions nabla laid it out at (left to right, as the
// textbook draws), showing what the current step has computed: values forward, gradients back.

import { svg } from './svg.js';

const LINE_HEIGHT = 15;
const PADDING_Y = 6;
/** The most the graph is enlarged to fill the page: the layout's 12 px font reads small. */
const ZOOM = 1.4;

/** The curve through an edge's route, leaving and entering horizontally. */
function pathOf(route) {
  let d = `M${route[0][0]},${route[0][1]}`;
  for (let i = 1; i < route.length; i += 1) {
    const [a, b] = [route[i - 1], route[i]];
    const bend = (b[0] - a[0]) / 2;
    d += ` C${a[0] + bend},${a[1]} ${b[0] - bend},${b[1]} ${b[0]},${b[1]}`;
  }
  return d;
}

/** The point halfway along an edge's route, where its labels go. */
function middleOf(route) {
  const segments = route.length - 1;
  const at = segments / 2;
  const i = Math.min(Math.floor(at), segments - 1);
  const t = at - i;
  const [a, b] = [route[i], route[i + 1]];
  const bend = (b[0] - a[0]) / 2;
  const u = 1 - t;
  const mix = (p, q, r, s) => u * u * u * p + 3 * u * u * t * q + 3 * u * t * t * r + t * t * t * s;
  return [mix(a[0], a[0] + bend, b[0] - bend, b[0]), mix(a[1], a[1], b[1], b[1])];
}

/**
 * The graph of `data` (the stepper's JSON) as an SVG element, in the state `view` gives:
 * `values` (ids of nodes whose value is known), `grads` (ids whose gradient is known),
 * `edgeGrads` (edge index → text under it), `current` (the node of the current step, or null)
 * and `currentEdges` (edge indices the current step uses).
 */
export function drawGraph(data, view) {
  const picture = svg('svg', {
    xmlns: 'http://www.w3.org/2000/svg',
    width: '100%',
    style: `max-width: ${data.width * ZOOM}px; height: auto`,
    viewBox: `0 0 ${data.width} ${data.height}`,
    'font-family': 'DejaVu Sans Mono, Menlo, Consolas, monospace',
    'font-size': 12,
    role: 'img',
    'aria-label': `the graph of ${data.expression}`,
  });
  picture.append(svg('defs', {}, svg('marker', {
    id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 8, markerHeight: 8,
    markerUnits: 'userSpaceOnUse', orient: 'auto',
  }, svg('path', { d: 'M0,0 L10,5 L0,10 z', fill: '#555555' }))));

  data.edges.forEach((edge, k) => {
    const [x, y] = middleOf(edge.route);
    // The value over the gradient at the middle of the edge; of two edges between the same
    // nodes (x*x), which run close together, the first one's labels go above both, the
    // second one's below.
    const twins = data.edges.filter((e) => e.from === edge.from && e.to === edge.to);
    let [valueY, gradY] = [y - 4, y + 12];
    if (twins.length === 2) [valueY, gradY] = twins[0] === edge ? [y - 30, y - 16] : [y + 16, y + 30];
    const group = svg('g', {
      class: view.currentEdges.has(k) ? 'edge current' : 'edge',
      'data-edge': k,
    }, svg('path', { d: pathOf(edge.route), 'marker-end': 'url(#arrow)' }));
    if (view.values.has(edge.from)) {
      group.append(svg('text', { x, y: valueY, 'text-anchor': 'middle', class: 'value' },
        data.nodes[edge.from].value_text));
    }
    if (view.edgeGrads.has(k)) {
      group.append(svg('text', { x, y: gradY, 'text-anchor': 'middle', class: 'grad' },
        view.edgeGrads.get(k)));
    }
    picture.append(group);
  });

  for (const node of data.nodes) {
    const classes = ['node', node.kind];
    if (node.id === view.current) classes.push('current');
    const group = svg('g', { class: classes.join(' '), 'data-node': node.id, 'data-name': node.name });
    group.append(svg('rect', {
      x: node.x, y: node.y, width: node.w, height: node.h, rx: node.kind === 'leaf' ? 12 : 3,
    }));
    const lines = [[node.title, 'title']];
    if (node.kind !== 'constant') {
      if (node.name !== node.title) lines.push([node.name, 'name']);
      lines.push([view.values.has(node.id) ? `= ${node.value_text}` : '', 'value']);
      if (node.grad_text !== null) {
        lines.push([view.grads.has(node.id) ? `grad ${node.grad_text}` : '', 'grad']);
      }
    }
    const top = node.y + PADDING_Y + LINE_HEIGHT - 4;
    const centre = node.x + node.w / 2;
    lines.forEach(([text, role], j) => {
      if (text) {
        group.append(svg('text', {
          x: centre, y: top + j * LINE_HEIGHT, 'text-anchor': 'middle', class: role,
        }, text));
      }
    });
    picture.append(group);
  }
  return picture;
}

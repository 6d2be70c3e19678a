// Pictures drawn on canvases: the decision boundary of a 2-D classifier (each cell coloured by
// its predicted class, paler where the network is less sure, the points on top), and for a
// convolutional network the first convolution's filters and one image's feature maps.

import { html } from './svg.js';

const CLASS_COLOURS = [[31, 119, 180], [214, 39, 40], [44, 160, 44], [148, 103, 189], [255, 127, 14], [23, 190, 207], [140, 86, 75], [227, 119, 194]];

function canvas(width, height, label) {
  const c = html('canvas', { width, height, role: 'img', 'aria-label': label });
  return [c, c.getContext('2d')];
}

/** The decision boundary of a `boundary` event, `size` pixels square. */
export function boundary(event, size = 340) {
  const n = event.side;
  const [c, ctx] = canvas(size, size, `decision boundary at epoch ${event.epoch}`);
  c.id = 'boundary-canvas';
  if (!(n > 0) || event.classes?.length !== n * n) return c;
  const cell = size / n;
  for (let row = 0; row < n; row++) {
    for (let col = 0; col < n; col++) {
      const i = row * n + col;
      const [r, g, b] = CLASS_COLOURS[event.classes[i] % CLASS_COLOURS.length] ?? [128, 128, 128];
      const sure = event.confidence?.[i] ?? 1;
      const a = 0.15 + 0.45 * Math.max(0, Math.min(1, sure));
      ctx.fillStyle = `rgba(${r},${g},${b},${a.toFixed(3)})`;
      // Row 0 is at y = lo, drawn at the bottom; edges rounded so cells neither overlap nor gap.
      const left = Math.round(col * cell);
      const top = Math.round(size - (row + 1) * cell);
      ctx.fillRect(left, top, Math.round((col + 1) * cell) - left, Math.round(size - row * cell) - top);
    }
  }
  const [x0, x1] = event.x;
  const [y0, y1] = event.y;
  const points = event.points ?? { x: [], y: [], label: [] };
  for (let i = 0; i < points.x.length; i++) {
    const px = ((points.x[i] - x0) / (x1 - x0)) * size;
    const py = size - ((points.y[i] - y0) / (y1 - y0)) * size;
    const [r, g, b] = CLASS_COLOURS[points.label[i] % CLASS_COLOURS.length] ?? [0, 0, 0];
    ctx.beginPath();
    ctx.arc(px, py, 3, 0, 2 * Math.PI);
    ctx.fillStyle = `rgb(${r},${g},${b})`;
    ctx.fill();
    ctx.strokeStyle = 'white';
    ctx.lineWidth = 0.8;
    ctx.stroke();
  }
  return c;
}

/** Draws `values` (h × w, row-major from `offset`) at (x, y), `pixel` screen pixels per value. */
function paint(ctx, values, offset, h, w, x, y, pixel, colour) {
  for (let r = 0; r < h; r++) {
    for (let q = 0; q < w; q++) {
      ctx.fillStyle = colour(values[offset + r * w + q]);
      ctx.fillRect(x + q * pixel, y + r * pixel, pixel, pixel);
    }
  }
}

/** Blue for negative, white for 0, red for positive, scaled by `max`. */
function diverging(max) {
  return (v) => {
    const t = Math.max(-1, Math.min(1, (v ?? 0) / (max || 1)));
    const fade = Math.round(255 * (1 - Math.abs(t)));
    return t < 0 ? `rgb(${fade},${fade},255)` : `rgb(255,${fade},${fade})`;
  };
}

/** Black for the lowest value, white for the highest. */
function grey(lo, hi) {
  return (v) => {
    const g = Math.round(255 * (hi > lo ? ((v ?? lo) - lo) / (hi - lo) : 0.5));
    return `rgb(${g},${g},${g})`;
  };
}

function range(values, offset, length) {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = offset; i < offset + length; i++) {
    const v = values[i];
    if (typeof v === 'number' && Number.isFinite(v)) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  }
  return [lo, hi];
}

/** A grid of `count` maps of h × w, each normalised by `colourOf(index)`. */
function grid(count, h, w, label, draw) {
  const pixel = Math.max(3, Math.min(16, Math.floor(96 / Math.max(h, w))));
  const columns = Math.min(count, 8);
  const rows = Math.ceil(count / columns);
  const gap = 4;
  const [c, ctx] = canvas(columns * (w * pixel + gap), rows * (h * pixel + gap), label);
  for (let i = 0; i < count; i++) {
    draw(ctx, i, (i % columns) * (w * pixel + gap), Math.floor(i / columns) * (h * pixel + gap), pixel);
  }
  return c;
}

/** The first convolution's filters of a `filters` event: one row of input channels per filter. */
export function filters(event) {
  const [o, i, kh, kw] = event.shape;
  const values = event.values ?? [];
  const max = Math.max(...values.filter(Number.isFinite).map(Math.abs), 0);
  const colour = diverging(max);
  const c = grid(o * i, kh, kw, `${event.layer} filters at epoch ${event.epoch}`, (ctx, k, x, y, pixel) => {
    paint(ctx, values, k * kh * kw, kh, kw, x, y, pixel, colour);
  });
  c.id = 'filters-canvas';
  return html('figure', { class: 'maps' }, html('figcaption', { text: `${event.layer}: ${o} filters of ${i}×${kh}×${kw} (blue negative, red positive)` }), c);
}

function mapGrid(map, label) {
  const [channels, h, w] = map.shape;
  const values = map.values ?? [];
  return grid(channels, h, w, label, (ctx, k, x, y, pixel) => {
    const [lo, hi] = range(values, k * h * w, h * w);
    paint(ctx, values, k * h * w, h, w, x, y, pixel, grey(lo, hi));
  });
}

/** One image and what each convolution made of it, from a `feature_maps` event. */
export function featureMaps(event) {
  const box = html('div', { class: 'feature-maps', id: 'feature-maps' });
  box.append(html('figure', { class: 'maps' }, html('figcaption', { text: 'input' }), mapGrid(event.input, 'input image')));
  for (const layer of event.layers ?? []) {
    box.append(html('figure', { class: 'maps' }, html('figcaption', { text: `${layer.label}: ${layer.shape[0]} maps of ${layer.shape[1]}×${layer.shape[2]}` }), mapGrid(layer, `${layer.label} feature maps`)));
  }
  return box;
}

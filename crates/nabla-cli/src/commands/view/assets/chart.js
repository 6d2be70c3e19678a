// A line chart drawn in SVG: several series (each a colour and a dash), a linear or base-10
// logarithmic y axis, optional shaded bands, a legend, and a hover read-out giving every
// series' value at the point nearest the pointer.

import { formatNumber, html, linearTicks, logTicks, powerLabel, scale, svg } from './svg.js';

const WIDTH = 520;
const HEIGHT = 260;
const MARGIN = { left: 58, right: 14, top: 12, bottom: 38 };

/** Whether a value can be drawn on the axis. */
function drawable(y, log) {
  return typeof y === 'number' && Number.isFinite(y) && (!log || y > 0);
}

function extent(values) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

/** The y range: the data's, widened to include `include` values, padded a little. */
function yDomain(series, log, include) {
  const ys = series.flatMap((s) => s.points.map((p) => p[1]).filter((y) => drawable(y, log)));
  let [lo, hi] = extent(ys.concat(include.filter((y) => drawable(y, log))));
  if (!Number.isFinite(lo)) return log ? [0.1, 10] : [0, 1];
  if (log) return [10 ** Math.floor(Math.log10(lo)), 10 ** Math.ceil(Math.log10(hi) + 1e-9)];
  if (lo === hi) return [lo - 0.5, hi + 0.5];
  const pad = (hi - lo) * 0.05;
  return [lo >= 0 && lo - pad < 0 ? 0 : lo - pad, hi + pad];
}

/** The path of a series' drawable points; a gap where a point is not drawable. */
function pathOf(points, x, y, log) {
  let d = '';
  let pen = false;
  for (const [px, py] of points) {
    if (!drawable(py, log)) {
      pen = false;
      continue;
    }
    d += `${pen ? 'L' : 'M'}${x(px).toFixed(1)},${y(py).toFixed(1)}`;
    pen = true;
  }
  return d;
}

/**
 * Draws a chart. `options`: `series` ([{label, colour, dash?, width?, opacity?, points: [[x, y]],
 * markers?, data?: {attribute: value}, hover?: false}]), `xLabel`, `yLabel`, `log`, `bands`
 * ([{from, to, colour, label}]), `areas` (bands whose edge moves: [{side: 'below' | 'above',
 * points: [[x, edge]], colour, label}]), `xDomain`, `include` (y values the axis must show), `legend`
 * (false to leave it out), `legendItems` ([{label, colour, dash?}] instead of one item per
 * series), `describe` (hover: x → heading text).
 */
export function lineChart(options) {
  const { series, log = false, bands = [], areas = [], legend = true } = options;
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const [x0, x1] = options.xDomain ?? (xs.length ? extent(xs) : [0, 1]);
  const xd = x0 === x1 ? [x0 - 0.5, x1 + 0.5] : [x0, x1];
  const edges = areas.flatMap((a) => a.points.map((p) => (a.side === 'below' ? p[1] / 3 : p[1] * 3)));
  const yd = yDomain(series, log, (options.include ?? []).concat(edges, bands.flatMap((b) => [b.from, b.to]).filter((v) => v > 0 && v < Infinity)));
  const x = scale(xd, [MARGIN.left, WIDTH - MARGIN.right]);
  const y = scale(yd, [HEIGHT - MARGIN.bottom, MARGIN.top], log);
  const root = svg('svg', { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: 'chart', role: 'img' });

  for (const band of bands) {
    const top = y(Math.min(band.to, yd[1]));
    const bottom = y(Math.max(band.from, yd[0]));
    if (bottom - top > 0.5) {
      root.append(svg('rect', { x: MARGIN.left, y: top, width: WIDTH - MARGIN.left - MARGIN.right, height: bottom - top, fill: band.colour, class: 'band' }),
        svg('text', { x: WIDTH - MARGIN.right - 4, y: band.from <= yd[0] ? bottom - 5 : top + 12, 'text-anchor': 'end', class: 'band-label' }, band.label));
    }
  }
  for (const area of areas) drawArea(root, area, x, y, log);
  const yTicks = log ? logTicks(...yd) : linearTicks(...yd);
  for (const t of yTicks) {
    root.append(svg('line', { x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: y(t), y2: y(t), class: 'grid' }),
      svg('text', { x: MARGIN.left - 6, y: y(t) + 4, 'text-anchor': 'end', class: 'tick' }, log ? powerLabel(t) : formatNumber(t)));
  }
  for (const t of linearTicks(...xd, 6)) {
    root.append(svg('line', { x1: x(t), x2: x(t), y1: HEIGHT - MARGIN.bottom, y2: HEIGHT - MARGIN.bottom + 4, class: 'axis' }),
      svg('text', { x: x(t), y: HEIGHT - MARGIN.bottom + 16, 'text-anchor': 'middle', class: 'tick' }, formatNumber(t)));
  }
  root.append(
    svg('line', { x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: HEIGHT - MARGIN.bottom, y2: HEIGHT - MARGIN.bottom, class: 'axis' }),
    svg('line', { x1: MARGIN.left, x2: MARGIN.left, y1: MARGIN.top, y2: HEIGHT - MARGIN.bottom, class: 'axis' }),
    svg('text', { x: (MARGIN.left + WIDTH - MARGIN.right) / 2, y: HEIGHT - 4, 'text-anchor': 'middle', class: 'axis-label' }, options.xLabel ?? ''),
    svg('text', { x: 12, y: (MARGIN.top + HEIGHT - MARGIN.bottom) / 2, 'text-anchor': 'middle', class: 'axis-label', transform: `rotate(-90 12 ${(MARGIN.top + HEIGHT - MARGIN.bottom) / 2})` }, options.yLabel ?? ''),
  );

  for (const s of series) {
    const group = svg('g', { class: 'series', ...(s.data ?? {}) });
    group.append(svg('path', {
      d: pathOf(s.points, x, y, log), fill: 'none', stroke: s.colour, 'stroke-width': s.width ?? 1.8,
      'stroke-dasharray': s.dash, opacity: s.opacity ?? 1, 'stroke-linejoin': 'round',
    }));
    if (s.markers) {
      for (const [px, py] of s.points) {
        if (drawable(py, log)) group.append(svg('circle', { cx: x(px), cy: y(py), r: 2.6, fill: s.colour, class: 'point' }));
      }
    }
    root.append(group);
  }

  const box = html('figure', { class: 'chart-box' });
  if (options.title) box.append(html('figcaption', { text: options.title }));
  box.append(root);
  if (legend) box.append(legendOf(options.legendItems ?? series.filter((item) => item.legend !== false)));
  addHover(box, root, series.filter((s) => s.hover !== false), x, y, xd, log, options.describe);
  return box;
}

/** Shades the chart below or above a curve, with the area's label at its right end. */
function drawArea(root, area, x, y, log) {
  const points = area.points.filter((p) => drawable(p[1], log));
  if (points.length === 0) return;
  const top = MARGIN.top;
  const bottom = HEIGHT - MARGIN.bottom;
  const clamp = (v) => Math.max(top, Math.min(bottom, v));
  const edge = points.map(([px, py]) => `${x(px).toFixed(1)},${clamp(y(py)).toFixed(1)}`);
  const base = area.side === 'below' ? bottom : top;
  const first = x(points[0][0]).toFixed(1);
  const last = x(points[points.length - 1][0]).toFixed(1);
  root.append(svg('polygon', { points: [`${first},${base}`, ...edge, `${last},${base}`].join(' '), fill: area.colour, class: 'band' }));
  const end = clamp(y(points[points.length - 1][1]));
  root.append(svg('text', { x: WIDTH - MARGIN.right - 4, y: area.side === 'below' ? Math.min(bottom - 5, end + 14) : Math.max(top + 12, end - 6), 'text-anchor': 'end', class: 'band-label' }, area.label));
}

function legendOf(items) {
  const list = html('ul', { class: 'legend' });
  for (const s of items) {
    const sample = svg('svg', { width: 26, height: 10 }, svg('line', { x1: 1, x2: 25, y1: 5, y2: 5, stroke: s.colour, 'stroke-width': 2.5, 'stroke-dasharray': s.dash }));
    list.append(html('li', {}, sample, ` ${s.label}`));
  }
  return list;
}

/** The hover read-out: a guide line at the nearest x and each series' value there. */
function addHover(box, root, series, x, y, xd, log, describe) {
  const guide = svg('line', { y1: MARGIN.top, y2: HEIGHT - MARGIN.bottom, class: 'guide', visibility: 'hidden' });
  const dots = svg('g');
  root.append(guide, dots);
  const tip = html('div', { class: 'tip', hidden: '' });
  box.append(tip);
  root.addEventListener('mousemove', (event) => {
    const rect = root.getBoundingClientRect();
    const px = xd[0] + (((event.clientX - rect.left) / rect.width) * WIDTH - MARGIN.left) / (WIDTH - MARGIN.left - MARGIN.right) * (xd[1] - xd[0]);
    let nearest = null;
    for (const s of series) {
      for (const p of s.points) {
        if (nearest === null || Math.abs(p[0] - px) < Math.abs(nearest - px)) nearest = p[0];
      }
    }
    if (nearest === null) return;
    dots.replaceChildren();
    const rows = [];
    for (const s of series) {
      const point = closest(s.points, nearest);
      if (!point || Math.abs(point[0] - nearest) > (xd[1] - xd[0]) / 50) continue;
      rows.push(html('div', {}, html('span', { class: 'swatch', style: `background:${s.colour}` }), `${s.label}: ${formatNumber(point[1])}`));
      if (drawable(point[1], log)) dots.append(svg('circle', { cx: x(point[0]), cy: y(point[1]), r: 4, fill: 'none', stroke: s.colour, 'stroke-width': 2 }));
    }
    guide.setAttribute('x1', x(nearest));
    guide.setAttribute('x2', x(nearest));
    guide.setAttribute('visibility', 'visible');
    tip.replaceChildren(html('div', { class: 'tip-head', text: describe ? describe(nearest) : `x = ${formatNumber(nearest)}` }), ...rows);
    tip.hidden = false;
    const left = ((x(nearest) / WIDTH) * rect.width);
    tip.style.left = `${Math.min(left + 12, rect.width - 170)}px`;
  });
  root.addEventListener('mouseleave', () => {
    tip.hidden = true;
    guide.setAttribute('visibility', 'hidden');
    dots.replaceChildren();
  });
}

function closest(points, x) {
  let best = null;
  for (const p of points) {
    if (best === null || Math.abs(p[0] - x) < Math.abs(best[0] - x)) best = p;
  }
  return best;
}

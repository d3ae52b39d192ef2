// The rollout chart: upgrades in flight (solid) against the limit (dashed) per kind over the
// last minutes, as SVG built with createElementNS (no markup parsing). Values are step lines:
// a sample holds until the next one, and the last one holds until now.

import {clear, el} from './dom.js';

const SVG = 'http://www.w3.org/2000/svg';
const W = 800, H = 280;
const PAD = {left: 48, right: 16, top: 12, bottom: 28};

function svg(tag, attrs = {}) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  return node;
}

function niceMax(value) {
  if (value <= 5) return 5;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) {
    if (value <= step * magnitude) return step * magnitude;
  }
  return 10 * magnitude;
}

function stepPath(samples, key, x, y, nowMs) {
  let d = '';
  samples.forEach((s, i) => {
    const px = x(s.t).toFixed(1), py = y(s[key]).toFixed(1);
    d += i === 0 ? `M${px} ${py}` : `H${px}V${py}`;
  });
  if (samples.length) d += `H${x(nowMs).toFixed(1)}`;
  return d;
}

// Draws `history` (Map kind -> samples, oldest first) into `container` (replacing it) over the
// window [nowMs - windowMs, nowMs]. `kinds` fixes the order and colours; kinds that never had
// a slot running nor a non-default limit in the window are still drawn if listed.
export function drawRolloutChart(container, legend, history, kinds, nowMs, windowMs) {
  const start = nowMs - windowMs;
  const series = [];
  let top = 1;
  kinds.forEach((kind, index) => {
    const all = history.get(kind) || [];
    // Keep the last sample before the window so the line starts at the left edge.
    let first = all.findIndex((s) => s.t >= start);
    if (first === -1) first = all.length;
    const visible = all.slice(Math.max(0, first - 1)).map((s) => ({...s, t: Math.max(s.t, start)}));
    if (!visible.length) return;
    for (const s of visible) top = Math.max(top, s.running, s.limit);
    series.push({kind, index, samples: visible});
  });
  const yMax = niceMax(top * 1.1);
  const x = (t) => PAD.left + ((t - start) / windowMs) * (W - PAD.left - PAD.right);
  const y = (v) => H - PAD.bottom - (v / yMax) * (H - PAD.top - PAD.bottom);

  const root = svg('svg', {viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img',
                           'aria-label': 'upgrades in flight and limit per kind over time'});
  const grid = svg('g', {class: 'grid'});
  for (let i = 0; i <= 4; i++) {
    const v = (yMax / 4) * i;
    grid.append(svg('line', {x1: PAD.left, x2: W - PAD.right, y1: y(v), y2: y(v)}));
    const label = svg('text', {x: PAD.left - 6, y: y(v) + 4, class: 'axis-y'});
    label.textContent = String(Math.round(v));
    grid.append(label);
  }
  const minutes = Math.round(windowMs / 60000);
  for (let m = 0; m <= minutes; m += minutes > 5 ? 2 : 1) {
    const t = nowMs - m * 60000;
    grid.append(svg('line', {x1: x(t), x2: x(t), y1: PAD.top, y2: H - PAD.bottom, class: 'vline'}));
    const label = svg('text', {x: x(t), y: H - 8, class: 'axis-x'});
    label.textContent = m === 0 ? 'now' : `−${m} min`;
    grid.append(label);
  }
  root.append(grid);
  for (const s of series) {
    root.append(svg('path', {d: stepPath(s.samples, 'limit', x, y, nowMs),
                             class: `line limit series-${s.index}`}));
    root.append(svg('path', {d: stepPath(s.samples, 'running', x, y, nowMs),
                             class: `line running series-${s.index}`}));
  }
  clear(container).append(root);

  clear(legend);
  for (const s of series) {
    const last = s.samples[s.samples.length - 1];
    legend.append(el('span', {class: `legend-item series-${s.index}`},
                     el('span', {class: 'swatch'}),
                     `${s.kind}: ${last.running} in flight / limit ${last.limit}`));
  }
  if (!series.length) legend.append(el('span', {class: 'muted'}, 'Waiting for the first sample…'));
}

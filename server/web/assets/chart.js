// The rollout chart: upgrades in flight (solid) against the limit (dashed) per kind over the
// last minutes, as SVG built with createElementNS (no markup parsing). Values are step lines:
// a sample holds until the next one, and the last one holds until now.

import {clear, el} from './dom.js';

const SVG = 'http://www.w3.org/2000/svg';
const W = 1200, H = 300;
const PAD = {left: 48, right: 16, top: 12, bottom: 28};

function svg(tag, attrs = {}) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  return node;
}

// The smallest "round" top of the y axis at or above `value` whose four grid steps are whole
// numbers (4, 8, 20, 40, 60, 100, 120, 200…).
function niceMax(value) {
  const step = Math.max(1, value / 4);
  const magnitude = 10 ** Math.floor(Math.log10(step));
  for (const m of [1, 1.5, 2, 2.5, 3, 5, 10]) {
    if (step <= m * magnitude && Number.isInteger(m * magnitude)) return 4 * m * magnitude;
  }
  return 40 * magnitude;
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

const TICKS_S = [5, 10, 15, 30, 60, 120, 300];

// Draws `history` (Map kind -> samples, oldest first) of `kinds` (which fixes the order and the
// colours) into `container`, replacing what was there, and a legend into `legend`. The time
// axis ends now and spans what is known, from one minute up to `maxWindowMs`. Returns the span
// in ms.
export function drawRolloutChart(container, legend, history, kinds, nowMs, maxWindowMs) {
  let oldest = nowMs;
  for (const kind of kinds) {
    const samples = history.get(kind) || [];
    if (samples.length) oldest = Math.min(oldest, samples[0].t);
  }
  const windowMs = Math.min(maxWindowMs, Math.max(60 * 1000, nowMs - oldest));
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
  const tick = TICKS_S.find((s) => windowMs / 1000 / s <= 8) || 600;
  for (let ago = 0; ago * 1000 <= windowMs; ago += tick) {
    const t = nowMs - ago * 1000;
    grid.append(svg('line', {x1: x(t), x2: x(t), y1: PAD.top, y2: H - PAD.bottom, class: 'vline'}));
    const label = svg('text', {x: x(t), y: H - 8, class: 'axis-x'});
    label.textContent = ago === 0 ? 'now' : ago < 60 ? `−${ago} s` : `−${ago / 60} min`;
    grid.append(label);
  }
  root.append(grid);
  for (const s of series) {
    const running = stepPath(s.samples, 'running', x, y, nowMs);
    const base = y(0).toFixed(1);
    root.append(svg('path', {d: `${running}V${base}H${x(s.samples[0].t).toFixed(1)}Z`,
                             class: `area series-${s.index}`}));
  }
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
  if (series.length) {
    legend.append(el('span', {class: 'legend-item muted'}, 'solid: in flight · dashed: limit'));
  } else {
    legend.append(el('span', {class: 'muted'}, 'Waiting for the first sample…'));
  }
  return windowMs;
}

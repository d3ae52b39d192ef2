// Rollout: per kind running / limit, queue, gate, failures and the forecast, from the live
// feed (live.js), and the chart of in-flight upgrades against the limit over 10 minutes.
// Canary wave, resume and abort call rollout-canary / rollout-resume / rollout-abort.

import {cmd} from './api.js';
import {drawRolloutChart} from './chart.js';
import {
  LIMIT_KINDS, button, byId, clear, el, fillTable, fmtDuration, fmtNumber, showError, showOk,
} from './dom.js';
import * as live from './live.js';

let unsubscribe = null;
let chartTimer = null;

function card(id, label, value, note) {
  return el('div', {class: 'card stat', id},
            el('div', {class: 'stat-label'}, label),
            el('div', {class: 'stat-value', 'data-testid': `${id}-value`}, value),
            note ? el('div', {class: 'stat-note'}, note) : null);
}

async function gateAction(kind, action) {
  const result = byId('rollout-action-result');
  showError(byId('rollout-error'), null);
  try {
    const gate = await cmd(`rollout-${action}`, {kind});
    showOk(result, `${kind}: ${action === 'abort' ? 'aborted, policy is now disabled' : 'resumed'} (phase ${gate.phase})`);
  } catch (e) {
    showOk(result, '');
    showError(byId('rollout-error'), e);
  }
}

function gateCell(kind, gate, blocked) {
  const parts = [];
  if (blocked) parts.push(el('div', {class: 'bad'}, `blocked: ${blocked}`));
  if (!gate) return parts.length ? parts : '—';
  let text = gate.phase || 'open';
  if (gate.phase === 'wave') text = `wave ${gate.wave_granted}/${gate.wave_size}`;
  parts.push(el('span', {class: gate.phase === 'halted' ? 'badge bad' : 'badge'}, text));
  if (gate.phase === 'halted') {
    if (gate.halt_reason) parts.push(el('div', {class: 'bad'}, gate.halt_reason));
    parts.push(button('Resume', {'data-testid': `rollout-resume-${kind}`}, () => gateAction(kind, 'resume')));
  }
  if (gate.canary || gate.halt_after) {
    parts.push(el('div', {class: 'muted'},
                  `wave ${gate.canary || 'none'}, halt after ${gate.halt_after || 'never'}; ${gate.failures} of ${gate.ended} failed`));
  }
  return parts;
}

function render(snapshot) {
  const rollout = snapshot.rollout || {};
  const limits = (snapshot.limits && snapshot.limits.limits) || {};
  const clients = rollout.clients || {};
  const failures = rollout.failures || {};
  const forecast = rollout.forecast || {};
  clear(byId('rollout-summary')).append(
      card('rollout-site-version', 'Site version', rollout.site_version || '—'),
      card('rollout-progress', 'Up to date', `${fmtNumber(clients.up_to_date ?? 0)} / ${fmtNumber(clients.total ?? 0)}`,
           `${fmtNumber(clients.outdated ?? 0)} outdated`),
      card('rollout-eta', 'Estimated completion',
           forecast.to_100_s === null || forecast.to_100_s === undefined
               ? (clients.outdated ? 'unknown' : 'done')
               : `in ${fmtDuration(forecast.to_100_s)}`,
           forecast.to_90_s === null || forecast.to_90_s === undefined
               ? '90 %: unknown' : `90 % in ${fmtDuration(forecast.to_90_s)}`),
      card('rollout-failures', 'Failures',
           fmtNumber((failures.failed ?? 0) + (failures.rolled_back ?? 0)),
           `${fmtNumber(failures.failed ?? 0)} failed · ${fmtNumber(failures.rolled_back ?? 0)} rolled back · ${fmtNumber(failures.expired ?? 0)} leases expired`));
  const unknown = byId('rollout-unknown');
  clear(unknown);
  for (const reason of forecast.unknown || []) unknown.append(el('li', {}, `forecast: ${reason}`));

  const scopes = rollout.scopes || {};
  const kinds = [...new Set([...LIMIT_KINDS, ...Object.keys(scopes)])].filter((k) => scopes[k] || limits[k]);
  const versions = (clients.by_kind_version || {});
  fillTable(byId('rollout-table'), kinds, [
    {title: 'Kind', cell: (k) => k},
    {title: 'Running', class: 'num', cell: (k) => el('span', {'data-testid': `rollout-running-${k}`},
                                                      fmtNumber(limits[k]?.running ?? scopes[k]?.running ?? 0))},
    {title: 'Limit', class: 'num', cell: (k) => el('span', {'data-testid': `rollout-limit-${k}`},
                                                    fmtNumber(limits[k]?.max_concurrent ?? scopes[k]?.limit ?? 0),
                                                    limits[k]?.adaptive ? ` (auto ${limits[k].adaptive.min}–${limits[k].adaptive.max})` : '')},
    {title: 'Waiting', class: 'num', cell: (k) => el('span', {'data-testid': `rollout-waiting-${k}`},
                                                      fmtNumber(limits[k]?.waiting ?? scopes[k]?.waiting ?? 0))},
    {title: 'One upgrade takes', class: 'num', cell: (k) => {
      const s = scopes[k];
      if (!s || !s.estimated_upgrade_s) return '—';
      return s.estimate_samples
          ? `${s.estimated_upgrade_s.toFixed(1)} s (${fmtNumber(s.estimate_samples)} measured)`
          : `≈${Math.round(s.estimated_upgrade_s)} s (initial guess)`;
    }},
    {title: 'Versions', cell: (k) => Object.entries(versions[k] || {})
        .map(([v, n]) => `${v}: ${fmtNumber(n)}`).join(', ') || '—'},
    {title: 'Policy', cell: (k) => snapshot.limits?.policy?.[k]?.mode || '—'},
    {title: 'Gate', cell: (k) => gateCell(k, scopes[k]?.gate, scopes[k]?.blocked)},
    {title: '', cell: (k) => scopes[k]?.gate && scopes[k].gate.phase !== 'halted' &&
        snapshot.limits?.policy?.[k]?.mode !== 'disabled' &&
        ((limits[k]?.running ?? 0) > 0 || (limits[k]?.waiting ?? 0) > 0)
        ? button(abortArmed(k) ? 'Click again to abort' : 'Abort',
                 {class: 'danger', 'data-testid': `rollout-abort-${k}`},
                 (event) => confirmAbort(event.target, k))
        : ''},
  ], (k) => ({'data-testid': `rollout-row-${k}`}), 'No upgrade scopes.');
  byId('rollout-feed').textContent = live.feedMode() === 'stream'
      ? 'live' : live.feedMode() === 'polling' ? 'live (polling every second)' : '';
  drawChart();
}

// Abort needs a second click within 5 s. The table is redrawn on every live sample, so the
// armed state lives here, not on the button.
const abortArmedUntil = new Map();  // kind -> ms

function abortArmed(kind) {
  return (abortArmedUntil.get(kind) || 0) > Date.now();
}

function confirmAbort(node, kind) {
  if (abortArmed(kind)) {
    abortArmedUntil.delete(kind);
    gateAction(kind, 'abort');
    return;
  }
  abortArmedUntil.set(kind, Date.now() + 5000);
  node.textContent = 'Click again to abort';
  setTimeout(() => {
    if (!abortArmed(kind) && node.isConnected) node.textContent = 'Abort';
  }, 5100);
}

function drawChart() {
  const history = live.kindHistory();
  const kinds = [...new Set([...LIMIT_KINDS, ...history.keys()])];
  // Kinds with nothing ever running and no clients are left out, so the chart stays readable.
  const shown = kinds.filter((k) => (history.get(k) || []).some((s) => s.running > 0) ||
                                    live.latestSnapshot()?.rollout?.clients?.by_kind_version?.[k]);
  const span = drawRolloutChart(byId('rollout-chart'), byId('rollout-legend'), history,
                               shown.length ? shown : kinds.slice(0, 1), live.serverNowMs(),
                               live.HISTORY_MS);
  byId('rollout-chart-span').textContent = `(last ${fmtDuration(span / 1000)})`;
}

function wireCanary() {
  const kind = byId('canary-kind');
  for (const k of LIMIT_KINDS) kind.append(el('option', {value: k}, k));
  byId('canary-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    showError(byId('canary-error'), null);
    showOk(byId('canary-result'), '');
    try {
      const gate = await cmd('rollout-canary', {
        kind: kind.value,
        canary: byId('canary-wave').value.trim(),
        halt_after: byId('canary-halt').value.trim(),
      });
      showOk(byId('canary-result'),
             `${gate.kind}: wave ${gate.canary || 'none'}, halt after ${gate.halt_after || 'never'} (phase ${gate.phase})`);
    } catch (e) {
      showError(byId('canary-error'), e);
    }
  });
}

export const rolloutPage = {
  init() {
    wireCanary();
  },
  enter() {
    showError(byId('rollout-error'), null);
    showOk(byId('rollout-action-result'), '');
    unsubscribe = live.subscribe(render);
    if (!live.latestSnapshot()) {
      clear(byId('rollout-summary')).append(el('p', {class: 'muted'}, 'Waiting for the live feed…'));
    }
    chartTimer = setInterval(drawChart, 1000);  // the time axis moves even when nothing changes
  },
  leave() {
    if (unsubscribe) unsubscribe();
    unsubscribe = null;
    clearInterval(chartTimer);
  },
};

// Upgrade settings: per kind max concurrent (fixed or adaptive) and policy, the site's
// bandwidth cap and connection rate. Submits limits-set / policy-set and shows the result or
// the server's error.

import {cmd} from './api.js';
import {LIMIT_KINDS, button, byId, el, fillTable, fmtRate, select, showError, showOk} from './dom.js';

const MIB = 1024 * 1024;
const POLICIES = [['always', 'always'], ['this-version-only', 'this version only'],
                  ['disabled', 'disabled']];
let generation = 0;

function report(text) {
  showError(byId('settings-error'), null);
  showOk(byId('settings-result'), text);
}

function fail(error) {
  showOk(byId('settings-result'), '');
  showError(byId('settings-error'), error);
}

function describeLimit(kind, entry) {
  if (!entry) return `${kind}: unchanged`;
  const auto = entry.adaptive ? ` (auto ${entry.adaptive.min}–${entry.adaptive.max})` : '';
  return `${kind}: max concurrent ${entry.max_concurrent}${auto}, ${entry.running} running, ${entry.waiting} waiting`;
}

async function applyLimit(kind) {
  const auto = byId(`limit-auto-${kind}`).checked;
  const args = {kind};
  if (auto) {
    args.max_concurrent = 'auto';
    args.min = Number(byId(`limit-min-${kind}`).value);
    args.max = Number(byId(`limit-max-${kind}`).value);
    const target = byId(`limit-target-${kind}`).value.trim();
    if (target) args.checkin_p99_target_ms = Number(target);
  } else {
    const value = byId(`limit-input-${kind}`).value.trim();
    if (!/^\d+$/.test(value)) {
      fail({message: `${kind}: max concurrent must be a whole number from 1 to 100000`});
      return;
    }
    args.max_concurrent = Number(value);
  }
  try {
    const limits = await cmd('limits-set', args);
    report(`Saved. ${describeLimit(kind, limits.limits?.[kind])}.`);
    render(limits);
  } catch (e) {
    fail(e);
  }
}

async function applyPolicy(kind) {
  const mode = byId(`policy-select-${kind}`).value;
  try {
    const result = await cmd('policy-set', {kind, mode});
    report(`Saved. ${result.kind}: policy ${result.mode}${result.version ? ` (pinned to ${result.version})` : ''}.`);
    load();
  } catch (e) {
    fail(e);
  }
}

function limitCell(kind, entry) {
  const adaptive = entry.adaptive;
  const input = el('input', {id: `limit-input-${kind}`, type: 'number', min: 1, max: 100000,
                             step: 1, size: 7, value: entry.max_concurrent,
                             'aria-label': `${kind} max concurrent upgrades`});
  const auto = el('input', {type: 'checkbox', id: `limit-auto-${kind}`, checked: !!adaptive});
  const min = el('input', {id: `limit-min-${kind}`, type: 'number', min: 1, size: 5,
                           value: adaptive ? adaptive.min : 1, 'aria-label': `${kind} adaptive minimum`});
  const max = el('input', {id: `limit-max-${kind}`, type: 'number', min: 1, size: 5,
                           value: adaptive ? adaptive.max : Math.max(entry.max_concurrent, 100),
                           'aria-label': `${kind} adaptive maximum`});
  const target = el('input', {id: `limit-target-${kind}`, type: 'number', min: 1, size: 5,
                              value: adaptive ? adaptive.checkin_p99_target_ms : '',
                              placeholder: '500', 'aria-label': `${kind} check-in p99 target (ms)`});
  const autoBox = el('span', {class: 'auto-range'}, 'min ', min, ' max ', max, ' p99 target ', target, ' ms');
  const sync = () => {
    input.disabled = auto.checked;
    autoBox.hidden = !auto.checked;
  };
  auto.addEventListener('change', sync);
  sync();
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') applyLimit(kind);
  });
  return el('div', {class: 'limit-cell'}, input,
            el('label', {class: 'inline'}, auto, ' adaptive'), autoBox,
            button('Apply', {id: `limit-apply-${kind}`}, () => applyLimit(kind)));
}

function render(limits) {
  const entries = limits.limits || {};
  const kinds = [...new Set([...LIMIT_KINDS, ...Object.keys(entries)])].filter((k) => entries[k]);
  fillTable(byId('settings-table'), kinds, [
    {title: 'Kind', cell: (k) => k},
    {title: 'Running', class: 'num', cell: (k) => String(entries[k].running ?? 0)},
    {title: 'Waiting', class: 'num', cell: (k) => String(entries[k].waiting ?? 0)},
    {title: 'Max concurrent upgrades', cell: (k) => limitCell(k, entries[k])},
    {title: 'Policy', cell: (k) => {
      const policy = limits.policy?.[k] || {mode: 'always', version: ''};
      return el('div', {class: 'limit-cell'},
                select(`policy-select-${k}`, POLICIES, policy.mode),
                policy.version ? el('span', {class: 'muted'}, ` pinned to ${policy.version} `) : null,
                button('Apply', {id: `policy-apply-${k}`}, () => applyPolicy(k)));
    }},
  ], (k) => ({'data-testid': `settings-row-${k}`}), 'No upgrade scopes.');
  const bandwidth = limits.bandwidth_bytes_per_s ?? 0;
  byId('bandwidth-input').value = bandwidth ? +(bandwidth / MIB).toFixed(3) : 0;
  byId('bandwidth-input').title = `now ${fmtRate(bandwidth)}`;
  byId('connection-rate-input').value = limits.connection_rate_per_s ?? '';
}

async function load() {
  const mine = ++generation;
  try {
    const limits = await cmd('limits');
    if (mine === generation) render(limits);
  } catch (e) {
    if (mine === generation) fail(e);
  }
}

function wireGlobals() {
  byId('globals-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const mib = Number(byId('bandwidth-input').value);
    const rate = Number(byId('connection-rate-input').value);
    if (!(mib >= 0) || !Number.isInteger(rate) || rate < 1) {
      fail({message: 'bandwidth must be 0 or more MiB/s; the connection rate a whole number from 1'});
      return;
    }
    try {
      const limits = await cmd('limits-set', {
        bandwidth_bytes_per_s: Math.round(mib * MIB),
        connection_rate_per_s: rate,
      });
      report(`Saved. Upgrade bandwidth ${fmtRate(limits.bandwidth_bytes_per_s)}, connection rate ${limits.connection_rate_per_s}/s.`);
      render(limits);
    } catch (e) {
      fail(e);
    }
  });
}

export const settingsPage = {
  init() {
    wireGlobals();
  },
  enter() {
    showError(byId('settings-error'), null);
    showOk(byId('settings-result'), '');
    load();
  },
  leave() {
    generation++;
  },
};

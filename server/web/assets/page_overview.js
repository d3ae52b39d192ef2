// Overview: the site (versions, uptime, connections) from `status`, and the fleet per kind ×
// version × online / offline / lost from `fleet`. Refreshes every 5 s while shown.

import {cmd} from './api.js';
import {byId, clear, el, fillTable, fmtDuration, fmtNumber, showError} from './dom.js';

const REFRESH_MS = 5000;
let timer = null;
let generation = 0;

function card(id, label, value, note) {
  return el('div', {class: 'card stat', id},
            el('div', {class: 'stat-label'}, label),
            el('div', {class: 'stat-value', 'data-testid': `${id}-value`}, value),
            note ? el('div', {class: 'stat-note'}, note) : null);
}

function render(status, fleet) {
  const counts = fleet.counts || status.clients || {};
  const total = counts.total ?? 0;
  const online = counts.online ?? 0;
  const lost = counts.lost ?? 0;
  clear(byId('overview-cards')).append(
      card('overview-site-version', 'Site version', status.site_version || '—',
           'the version clients must reach'),
      card('overview-base-version', 'Base version', status.base_version || '—', 'server software'),
      card('overview-clients', 'Clients', fmtNumber(total),
           `${fmtNumber(online)} online · ${fmtNumber(Math.max(0, total - online - lost))} offline · ${fmtNumber(lost)} lost`),
      card('overview-connections', 'Connections', fmtNumber(status.connections ?? 0),
           `listening on ${status.listen || '?'}`),
      card('overview-uptime', 'Server uptime', fmtDuration(status.uptime_s),
           `sluiced ${status.version || ''}`),
      card('overview-store', 'Failed database jobs', fmtNumber(status.store_failed_jobs ?? 0),
           'since start'));
  byId('overview-store').classList.toggle('warn', (status.store_failed_jobs ?? 0) > 0);

  const rows = [...(fleet.by_kind_version || [])].sort(
      (a, b) => a.kind.localeCompare(b.kind) ||
                b.version.localeCompare(a.version, 'en', {numeric: true}));
  const sum = rows.reduce((acc, r) => ({
    online: acc.online + r.online, offline: acc.offline + r.offline, lost: acc.lost + r.lost,
  }), {online: 0, offline: 0, lost: 0});
  const site = status.site_version;
  fillTable(byId('fleet-table'), rows, [
    {title: 'Kind', cell: (r) => r.kind},
    {title: 'Version', cell: (r) => el('span', {class: r.version === site ? 'current' : 'outdated'},
                                       r.version, r.version === site ? '' : ' (outdated)')},
    {title: 'Online', class: 'num', cell: (r) => fmtNumber(r.online)},
    {title: 'Offline', class: 'num', cell: (r) => fmtNumber(r.offline)},
    {title: 'Lost', class: 'num', cell: (r) => fmtNumber(r.lost)},
    {title: 'Total', class: 'num', cell: (r) => fmtNumber(r.online + r.offline + r.lost)},
  ], (r) => ({'data-testid': `fleet-row-${r.kind}-${r.version}`}), 'No clients have enrolled yet.');
  if (rows.length) {
    byId('fleet-table').tBodies[0].append(el('tr', {class: 'total', id: 'fleet-total'},
        el('td', {colspan: 2}, 'All'),
        el('td', {class: 'num'}, fmtNumber(sum.online)),
        el('td', {class: 'num'}, fmtNumber(sum.offline)),
        el('td', {class: 'num'}, fmtNumber(sum.lost)),
        el('td', {class: 'num', 'data-testid': 'fleet-total-count'},
           fmtNumber(sum.online + sum.offline + sum.lost))));
  }
  byId('overview-updated').textContent = `updated ${new Date().toLocaleTimeString()}`;
}

async function refresh() {
  const mine = generation;
  try {
    const [status, fleet] = await Promise.all([cmd('status'), cmd('fleet')]);
    if (mine !== generation) return;
    showError(byId('overview-error'), null);
    render(status, fleet);
  } catch (e) {
    if (mine === generation) showError(byId('overview-error'), e);
  }
}

export const overviewPage = {
  enter() {
    generation++;
    refresh();
    timer = setInterval(refresh, REFRESH_MS);
  },
  leave() {
    generation++;
    clearInterval(timer);
    timer = null;
  },
};

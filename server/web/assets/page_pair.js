// Pair: the failover pair's status (pair-status), read-only. Establishing, breaking and
// switching roles stay with sluicectl on the servers themselves.

import {cmd} from './api.js';
import {byId, clear, el, fillTable, fmtBytes, fmtDuration, fmtTime, showError} from './dom.js';

let generation = 0;

function value(v) {
  return v === null || v === undefined || v === '' ? '—' : v;
}

function render(s) {
  const dl = clear(byId('pair-fields'));
  const rows = [
    ['Role', s.role || 'alone', 'pair-role'],
    ['This server', s.server_id, 'pair-server-id'],
    ['Serves clients', s.serves_clients ? 'yes' : 'no', 'pair-serves'],
    ['Pair key', s.key_set ? 'set' : 'not set', 'pair-key'],
    ['Peer', s.peer, 'pair-peer'],
    ['Peer server', s.peer_server_id, 'pair-peer-id'],
    ['Epoch', s.epoch, 'pair-epoch'],
    ['Established', s.established_ms ? fmtTime(s.established_ms) : '—', 'pair-established'],
  ];
  if (s.peer) {
    rows.push(['Peer answers', s.reachable ? `yes (${value(s.peer_role)}, epoch ${value(s.peer_epoch)}, site ${value(s.peer_site_version)})`
                                           : `no: ${value(s.unreachable_because)}`, 'pair-reachable']);
  }
  if (s.grant_fence_until_ms) rows.push(['Grants held until', fmtTime(s.grant_fence_until_ms), 'pair-fence']);
  const sync = s.last_sync;
  rows.push(['Last sync', sync
      ? `${fmtTime(sync.finished_ms)}: ${fmtDuration((sync.duration_ms || 0) / 1000)}, ${fmtBytes(sync.bytes)}, ${sync.packages} packages, site ${value(sync.site_version)}`
      : 'none', 'pair-last-sync']);
  if (s.sync_running) {
    const r = s.sync_running;
    rows.push(['Sync running', `${r.phase}: ${fmtBytes(r.done)} of ${fmtBytes(r.total)}, since ${fmtTime(r.started_ms)}`, 'pair-sync-running']);
  }
  for (const [label, v, testid] of rows) dl.append(el('dt', {}, label), el('dd', {'data-testid': testid}, value(v)));
  fillTable(byId('pair-history'), [...(s.history || [])].reverse(), [
    {title: 'Time', cell: (h) => fmtTime(h.at_ms)},
    {title: 'Event', cell: (h) => h.event},
    {title: 'Detail', cell: (h) => h.detail || ''},
  ], () => ({}), 'No pair history.');
}

async function load() {
  const mine = ++generation;
  showError(byId('pair-error'), null);
  try {
    const status = await cmd('pair-status');
    if (mine === generation) render(status);
  } catch (e) {
    if (mine === generation) showError(byId('pair-error'), e);
  }
}

export const pairPage = {
  init() {
    byId('pair-refresh').addEventListener('click', load);
  },
  enter() {
    load();
  },
  leave() {
    generation++;
  },
};

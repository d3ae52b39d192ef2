// Audit log: filters (event, kind, client, UTC time range) and paging backwards by seq
// (audit with before_seq = the smallest seq shown). Newest page first, rows newest on top.

import {cmd} from './api.js';
import {KINDS, byId, el, fillTable, fmtTime, showError} from './dom.js';

const EVENTS = [
  'grant', 'progress', 'finish', 'fail', 'rollback', 'expire', 'limit_change', 'bandwidth_change',
  'connection_rate_change', 'policy_change', 'server_start', 'gate_change', 'rollout_wave',
  'rollout_halt', 'rollout_resume', 'rollout_abort', 'package_missing', 'backup', 'restore',
  'certificate_import', 'pair_takeover', 'pair_break', 'pair_upgrade_step', 'admin_add',
  'admin_passwd', 'admin_remove', 'web_login', 'web_login_failed',
];
let generation = 0;
let beforeSeq = null;     // the page shown: events before this seq (null: the newest)
const newerPages = [];    // the before_seq of the pages in front of this one

function utcMs(input) {
  if (!input.value) return undefined;
  const ms = Date.parse(`${input.value}${input.value.length === 16 ? ':00' : ''}Z`);
  return Number.isNaN(ms) ? undefined : ms;
}

function args() {
  const result = {limit: Number(byId('audit-limit').value)};
  const event = byId('audit-event').value.trim();
  const kind = byId('audit-kind').value;
  const client = byId('audit-client').value.trim();
  const since = utcMs(byId('audit-since'));
  const until = utcMs(byId('audit-until'));
  if (event) result.event = event;
  if (kind) result.scope = kind;
  if (client) result.client_id = client;
  if (since !== undefined) result.since_ms = since;
  if (until !== undefined) result.until_ms = until;
  if (beforeSeq !== null) result.before_seq = beforeSeq;
  return result;
}

let oldestShown = null;

async function load() {
  const mine = ++generation;
  showError(byId('audit-error'), null);
  const request = args();
  try {
    const result = await cmd('audit', request);
    if (mine !== generation) return;
    const events = result.events || [];
    oldestShown = events.length ? Math.min(...events.map((e) => e.seq)) : null;
    byId('audit-older').disabled = oldestShown === null ||
        (result.more === undefined ? events.length < request.limit : !result.more);
    byId('audit-newer').disabled = newerPages.length === 0;
    byId('audit-range').textContent = events.length
        ? `seq ${events[0].seq}–${events[events.length - 1].seq} (${events.length} events)` : 'no events';
    fillTable(byId('audit-table'), [...events].reverse(), [
      {title: 'Seq', class: 'num', cell: (e) => String(e.seq)},
      {title: 'Time', class: 'nowrap', cell: (e) => fmtTime(e.time)},
      {title: 'Event', cell: (e) => el('span', {class: `event event-${/^[a-z_]+$/.test(e.event) ? e.event : 'other'}`}, e.event)},
      {title: 'Kind', cell: (e) => e.scope || ''},
      {title: 'Client', class: 'mono', cell: (e) => e.client_id
          ? el('a', {href: `#/clients/${encodeURIComponent(e.client_id)}`}, e.client_id) : ''},
      {title: 'Lease', class: 'num', cell: (e) => e.lease_id ? String(e.lease_id) : ''},
      {title: 'Version', cell: (e) => e.version || ''},
      {title: 'Running / limit', class: 'num', cell: (e) => e.scope ? `${e.running}/${e.limit}` : ''},
      {title: 'Detail', cell: (e) => e.detail || ''},
    ], () => ({'data-testid': 'audit-row'}), 'No event matches.');
  } catch (e) {
    if (mine === generation) showError(byId('audit-error'), e);
  }
}

function restart() {
  beforeSeq = null;
  newerPages.length = 0;
  load();
}

function wire() {
  // Any event name may be typed; the list offers the known ones.
  const known = byId('audit-events');
  for (const name of EVENTS) known.append(el('option', {value: name}));
  const kind = byId('audit-kind');
  kind.append(el('option', {value: ''}, 'any'));
  for (const k of KINDS) kind.append(el('option', {value: k}, k));
  const limit = byId('audit-limit');
  for (const n of [50, 100, 200, 500]) limit.append(el('option', {value: n, selected: n === 100}, String(n)));
  byId('audit-filter').addEventListener('submit', (e) => {
    e.preventDefault();
    restart();
  });
  for (const id of ['audit-event', 'audit-kind', 'audit-limit']) byId(id).addEventListener('change', restart);
  byId('audit-event').addEventListener('input', () => {
    if (EVENTS.includes(byId('audit-event').value) || !byId('audit-event').value) restart();
  });
  byId('audit-older').addEventListener('click', () => {
    if (oldestShown === null) return;
    newerPages.push(beforeSeq);
    beforeSeq = oldestShown;
    load();
  });
  byId('audit-newer').addEventListener('click', () => {
    if (!newerPages.length) return;
    beforeSeq = newerPages.pop();
    load();
  });
}

export const auditPage = {
  init() {
    wire();
  },
  enter() {
    restart();
  },
  leave() {
    generation++;
  },
};

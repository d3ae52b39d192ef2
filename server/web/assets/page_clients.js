// Clients: server-side search, filters and paging (clients-page, 50 a page), and one client's
// detail with its upgrade history (client-detail) and "upgrade now" (upgrade).

import {cmd} from './api.js';
import {
  KINDS, byId, clear, el, fillTable, fmtAgo, fmtDuration, fmtNumber, fmtTime, showError, showOk,
} from './dom.js';

const PAGE = 50;
const query = {offset: 0};
let generation = 0;
let searchTimer = null;

function filters() {
  const args = {offset: query.offset, limit: PAGE, sort: byId('clients-sort').value};
  const text = {
    q: byId('clients-search').value.trim(),
    kind: byId('clients-kind').value,
    version: byId('clients-version').value.trim(),
    mode: byId('clients-mode').value,
    state: byId('clients-state').value,
    jump_group: byId('clients-group').value.trim(),
    tag: byId('clients-tag').value.trim(),
  };
  for (const [key, value] of Object.entries(text)) if (value) args[key] = value;
  return args;
}

function stateText(c) {
  if (c.state === 'lost') return 'lost';
  return c.online ? 'online' : 'offline';
}

function stateBadge(c) {
  const text = stateText(c);
  return el('span', {class: `badge state-${text}`}, text);
}

async function load() {
  const mine = ++generation;
  const args = filters();
  showError(byId('clients-error'), null);
  try {
    const page = await cmd('clients-page', args);
    if (mine !== generation) return;
    const rows = page.clients || [];
    byId('clients-total').textContent = fmtNumber(page.total ?? 0);
    const first = rows.length ? (page.offset ?? 0) + 1 : 0;
    byId('clients-range').textContent = rows.length
        ? `${fmtNumber(first)}–${fmtNumber(first + rows.length - 1)} of ${fmtNumber(page.total)}` : 'none';
    byId('clients-prev').disabled = (page.offset ?? 0) === 0;
    byId('clients-next').disabled = (page.offset ?? 0) + rows.length >= (page.total ?? 0);
    fillTable(byId('clients-table'), rows, [
      {title: 'Client', class: 'mono', cell: (c) => el('a', {href: `#/clients/${encodeURIComponent(c.id)}`}, c.id)},
      {title: 'Kind', cell: (c) => c.kind},
      {title: 'Mode', cell: (c) => c.mode},
      {title: 'Version', cell: (c) => c.version},
      {title: 'State', cell: stateBadge},
      {title: 'Last seen', class: 'nowrap', cell: (c) => el('span', {title: fmtTime(c.last_seen)}, fmtAgo(c.last_seen))},
      {title: 'Platform', cell: (c) => c.platform},
      {title: 'Console user', cell: (c) => c.stats?.console_user || ''},
      {title: 'Jump group', cell: (c) => c.jump_group ?? ''},
      {title: 'Tag', cell: (c) => c.tag ?? ''},
      {title: 'CPU', class: 'num', cell: (c) => (c.stats?.cpu_load ?? 0).toFixed(2)},
      {title: 'Disk', class: 'num', cell: (c) => `${Math.round(c.stats?.disk_used_pct ?? 0)} %`},
    ], (c) => ({'data-testid': 'client-row', 'data-client-id': c.id}),
    'No client matches.');
  } catch (e) {
    if (mine === generation) showError(byId('clients-error'), e);
  }
}

function options(id, list) {
  const node = byId(id);
  for (const [value, text] of list) node.append(el('option', {value}, text));
}

function wireList() {
  options('clients-kind', [['', 'any'], ...KINDS.map((k) => [k, k])]);
  options('clients-mode', [['', 'any'], ['active', 'active'], ['passive', 'passive']]);
  options('clients-state', [['', 'any'], ['online', 'online'], ['offline', 'offline'], ['lost', 'lost']]);
  options('clients-sort', [['last_seen', 'last seen'], ['id', 'id'], ['version', 'version']]);
  byId('clients-filter').addEventListener('submit', (event) => {
    event.preventDefault();
    query.offset = 0;
    load();
  });
  for (const id of ['clients-kind', 'clients-mode', 'clients-state', 'clients-sort']) {
    byId(id).addEventListener('change', () => {
      query.offset = 0;
      load();
    });
  }
  byId('clients-search').addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => {
      query.offset = 0;
      load();
    }, 300);
  });
  byId('clients-prev').addEventListener('click', () => {
    query.offset = Math.max(0, query.offset - PAGE);
    load();
  });
  byId('clients-next').addEventListener('click', () => {
    query.offset += PAGE;
    load();
  });
  // A click anywhere on a row opens the client (the id cell is also a plain link).
  byId('clients-table').addEventListener('click', (event) => {
    const row = event.target.closest('tr[data-client-id]');
    if (row && !event.target.closest('a')) location.hash = `#/clients/${encodeURIComponent(row.dataset.clientId)}`;
  });
}

export const clientsPage = {
  init() {
    wireList();
  },
  enter() {
    load();
  },
  leave() {
    generation++;
    clearTimeout(searchTimer);
  },
};

// ---- one client ----

let detailGeneration = 0;

function dl(pairs) {
  const node = clear(byId('client-fields'));
  for (const [label, value, testid] of pairs) {
    node.append(el('dt', {}, label), el('dd', {'data-testid': testid}, value));
  }
}

async function loadClient(id) {
  const mine = ++detailGeneration;
  showError(byId('client-error'), null);
  try {
    const detail = await cmd('client-detail', {client_id: id});
    if (mine !== detailGeneration) return;
    const c = detail.client || {};
    const stats = c.stats || {};
    dl([
      ['Id', c.id, 'client-id'],
      ['Kind', c.kind, 'client-kind'],
      ['Mode', c.mode, 'client-mode'],
      ['Version', c.version, 'client-version'],
      ['State', stateBadge(c), 'client-state'],
      ['Platform', c.platform, 'client-platform'],
      ['Console user', stats.console_user || '—', 'client-console-user'],
      ['Jump group', c.jump_group || '—', 'client-jump-group'],
      ['Tag', c.tag || '—', 'client-tag'],
      ['Installer', c.installer_id || '—', 'client-installer'],
      ['First seen', fmtTime(c.first_seen), 'client-first-seen'],
      ['Last seen', `${fmtTime(c.last_seen)} (${fmtAgo(c.last_seen)})`, 'client-last-seen'],
      ['Address', c.peer_address || '—', 'client-peer'],
      ['CPU load', (stats.cpu_load ?? 0).toFixed(2), 'client-cpu'],
      ['Disk used', `${(stats.disk_used_pct ?? 0).toFixed(1)} %`, 'client-disk'],
      ['Machine uptime', fmtDuration(stats.uptime_s), 'client-uptime'],
    ]);
    const upgrade = byId('client-upgrade');
    upgrade.hidden = !detail.upgrade_allowed;
    upgrade.disabled = false;
    byId('client-upgrade-note').textContent = detail.upgrade_allowed
        ? '' : 'Upgrade now is for clients whose kind’s policy is disabled: the others upgrade on their own, within the limit (integration clients are reinstalled instead).';
    fillTable(byId('client-history'), [...(detail.history || [])].reverse(), [
      {title: 'Seq', class: 'num', cell: (e) => String(e.seq)},
      {title: 'Time', class: 'nowrap', cell: (e) => fmtTime(e.time)},
      {title: 'Event', cell: (e) => e.event},
      {title: 'Lease', class: 'num', cell: (e) => e.lease_id ? String(e.lease_id) : ''},
      {title: 'Version', cell: (e) => e.version || ''},
      {title: 'Detail', cell: (e) => e.detail || ''},
    ], () => ({'data-testid': 'client-history-row'}), 'No upgrade history.');
  } catch (e) {
    if (mine === detailGeneration) {
      clear(byId('client-fields'));
      showError(byId('client-error'), e);
    }
  }
}

let currentId = '';

export const clientPage = {
  init() {
    byId('client-upgrade').addEventListener('click', async () => {
      const button = byId('client-upgrade');
      button.disabled = true;
      showError(byId('client-error'), null);
      try {
        const result = await cmd('upgrade', {client_id: currentId});
        showOk(byId('client-upgrade-result'), `Upgrade requested: ${result.state}.`);
        loadClient(currentId);
      } catch (e) {
        showError(byId('client-error'), e);
        button.disabled = false;
      }
    });
  },
  enter({id}) {
    currentId = id;
    byId('client-title').textContent = id;
    showOk(byId('client-upgrade-result'), '');
    byId('client-upgrade').hidden = true;
    clear(byId('client-fields'));
    clear(byId('client-history'));
    loadClient(id);
  },
  leave() {
    detailGeneration++;
  },
};

// Site updates: update-check (what the source offers), update-install with a progress note
// while it runs, the installed list (updates) and the offline download key
// (update-download-key).

import {cmd} from './api.js';
import {button, byId, clear, el, fillTable, fmtBytes, fmtTime, showError, showOk} from './dom.js';

let generation = 0;
let installing = false;
let progressTimer = null;

function card(label, value) {
  return el('div', {class: 'card stat'}, el('div', {class: 'stat-label'}, label),
            el('div', {class: 'stat-value'}, value));
}

async function install(update) {
  if (installing) return;
  installing = true;
  const progress = byId('update-progress');
  const started = Date.now();
  // The server's step (update-progress) once a second; the elapsed time meanwhile.
  let step = 'starting';
  const show = () => {
    const seconds = Math.round((Date.now() - started) / 1000);
    progress.textContent = `Installing ${update.id}: ${step}… ${seconds} s`;
  };
  const tick = async () => {
    try {
      const now = await cmd('update-progress', {});
      if (now.installing) step = `step ${now.step_no} of ${now.steps}, ${now.step}`;
    } catch (e) {
      // The install's own answer says what went wrong; a missed poll only delays the step.
    }
    if (installing) show();
  };
  show();
  tick();
  progress.hidden = false;
  progressTimer = setInterval(tick, 1000);
  showOk(byId('update-result'), '');
  showError(byId('updates-error'), null);
  for (const b of document.querySelectorAll('#updates-available button')) b.disabled = true;
  try {
    const result = await cmd('update-install', {id: update.id});
    showOk(byId('update-result'),
           `Installed ${result.id}: site version ${result.site_version || '—'}, base version ${result.base_version || '—'}. Backup taken before: ${result.backup || '—'}.`);
  } catch (e) {
    showError(byId('updates-error'), e);
  } finally {
    clearInterval(progressTimer);
    progress.hidden = true;
    installing = false;
    load();
  }
}

function renderCheck(check) {
  clear(byId('updates-summary')).append(
      card('Site version', check.site_version || '—'),
      card('Base version', check.base_version || '—'),
      card('Update source', check.source || 'not configured'));
  const updates = check.updates || [];
  fillTable(byId('updates-available'), updates, [
    {title: 'Update', class: 'mono', cell: (u) => u.id},
    {title: 'Kind', cell: (u) => u.kind},
    {title: 'Version', cell: (u) => u.version},
    {title: 'Depends on', cell: (u) => (u.depends_on || []).join(', ') || '—'},
    {title: 'Missing', cell: (u) => el('span', {class: (u.missing || []).length ? 'bad' : ''},
                                       (u.missing || []).join(', ') || '—')},
    {title: 'Packages', cell: (u) => (u.packages || [])
        .map((p) => `${p.kind} ${p.platform} (${fmtBytes(p.size)})`).join(', ') || '—'},
    {title: 'Created', cell: (u) => fmtTime(u.created)},
    {title: '', cell: (u) => button('Install', {'data-testid': `update-install-${u.id}`,
                                                disabled: installing || (u.missing || []).length > 0,
                                                title: (u.missing || []).length ? `install ${u.missing.join(', ')} first` : ''},
                                    () => install(u))},
  ], () => ({'data-testid': 'update-row'}), 'The site is up to date with its update source.');
  const problems = clear(byId('updates-problems'));
  for (const problem of check.problems || []) problems.append(el('li', {class: 'bad'}, `skipped ${problem}`));
}

function renderInstalled(result) {
  fillTable(byId('updates-installed'), [...(result.updates || [])].reverse(), [
    {title: 'Update', class: 'mono', cell: (u) => u.id},
    {title: 'Kind', cell: (u) => u.kind},
    {title: 'Version', cell: (u) => u.version},
    {title: 'Installed', cell: (u) => fmtTime(u.installed)},
    {title: 'Backup before', class: 'mono small', cell: (u) => u.backup || '—'},
  ], () => ({}), 'No update installed yet.');
}

async function load() {
  const mine = ++generation;
  showError(byId('updates-error'), null);
  const [check, installed] = await Promise.allSettled([cmd('update-check'), cmd('updates')]);
  if (mine !== generation) return;
  if (check.status === 'fulfilled') renderCheck(check.value);
  else {
    clear(byId('updates-available'));
    showError(byId('updates-error'), check.reason);
  }
  if (installed.status === 'fulfilled') renderInstalled(installed.value);
}

function wireKey() {
  byId('dlkey-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    showError(byId('dlkey-error'), null);
    try {
      const minutes = Number(byId('dlkey-minutes').value) || 2400;
      const key = await cmd('update-download-key', {valid_for_minutes: minutes});
      byId('dlkey-text').value = key.key;
      byId('dlkey-meta').textContent =
          `Site ${key.site_id}, site version ${key.site_version}, base ${key.base_version || '—'}; valid until ${fmtTime(key.expires)}.`;
      byId('dlkey-box').hidden = false;
      byId('dlkey-text').select();
    } catch (e) {
      showError(byId('dlkey-error'), e);
    }
  });
}

export const updatesPage = {
  init() {
    wireKey();
    byId('updates-check').addEventListener('click', () => load());
  },
  enter() {
    showOk(byId('update-result'), '');
    load();
  },
  leave() {
    generation++;
  },
};

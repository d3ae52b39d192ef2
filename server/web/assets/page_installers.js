// Installers: create (installer-create), list with download / extend / delete, and the archive
// of superseded MSIs (installers). Downloads are GET /api/installers/<id>/msi.

import {cmd} from './api.js';
import {button, byId, el, fillTable, fmtTime, select, showError, showOk} from './dom.js';

const UNITS = [['60000', 'minutes'], ['3600000', 'hours'], ['86400000', 'days']];
let generation = 0;

function fail(error) {
  showOk(byId('installer-result'), '');
  showError(byId('installers-error'), error);
}

function done(text) {
  showError(byId('installers-error'), null);
  showOk(byId('installer-result'), text);
}

function validityMs(amountInput, unitSelect) {
  const amount = Number(amountInput.value);
  if (!(amount > 0)) return null;
  return Math.round(amount * Number(unitSelect.value));
}

function downloadLink(inst) {
  return el('a', {href: `/api/installers/${encodeURIComponent(inst.id)}/msi`, download: '',
                  class: 'button-link', 'data-testid': `installer-download-${inst.id}`}, 'Download MSI');
}

function extendControls(inst) {
  const amount = el('input', {type: 'number', min: 1, value: 7, size: 3,
                              'aria-label': `extend ${inst.id} by`, 'data-testid': `installer-extend-amount-${inst.id}`});
  const unit = select(`installer-extend-unit-${inst.id}`, UNITS, '86400000');
  const go = button('Extend', {'data-testid': `installer-extend-${inst.id}`}, async () => {
    const ms = validityMs(amount, unit);
    if (!ms) {
      fail({message: 'the extension must be a positive duration'});
      return;
    }
    go.disabled = true;
    try {
      const result = await cmd('installer-extend', {id: inst.id, valid_for_ms: ms});
      done(`Installer ${result.installer.id} now expires ${fmtTime(result.installer.expires)}; its MSI was rebuilt (the previous one is archived).`);
      load();
    } catch (e) {
      fail(e);
      go.disabled = false;
    }
  });
  return el('span', {class: 'joined'}, amount, unit, go);
}

function deleteButton(inst) {
  const node = button('Delete', {class: 'danger', 'data-testid': `installer-delete-${inst.id}`}, async () => {
    if (!node.dataset.armed) {
      node.dataset.armed = '1';
      node.textContent = 'Click again to delete';
      setTimeout(() => {
        delete node.dataset.armed;
        node.textContent = 'Delete';
      }, 5000);
      return;
    }
    node.disabled = true;
    try {
      const result = await cmd('installer-delete', {id: inst.id});
      done(`Deleted installer ${result.installer.id}: it enrolls nobody from now on. Clients it installed are not affected.`);
      load();
    } catch (e) {
      fail(e);
      node.disabled = false;
    }
  });
  return node;
}

function render(result) {
  const installers = (result.installers || []).filter((i) => !i.deleted).reverse();
  fillTable(byId('installers-table'), installers, [
    {title: 'Installer', cell: (i) => [el('div', {class: 'mono nowrap'}, i.id),
                                        i.comments ? el('div', {class: 'muted small'}, i.comments) : null,
                                        el('div', {class: 'muted small'}, `by ${i.creator || '?'}`)]},
    {title: 'Kind', class: 'nowrap', cell: (i) => [i.kind, el('div', {class: 'muted small'}, i.mode)]},
    {title: 'Jump group', cell: (i) => i.jump_group || ''},
    {title: 'Tag', cell: (i) => el('span', {'data-testid': `installer-tag-${i.id}`}, i.tag || '')},
    {title: 'Version', cell: (i) => [i.site_version,
                                     el('div', {class: 'muted small'}, `MSI ${i.product_version}`)]},
    {title: 'Expires', cell: (i) => el('span', {class: i.expired ? 'bad' : ''},
                                          fmtTime(i.expires), i.expired ? ' (expired)' : '')},
    {title: 'Enrolled', class: 'num', cell: (i) => String(i.enrolled_clients ?? 0)},
    {title: 'May change', cell: (i) => (i.overrides || []).join(', ') || '—'},
    {title: '', cell: (i) => el('div', {class: 'row-actions'},
                                i.expired ? null : downloadLink(i), extendControls(i), deleteButton(i))},
  ], (i) => ({'data-testid': 'installer-row', 'data-installer-id': i.id}), 'No installers yet.');
  const archive = [...(result.archive || [])].reverse();
  fillTable(byId('installers-archive'), archive, [
    {title: 'Installer', class: 'mono', cell: (a) => a.id},
    {title: 'Site version', cell: (a) => a.site_version},
    {title: 'Product version', cell: (a) => a.product_version},
    {title: 'ProductCode', class: 'mono', cell: (a) => a.product_code},
    {title: 'Archived', cell: (a) => fmtTime(a.archived)},
    {title: 'Why', cell: (a) => a.reason === 'extended' ? 'validity extended' : 'new site version'},
    {title: 'File on the server', class: 'mono small', cell: (a) => a.file},
    {title: '', cell: (a) => el('a', {
      href: `/api/installers/${encodeURIComponent(a.id)}/msi?product_code=${encodeURIComponent(a.product_code)}`,
      download: '', class: 'button-link'}, 'Download MSI')},
  ], () => ({'data-testid': 'archive-row'}), 'No archived MSIs.');
}

async function load() {
  const mine = ++generation;
  try {
    const result = await cmd('installers');
    if (mine === generation) render(result);
  } catch (e) {
    if (mine === generation) fail(e);
  }
}

function wireForm() {
  const kind = byId('installer-kind');
  for (const k of ['jump-client', 'access-console']) kind.append(el('option', {value: k}, k));
  const mode = byId('installer-mode');
  for (const m of ['active', 'passive']) mode.append(el('option', {value: m}, m));
  const unit = byId('installer-validity-unit');
  for (const [value, text] of UNITS) unit.append(el('option', {value, selected: text === 'days'}, text));
  byId('installer-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const create = byId('installer-create');
    const ms = validityMs(byId('installer-validity'), unit);
    if (!ms) {
      fail({message: 'the validity must be a positive duration (10 minutes to 365 days)'});
      return;
    }
    const args = {kind: kind.value, mode: mode.value, valid_for_ms: ms};
    for (const [key, id] of [['jump_group', 'installer-group'], ['tag', 'installer-tag'],
                             ['comments', 'installer-comments'], ['site_version', 'installer-site-version']]) {
      const value = byId(id).value.trim();
      if (value) args[key] = value;
    }
    const overrides = [...document.querySelectorAll('#installer-form fieldset input:checked')].map((i) => i.value);
    if (overrides.length) args.overrides = overrides;
    create.disabled = true;
    showError(byId('installers-error'), null);
    showOk(byId('installer-result'), 'Building the MSI…');
    try {
      const result = await cmd('installer-create', args);
      const inst = result.installer;
      done(`Created installer ${inst.id} (${inst.kind}, ${inst.mode}), valid until ${fmtTime(inst.expires)}.`);
      byId('installer-result').append(' ', downloadLink(inst));
      load();
    } catch (e) {
      fail(e);
    } finally {
      create.disabled = false;
    }
  });
}

export const installersPage = {
  init() {
    wireForm();
  },
  enter() {
    showError(byId('installers-error'), null);
    showOk(byId('installer-result'), '');
    load();
  },
  leave() {
    generation++;
  },
};

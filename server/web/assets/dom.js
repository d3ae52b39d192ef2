// DOM helpers. Every string that reaches the page goes through textContent or an attribute
// set with setAttribute: nothing here ever parses HTML, so client-supplied text (platforms,
// console users, tags) stays text.

// el('td', {class: 'num', 'data-testid': 'x'}, 'text', childNode, ...)
// Attribute values are set as attributes; `on*` keys are not accepted (handlers go through
// addEventListener, which the Content-Security-Policy allows).
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) throw new Error(`el: use addEventListener, not ${key}`);
    if (key === 'class') node.className = value;
    else if (value === true) node.setAttribute(key, '');
    else node.setAttribute(key, String(value));
  }
  append(node, children);
  return node;
}

export function append(node, children) {
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function clear(node) {
  node.replaceChildren();
  return node;
}

export function byId(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`missing element #${id}`);
  return node;
}

// Replaces the rows of a table's tbody. `columns` is a list of {title, cell(row) -> node|text,
// class?}; `rowAttrs(row)` gives the tr's attributes.
export function fillTable(table, rows, columns, rowAttrs = () => ({}), empty = 'Nothing to show.') {
  const thead = table.tHead || table.createTHead();
  clear(thead).append(el('tr', {}, columns.map(
      (c) => el('th', {class: (c.class || '').split(' ').includes('num') ? 'num' : undefined}, c.title))));
  const tbody = table.tBodies[0] || table.createTBody();
  clear(tbody);
  if (rows.length === 0) {
    tbody.append(el('tr', {class: 'empty'}, el('td', {colspan: columns.length}, empty)));
    return;
  }
  for (const row of rows) {
    tbody.append(el('tr', rowAttrs(row), columns.map((c) => el('td', {class: c.class}, c.cell(row)))));
  }
}

// Shows an error (an ApiError or any Error) in a message box, or hides the box for null.
export function showError(box, error) {
  if (!error) {
    box.hidden = true;
    clear(box);
    return;
  }
  const code = error.code ? `${error.code}: ` : '';
  box.textContent = code + (error.message || String(error));
  box.hidden = false;
}

export function showOk(box, text) {
  box.textContent = text;
  box.hidden = !text;
}

// Label + control, for forms.
export function field(label, control, hint) {
  return el('label', {class: 'field'}, el('span', {class: 'label'}, label), control,
            hint ? el('span', {class: 'hint'}, hint) : null);
}

export function select(id, options, value) {
  const node = el('select', {id});
  for (const option of options) {
    const [optionValue, text] = Array.isArray(option) ? option : [option, option];
    node.append(el('option', {value: optionValue, selected: optionValue === value}, text));
  }
  return node;
}

export function button(text, attrs = {}, onClick) {
  const node = el('button', {type: 'button', ...attrs}, text);
  if (onClick) node.addEventListener('click', onClick);
  return node;
}

// ---- formatting ----

export function fmtNumber(n) {
  return typeof n === 'number' ? n.toLocaleString('en-US') : (n ?? '');
}

export function fmtDuration(seconds) {
  if (seconds === null || seconds === undefined) return 'unknown';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  const parts = [];
  const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60), r = s % 60;
  if (d) parts.push(`${d}d`);
  if (h) parts.push(`${h}h`);
  if (m && !d) parts.push(`${m}m`);
  if (r && !d && !h) parts.push(`${r}s`);
  return parts.join(' ');
}

export function fmtBytes(n) {
  if (!n) return '0 B';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 || i === 0 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}

export function fmtRate(bytesPerS) {
  return bytesPerS ? `${fmtBytes(bytesPerS)}/s` : 'unlimited';
}

// RFC 3339 UTC ("2026-11-25T08:00:00Z") or Unix ms, shown as "2026-11-25 08:00:00 UTC".
export function fmtTime(value) {
  if (value === null || value === undefined || value === '' || value === 0) return '—';
  const date = typeof value === 'number' ? new Date(value) : new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return date.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

export function fmtAgo(value) {
  const t = typeof value === 'number' ? value : Date.parse(value);
  if (!t) return '';
  return `${fmtDuration((Date.now() - t) / 1000)} ago`;
}

// The client kinds, in the order every page lists them.
export const KINDS = ['jump-client', 'jumpoint', 'access-console', 'connection-agent',
                      'integration-client'];
export const LIMIT_KINDS = KINDS.slice(0, 4);

// The dashboard: session, navigation (hash routes) and the pages. No framework, no build step.
// Routes: #/overview, #/rollout, #/settings, #/clients, #/clients/<id>, #/installers,
// #/updates, #/audit, #/pair; the login form shows whenever there is no session.

import {ApiError, loadSession, login, logout, onUnauthorized} from './api.js';
import {byId, showError} from './dom.js';
import * as live from './live.js';
import {auditPage} from './page_audit.js';
import {clientPage, clientsPage} from './page_clients.js';
import {installersPage} from './page_installers.js';
import {overviewPage} from './page_overview.js';
import {pairPage} from './page_pair.js';
import {rolloutPage} from './page_rollout.js';
import {settingsPage} from './page_settings.js';
import {updatesPage} from './page_updates.js';

const pages = {
  overview: overviewPage,
  rollout: rolloutPage,
  settings: settingsPage,
  clients: clientsPage,
  client: clientPage,
  installers: installersPage,
  updates: updatesPage,
  audit: auditPage,
  pair: pairPage,
};

let current = null;  // {name, page}
let loggedIn = false;

function parseRoute() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').filter(Boolean);
  const [name = 'overview', ...rest] = parts.map((p) => decodeURIComponent(p));
  if (name === 'clients' && rest.length) return {name: 'client', params: {id: rest.join('/')}};
  return {name, params: {}};
}

function showSection(id) {
  for (const section of document.querySelectorAll('main > section.page')) {
    section.hidden = section.id !== id;
  }
}

function leaveCurrent() {
  if (current && current.page.leave) current.page.leave();
  current = null;
}

function route() {
  if (!loggedIn) {
    showLogin();
    return;
  }
  const {name, params} = parseRoute();
  leaveCurrent();
  const page = pages[name];
  for (const link of document.querySelectorAll('#nav a')) {
    const active = link.dataset.page === name || (name === 'client' && link.dataset.page === 'clients');
    link.classList.toggle('active', active);
    if (active) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  if (!page) {
    showSection('page-notfound');
    return;
  }
  showSection(`page-${name}`);
  document.title = `Sluice · ${byId(`page-${name}`).querySelector('h1').textContent.trim()}`;
  current = {name, page};
  page.enter(params);
}

function showLogin(message) {
  leaveCurrent();
  live.stop();
  loggedIn = false;
  byId('nav').hidden = true;
  byId('logout').hidden = true;
  byId('session-user').textContent = '';
  showSection('page-login');
  document.title = 'Sluice · Sign in';
  const error = byId('login-error');
  if (message) showError(error, {message});
  byId('login-password').value = '';
  byId('login-name').focus();
}

function enterSession(name) {
  loggedIn = true;
  byId('nav').hidden = false;
  byId('logout').hidden = false;
  byId('session-user').textContent = name;
  showError(byId('login-error'), null);
  live.start();
  route();
}

function loginErrorText(e) {
  if (e instanceof ApiError && e.status === 429) {
    const wait = e.retryAfterS ? ` Try again in ${e.retryAfterS} s.` : ' Try again later.';
    return `Too many failed sign-ins.${wait}`;
  }
  if (e instanceof ApiError && e.status === 401) return 'Wrong admin name or password.';
  return e.message || String(e);
}

function wireLogin() {
  const form = byId('login-form');
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const submit = byId('login-submit');
    submit.disabled = true;
    showError(byId('login-error'), null);
    try {
      const session = await login(byId('login-name').value.trim(), byId('login-password').value);
      byId('login-password').value = '';
      // replaceState: no hashchange, so the page is entered once, by enterSession.
      if (!location.hash || location.hash === '#/login') history.replaceState(null, '', '#/overview');
      enterSession(session.name);
    } catch (e) {
      showError(byId('login-error'), {message: loginErrorText(e)});
    } finally {
      submit.disabled = false;
    }
  });
  byId('logout').addEventListener('click', async () => {
    try {
      await logout();
    } catch {
      // The session is gone either way.
    }
    showLogin();
  });
}

async function main() {
  wireLogin();
  for (const page of Object.values(pages)) if (page.init) page.init();
  onUnauthorized(() => showLogin('Your session has ended. Sign in again.'));
  window.addEventListener('hashchange', () => route());
  try {
    const session = await loadSession();
    if (session) enterSession(session.name);
    else showLogin();
  } catch (e) {
    showLogin();
    showError(byId('login-error'), e);
  }
}

main();

// The dashboard's only way to the server: the session endpoints and POST /api/cmd/<name>,
// which runs one admin command (docs/admin.md) as the logged-in admin.

export class ApiError extends Error {
  constructor(status, code, message, retryAfterS = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfterS = retryAfterS;
  }
}

const session = {name: '', csrf: ''};
const unauthorizedListeners = [];

export function currentAdmin() {
  return session.name;
}

// `listener()` runs when a request finds the session gone (HTTP 401): the app shows the login.
export function onUnauthorized(listener) {
  unauthorizedListeners.push(listener);
}

function dropSession() {
  session.name = '';
  session.csrf = '';
  for (const listener of unauthorizedListeners) listener();
}

async function request(method, path, body, {authenticated = true} = {}) {
  const headers = {'Accept': 'application/json'};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && session.csrf) headers['X-CSRF-Token'] = session.csrf;
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch (e) {
    throw new ApiError(0, 'network', `cannot reach the server (${e.message})`);
  }
  let payload = null;
  const text = await response.text();
  if (text) {
    try {
      payload = JSON.parse(text);
    } catch {
      payload = null;
    }
  }
  if (response.ok) return payload ?? {};
  const error = payload && payload.error ? payload.error : {};
  const retry = response.headers.get('Retry-After');
  const apiError = new ApiError(response.status, error.code || `http_${response.status}`,
                                error.message || response.statusText || 'request failed',
                                retry === null ? null : Number(retry));
  if (response.status === 401 && authenticated) dropSession();
  throw apiError;
}

// Resolves to {name, csrf} when a session exists, null otherwise.
export async function loadSession() {
  try {
    const result = await request('GET', '/api/session', undefined, {authenticated: false});
    session.name = result.name;
    session.csrf = result.csrf;
    return result;
  } catch (e) {
    if (e.status === 401) return null;
    throw e;
  }
}

export async function login(name, password) {
  const result = await request('POST', '/api/login', {name, password}, {authenticated: false});
  session.name = result.name;
  session.csrf = result.csrf;
  return result;
}

export async function logout() {
  try {
    await request('POST', '/api/logout', {});
  } finally {
    session.name = '';
    session.csrf = '';
  }
}

// Runs an admin command; resolves to its result (the command's JSON, docs/admin.md).
export async function cmd(name, args = {}) {
  const response = await request('POST', `/api/cmd/${encodeURIComponent(name)}`, args);
  return response.result;
}

// The live rollout feed: GET /api/events (server-sent events, `event: rollout` with
// {"time_ms", "limits", "rollout"}) while logged in, falling back to polling `limits` and
// `rollout` once a second when the stream fails. Keeps the last 10 minutes of per-kind
// samples (running, limit, waiting) in memory for the chart.

import {cmd} from './api.js';

export const HISTORY_MS = 10 * 60 * 1000;
const POLL_MS = 1000;
const SSE_RETRY_MS = 30 * 1000;

let source = null;
let pollTimer = null;
let retryTimer = null;
let running = false;
let latest = null;          // the last {time_ms, limits, rollout}
let clockOffsetMs = 0;      // server time - browser time, from the last sample
let mode = 'stopped';       // 'stream' | 'polling' | 'stopped'
const history = new Map();  // kind -> [{t, running, limit, waiting}]
const listeners = new Set();

export function latestSnapshot() {
  return latest;
}

export function feedMode() {
  return mode;
}

// The server's "now", estimated from the browser clock and the last sample.
export function serverNowMs() {
  return Date.now() + clockOffsetMs;
}

export function kindHistory() {
  return history;
}

// `listener(snapshot)` runs on every new sample (and once at once if one is known).
// Returns the function that unsubscribes.
export function subscribe(listener) {
  listeners.add(listener);
  if (latest) listener(latest);
  return () => listeners.delete(listener);
}

function record(snapshot) {
  latest = snapshot;
  const t = snapshot.time_ms || Date.now();
  clockOffsetMs = t - Date.now();
  const limits = (snapshot.limits && snapshot.limits.limits) || {};
  const scopes = (snapshot.rollout && snapshot.rollout.scopes) || {};
  for (const kind of new Set([...Object.keys(limits), ...Object.keys(scopes)])) {
    const scope = scopes[kind] || {};
    const limit = limits[kind] || {};
    // `limits` is read on every tick, the rollout summary less often: it wins when both say.
    const sample = {
      t,
      running: limit.running ?? scope.running ?? 0,
      limit: limit.max_concurrent ?? scope.limit ?? 0,
      waiting: limit.waiting ?? scope.waiting ?? 0,
    };
    if (!history.has(kind)) history.set(kind, []);
    const samples = history.get(kind);
    samples.push(sample);
    while (samples.length > 1 && samples[0].t < t - HISTORY_MS) samples.shift();
  }
  for (const listener of listeners) {
    try {
      listener(snapshot);
    } catch (e) {
      console.error(e);
    }
  }
}

function openStream() {
  if (typeof EventSource === 'undefined') {
    startPolling();
    return;
  }
  source = new EventSource('/api/events', {withCredentials: true});
  mode = 'stream';
  source.addEventListener('rollout', (event) => {
    try {
      record(JSON.parse(event.data));
    } catch (e) {
      console.error('bad rollout event', e);
    }
  });
  source.addEventListener('error', () => {
    if (!running) return;
    closeStream();
    startPolling();
  });
}

function closeStream() {
  if (source) {
    source.close();
    source = null;
  }
}

function startPolling() {
  mode = 'polling';
  if (!pollTimer) {
    pollOnce();
    pollTimer = setInterval(pollOnce, POLL_MS);
  }
  if (!retryTimer) {
    retryTimer = setTimeout(() => {
      retryTimer = null;
      if (!running) return;
      stopPolling();
      openStream();
    }, SSE_RETRY_MS);
  }
}

function stopPolling() {
  if (pollTimer) clearInterval(pollTimer);
  pollTimer = null;
  if (retryTimer) clearTimeout(retryTimer);
  retryTimer = null;
}

let pollBusy = false;
async function pollOnce() {
  if (pollBusy || !running) return;
  pollBusy = true;
  try {
    const [limits, rollout] = await Promise.all([cmd('limits'), cmd('rollout')]);
    if (running) record({time_ms: Date.now() + clockOffsetMs, limits, rollout});
  } catch (e) {
    // A 401 stops everything through the app's unauthorized handler; other errors: try again.
  } finally {
    pollBusy = false;
  }
}

export function start() {
  if (running) return;
  running = true;
  openStream();
}

export function stop() {
  running = false;
  mode = 'stopped';
  closeStream();
  stopPolling();
  latest = null;
  history.clear();
}

// Thin client for the pallimap HTTP API (/api/v1).

export const API = '/api/v1';

export const DEFAULT_CONFIG = {
  tile_url: 'https://cyberjapandata.gsi.go.jp/xyz/pale/{z}/{x}/{y}.png',
  tile_attribution: '<a href="https://maps.gsi.go.jp/development/ichiran.html">地理院タイル</a>',
};

/** An error from the API: `problem` holds the application/problem+json body. */
export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
  }
}

/** The server could not be reached at all (or answered with a gateway error). */
export class ApiDown extends Error {}

const downListeners = new Set();
export function onApiHealth(fn) { downListeners.add(fn); }
function reportHealth(up) { for (const fn of downListeners) fn(up); }

export async function getJson(path, { signal } = {}) {
  let res;
  try {
    res = await fetch(API + path, { signal, headers: { Accept: 'application/json' } });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    reportHealth(false);
    throw new ApiDown(String(e));
  }
  // Gateway/proxy failures and a stopped upstream mean "down", not a bad request.
  if (res.status === 502 || res.status === 503 || res.status === 504) {
    reportHealth(false);
    throw new ApiDown(`HTTP ${res.status}`);
  }
  let body = null;
  try { body = await res.json(); } catch { /* non-JSON body */ }
  if (!res.ok) {
    if (res.status >= 500) reportHealth(false);
    throw new ApiError(res.status, body);
  }
  if (body === null) {
    reportHealth(false);
    throw new ApiDown('invalid JSON');
  }
  reportHealth(true);
  return body;
}

export async function getConfig() {
  try {
    const c = await getJson('/config');
    return { ...DEFAULT_CONFIG, ...c };
  } catch (e) {
    return { ...DEFAULT_CONFIG };
  }
}

/** Encode params, skipping empty values; commas stay readable. */
export function toQuery(params) {
  const parts = [];
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0)) continue;
    const val = Array.isArray(v) ? v.join(',') : String(v);
    parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(val).replace(/%2C/g, ',')}`);
  }
  return parts.length ? `?${parts.join('&')}` : '';
}

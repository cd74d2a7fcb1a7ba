// The console's only way to the server: the public JSON API on the same origin. The bearer token
// is kept in sessionStorage (this tab only, gone when it closes); it is sent in the Authorization
// header and never put in a URL or written to the console log.

const TOKEN_KEY = 'tongban.token';

export function token() {
  return sessionStorage.getItem(TOKEN_KEY) || '';
}
export function setToken(value) {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

// An answer that is not 2xx: `problem` is the RFC 9457 document when the server sent one.
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {status};
  }
}

// request('/v1/cases', {method, json, text, headers, auth, raw}) → {status, headers, data}
// (`data` parsed when the answer is JSON; with `raw`, the Response itself as `response`).
// Throws ApiError for a status outside 2xx (304 included), and for a network failure (status 0).
export async function request(path, options = {}) {
  const {method = 'GET', json, text, headers = {}, auth = true, raw = false} = options;
  const sent = {...headers};
  if (auth && token()) sent.Authorization = `Bearer ${token()}`;
  let body;
  if (json !== undefined) {
    body = JSON.stringify(json);
    sent['Content-Type'] = 'application/json';
  } else if (text !== undefined) {
    body = text;
    sent['Content-Type'] = 'application/json';
  }
  let response;
  try {
    response = await fetch(path, {method, headers: sent, body, cache: 'no-store'});
  } catch (e) {
    throw new ApiError(0, {title: 'network', detail: String(e.message || e)});
  }
  const type = response.headers.get('Content-Type') || '';
  if (raw && response.ok) return {status: response.status, headers: response.headers, response};
  let data = null;
  if (type.includes('json')) {
    try {
      data = await response.json();
    } catch {
      data = null;
    }
  } else {
    data = await response.text();
  }
  if (!response.ok) {
    throw new ApiError(response.status, data && typeof data === 'object' ? data : null);
  }
  return {status: response.status, headers: response.headers, data};
}

export const enc = encodeURIComponent;

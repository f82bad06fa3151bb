// Who is signed in: the header's sign-in form and sign-out, the session's role and CSRF token,
// and the one request helper every write goes through (cookie + X-CSRF-Token + If-Match).

import './account.css';
import { API } from './api.js';
import { t, addStrings, onLangChange } from './i18n.js';

addStrings({
  signIn: ['ログイン', 'Sign in'],
  signOut: ['ログアウト', 'Sign out'],
  signInHeading: ['医療・介護専門職のログイン', 'Sign-in for professionals'],
  emailLabel: ['メールアドレス', 'Email'],
  passwordLabel: ['パスワード', 'Password'],
  cancel: ['キャンセル', 'Cancel'],
  signingIn: ['ログイン中…', 'Signing in…'],
  signInWrong: ['メールアドレスまたはパスワードが違います。', 'The email or password is wrong.'],
  signInLocked: ['ログインの失敗が続いたため、しばらくログインできません。{w}にもう一度お試しください。', 'Too many failed sign-ins. Try again {w}.'],
  waitSeconds: ['{s} 秒後', 'in {s} seconds'],
  waitMinutes: ['約 {m} 分後（{at} 以降）', 'in about {m} minutes (after {at})'],
  signInFailed: ['ログインできませんでした: {d}', 'Could not sign in: {d}'],
  signInDown: ['サーバーに接続できません。', 'Cannot reach the server.'],
  signedInAs: ['{r}としてログイン中', 'Signed in as {r}'],
  sessionEnded: ['ログインの有効期限が切れました。もう一度ログインしてください。', 'Your session has ended. Please sign in again.'],
  role_professional: ['医療・介護専門職', 'Professional'],
  role_facility_editor: ['施設担当者', 'Facility editor'],
  role_coordinator: ['コーディネーター', 'Coordinator'],
  role_admin: ['管理者', 'Administrator'],
});

const ANON = { signed_in: false, role: 'anonymous', email: null, areas: [], facilities: [], csrf: null };
let current = { ...ANON };
const listeners = new Set();
let root = null;
let formOpen = false;
let message = '';

const $ = (sel, r = document) => r.querySelector(sel);
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

/** The session as the server last described it. */
export function session() { return current; }

/** Called with the new session whenever someone signs in or out (or the session ends). */
export function onSessionChange(fn) { listeners.add(fn); }

export function roleLabel(role) { return t(`role_${role}`); }

/** Whether the signed-in account may change facility `f` (the server decides; this hides forms). */
export function mayEdit(f) {
  const s = current;
  if (!s.signed_in || !f) return false;
  if (s.role === 'admin') return true;
  if (s.role === 'coordinator') return !!(f.area && s.areas.includes(f.area.code));
  if (s.role === 'facility_editor') return s.facilities.includes(f.id);
  return false;
}

function set(next, { notify = true } = {}) {
  const was = `${current.signed_in}:${current.email}:${current.role}`;
  current = { ...ANON, ...next };
  document.body.dataset.role = current.role;
  render();
  if (notify && was !== `${current.signed_in}:${current.email}:${current.role}`) {
    for (const fn of listeners) fn(current);
  }
}

/**
 * One API request with the session: JSON in and out, `X-CSRF-Token` on every state-changing
 * request, `If-Match` when an ETag is given; a FormData body goes as multipart, and with `blob`
 * a successful answer is read as a Blob (a download). Never throws on an HTTP status; the caller
 * reads `status`, `body` (problem+json on errors), `etag` and `retryAfter`.
 */
export async function request(method, path, { body, etag, credentials = 'same-origin', blob = false } = {}) {
  const headers = { Accept: 'application/json' };
  // A FormData body (a file upload) sets its own multipart Content-Type with the boundary.
  const form = typeof FormData !== 'undefined' && body instanceof FormData;
  if (body !== undefined && !form) headers['Content-Type'] = method === 'PATCH' ? 'application/merge-patch+json' : 'application/json';
  if (etag) headers['If-Match'] = etag;
  if (method !== 'GET' && current.csrf) headers['X-CSRF-Token'] = current.csrf;
  let res;
  try {
    res = await fetch(API + path, { method, headers, credentials, body: body === undefined ? undefined : form ? body : JSON.stringify(body) });
  } catch (e) {
    return { status: 0, ok: false, body: { detail: String(e) }, etag: null, retryAfter: null };
  }
  let data = null;
  // `blob`: a download (a CSV); errors are still problem+json.
  if (blob && res.ok) data = await res.blob().catch(() => null);
  else {
    try { data = await res.json(); } catch { /* 204 or not JSON */ }
  }
  // The server ended the session (expired, or signed out elsewhere): it also dropped the cookie.
  if (res.status === 401 && current.signed_in && path !== '/session') {
    message = t('sessionEnded');
    set(ANON);
  }
  return {
    status: res.status,
    ok: res.ok,
    body: data,
    etag: res.headers.get('ETag'),
    retryAfter: res.headers.get('Retry-After'),
  };
}

/** The Japanese or English half of a server message written "日本語 / English". */
export function serverText(detail) {
  const s = String(detail || '');
  const i = s.indexOf(' / ');
  if (i < 0 || !/[\u3040-\u30ff\u4e00-\u9fff]/.test(s.slice(0, i))) return s;
  return document.documentElement.lang === 'en' ? s.slice(i + 3) : s.slice(0, i);
}

function waitText(seconds) {
  const s = Math.max(1, Math.ceil(Number(seconds) || 0));
  if (s < 60) return t('waitSeconds', { s });
  const at = new Date(Date.now() + s * 1000);
  const hm = `${String(at.getHours()).padStart(2, '0')}:${String(at.getMinutes()).padStart(2, '0')}`;
  return t('waitMinutes', { m: Math.ceil(s / 60), at: hm });
}

function render() {
  if (!root) return;
  const s = current;
  if (s.signed_in) {
    root.innerHTML = `<span class="who" id="account-who" data-role="${esc(s.role)}">
        <span class="role-badge">${esc(roleLabel(s.role))}</span>
        <span class="email">${esc(s.email || '')}</span>
      </span>
      <button type="button" class="btn" id="sign-out">${esc(t('signOut'))}</button>`;
    return;
  }
  root.innerHTML = `<button type="button" id="pro-signin" class="btn" aria-expanded="${formOpen}" aria-controls="signin-form">${esc(t('signIn'))}</button>
    ${message && !formOpen ? `<p class="account-msg" role="status">${esc(message)}</p>` : ''}
    <form id="signin-form" class="signin-form" ${formOpen ? '' : 'hidden'} novalidate aria-labelledby="signin-heading">
      <h2 id="signin-heading">${esc(t('signInHeading'))}</h2>
      <div class="field"><label for="signin-email">${esc(t('emailLabel'))}</label>
        <input id="signin-email" name="email" type="email" autocomplete="username" required></div>
      <div class="field"><label for="signin-password">${esc(t('passwordLabel'))}</label>
        <input id="signin-password" name="password" type="password" autocomplete="current-password" required></div>
      <p id="signin-msg" class="msg" role="alert" ${message ? '' : 'hidden'}>${esc(message)}</p>
      <div class="row">
        <button type="submit" class="btn primary" id="signin-submit">${esc(t('signIn'))}</button>
        <button type="button" class="btn" id="signin-cancel">${esc(t('cancel'))}</button>
      </div>
    </form>`;
}

function showMessage(text) {
  message = text;
  const el = $('#signin-msg');
  if (!el) return render();
  el.hidden = !text;
  el.textContent = text;
}

async function signIn(ev) {
  ev.preventDefault();
  const email = $('#signin-email').value.trim();
  const password = $('#signin-password').value;
  const btn = $('#signin-submit');
  btn.disabled = true;
  btn.textContent = t('signingIn');
  const r = await request('POST', '/session', { body: { email, password } });
  btn.disabled = false;
  btn.textContent = t('signIn');
  if (r.ok && r.body && r.body.signed_in) {
    formOpen = false;
    message = '';
    set(r.body);
    $('#sign-out').focus();
    return;
  }
  if (r.status === 401) showMessage(t('signInWrong'));
  else if (r.status === 429) showMessage(t('signInLocked', { w: waitText(r.retryAfter || (r.body && r.body.retry_after)) }));
  else if (r.status === 0 || r.status >= 500) showMessage(t('signInDown'));
  else showMessage(t('signInFailed', { d: serverText(r.body && r.body.detail) || `HTTP ${r.status}` }));
  $('#signin-password').select();
}

async function signOut() {
  const r = await request('DELETE', '/session');
  // 401: the session had already ended; either way nobody is signed in on this page now.
  if (r.ok || r.status === 401) {
    message = '';
    set(ANON);
    $('#pro-signin').focus();
  }
}

/** Read who is signed in and wire the header slot; resolves once the session is known. */
export async function initAccount(el = $('#account')) {
  root = el;
  root.addEventListener('click', (ev) => {
    const b = ev.target.closest('button');
    if (!b) return;
    if (b.id === 'pro-signin') {
      formOpen = !formOpen;
      message = '';
      render();
      if (formOpen) $('#signin-email').focus();
    } else if (b.id === 'signin-cancel') {
      formOpen = false;
      message = '';
      render();
      $('#pro-signin').focus();
    } else if (b.id === 'sign-out') {
      signOut();
    }
  });
  root.addEventListener('submit', (ev) => { if (ev.target.id === 'signin-form') signIn(ev); });
  root.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape' && formOpen) { formOpen = false; message = ''; render(); $('#pro-signin').focus(); }
  });
  onLangChange(() => {
    // Keep what was typed across a language switch.
    const email = formOpen && $('#signin-email') ? $('#signin-email').value : '';
    render();
    if (email) $('#signin-email').value = email;
  });
  const r = await request('GET', '/session');
  // 401: the cookie is no longer valid (the server dropped it); the page is the public's.
  set(r.ok && r.body ? r.body : ANON, { notify: false });
}

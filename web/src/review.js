// The coordinator's review queue: corrections proposed by facility staff through update links,
// each shown as current → proposed, approved or rejected (a reason is required to reject);
// survey answers shown question by question, labelled from the survey's definition.

import { t, addStrings, onLangChange } from './i18n.js';
import { request, session, serverText, onSessionChange } from './account.js';
import { shortTime } from './capacity.js';
import { answerText, questionLabel } from './survey.js';

addStrings({
  reviewTab: ['確認待ち（{n}）', 'To review ({n})'],
  reviewTabPlain: ['確認待ち', 'To review'],
  reviewHeading: ['施設からの修正の提案', 'Corrections proposed by facilities'],
  reviewStatusLabel: ['表示する提案', 'Show'],
  review_pending: ['確認待ち', 'Pending'],
  review_approved: ['承認済み', 'Approved'],
  review_rejected: ['却下済み', 'Rejected'],
  review_all: ['すべて', 'All'],
  reviewEmpty: ['確認待ちの提案はありません。', 'Nothing to review.'],
  reviewEmptyOther: ['該当する提案はありません。', 'No proposals.'],
  reviewFrom: ['{d} ・ 更新用リンクから', '{d} · via update link'],
  reviewNote: ['施設からの連絡: {n}', 'Message from the facility: {n}'],
  reviewField: ['項目', 'Field'],
  reviewCurrent: ['現在', 'Now'],
  reviewProposed: ['提案', 'Proposed'],
  approve: ['承認', 'Approve'],
  reject: ['却下', 'Reject'],
  rejectReason: ['却下の理由（必須）', 'Reason for rejecting (required)'],
  rejectReasonMissing: ['却下の理由を入力してください。', 'Enter the reason for rejecting.'],
  reviewApproved: ['承認しました。施設情報に反映されました。', 'Approved; the entry is updated.'],
  reviewRejected: ['却下しました。', 'Rejected.'],
  reviewDecided: ['{s}（{w}、{d}）', '{s} ({w}, {d})'],
  reviewReason: ['理由: {r}', 'Reason: {r}'],
  reviewFailed: ['処理できませんでした: {d}', 'Could not do that: {d}'],
  reviewLoadFailed: ['提案を読み込めませんでした: {d}', 'Could not load the proposals: {d}'],
  reviewSurvey: ['調査票の回答: {s}', 'Survey answers: {s}'],
  reviewRespondent: ['回答者: {r}', 'Answered by {r}'],
  reviewQuestion: ['質問', 'Question'],
  via_update_link: ['更新用リンクから', 'via update link'],
  via_coordinator: ['コーディネーターが入力', 'entered by a coordinator'],
  via_sample: ['サンプル', 'sample'],
  reviewProOnly: ['専門職のみ', 'professionals only'],
});

const $ = (sel, r = document) => r.querySelector(sel);
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

const st = { active: false, status: 'pending', items: null, error: '', notice: '', pending: 0, seq: 0 };
/** Survey definitions by `code@version` (GET /surveys/{code}), and the opioid vocabulary. */
const surveys = new Map();
let opioids = null;

/** Fetch what the survey items of `items` need to be shown in words (once per survey). */
async function loadSurveyDefinitions(items) {
  const want = [...new Set(items.filter((p) => p.survey).map((p) => p.survey.code))].filter((c) => !surveys.has(c));
  if (!want.length) return;
  const [defs, vocab] = await Promise.all([
    Promise.all(want.map((c) => request('GET', `/surveys/${encodeURIComponent(c)}`))),
    opioids ? Promise.resolve(null) : request('GET', '/vocabulary'),
  ]);
  defs.forEach((r, i) => { if (r.ok && r.body) surveys.set(want[i], r.body); });
  if (vocab && vocab.ok && vocab.body) opioids = vocab.body.opioids || null;
}

function surveyRows(p) {
  const def = surveys.get(p.survey.code);
  const changes = p.changes || {};
  const current = p.current || {};
  const questions = (def && def.questions) || [];
  const ids = questions.map((q) => q.id).filter((id) => id in changes || id in current);
  for (const id of Object.keys(changes).concat(Object.keys(current))) if (!ids.includes(id)) ids.push(id);
  const cell = (q, v) => esc(answerText(q, v, opioids)).replace(/\n/g, '<br>');
  return ids.map((id) => {
    const q = questions.find((x) => x.id === id);
    const pro = q && q.visibility === 'professional' ? ` <span class="pro-tag">${esc(t('reviewProOnly'))}</span>` : '';
    return `<tr data-review-question="${esc(id)}"${id in changes ? '' : ' data-unchanged'}><th scope="row">${esc(q ? questionLabel(q) : id)}${pro}</th>
      <td class="old">${cell(q, current[id])}</td><td class="new">${id in changes ? cell(q, changes[id]) : ''}</td></tr>`;
  }).join('');
}
let hooks = { openDetail: () => {}, busy: () => {}, onDecided: () => {} };

/** Coordinators and admins review; the queue is theirs only. */
export function mayReview(s = session()) {
  return s.signed_in && ['coordinator', 'admin'].includes(s.role);
}

function fieldName(k) {
  const key = `field_${k}`;
  const s = t(key);
  return s === key ? k : s;
}

function valueText(v) {
  if (v === null || v === undefined || v === '') return t('none');
  if (Array.isArray(v)) {
    return v.map((c) => (c && typeof c === 'object' && 'value' in c
      ? `${t(c.kind) !== c.kind ? t(c.kind) : c.kind} ${c.value}${c.label ? `（${c.label}）` : ''}`
      : typeof c === 'string' ? c : JSON.stringify(c))).join('、');
  }
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** 「コーディネーター（a@example.jp）」 for `coordinator:a@example.jp`. */
export function actorText(actor) {
  const [role, ...rest] = String(actor || '').split(':');
  const key = `role_${role}`;
  const name = t(key) === key ? role : t(key);
  return rest.length ? `${name}（${rest.join(':')}）` : name;
}

function itemHtml(p) {
  const changes = p.changes || {};
  const current = p.current || {};
  const rows = p.survey ? surveyRows(p) : Object.keys(changes).map((k) => `<tr data-review-field="${esc(k)}"><th scope="row">${esc(fieldName(k))}</th>
      <td class="old">${esc(valueText(current[k]))}</td><td class="new">${esc(valueText(changes[k]))}</td></tr>`).join('');
  const decided = p.status && p.status !== 'pending';
  return `<li class="item review-item" data-proposal="${esc(p.id)}" data-id="${esc(p.facility_id)}" data-status="${esc(p.status || 'pending')}">
      <h3><button type="button" class="linkish name" data-act="detail">${esc(p.facility_name || p.facility_id)}</button></h3>
      ${p.survey ? surveyMeta(p) : `<p class="meta">${esc(t('reviewFrom', { d: shortTime(p.created_at) }))}</p>`}
      ${p.note ? `<p class="review-note">${esc(t('reviewNote', { n: p.note }))}</p>` : ''}
      <table${p.survey ? ' class="review-survey"' : ''}><thead><tr><th>${esc(t(p.survey ? 'reviewQuestion' : 'reviewField'))}</th><th>${esc(t('reviewCurrent'))}</th><th>${esc(t('reviewProposed'))}</th></tr></thead><tbody>${rows}</tbody></table>
      ${decided ? `<p class="decided">${esc(t('reviewDecided', { s: t(`review_${p.status}`), w: actorText(p.decided_by), d: shortTime(p.decided_at) }))}${p.reason ? `<br>${esc(t('reviewReason', { r: p.reason }))}` : ''}</p>` : `
      <div class="field"><label for="reason-${esc(p.id)}">${esc(t('rejectReason'))}</label>
        <textarea id="reason-${esc(p.id)}" rows="2" data-reason></textarea>
        <p class="field-error" data-error-for="reason" hidden></p></div>
      <div class="row">
        <button type="button" class="btn primary small" data-review="approve">${esc(t('approve'))}</button>
        <button type="button" class="btn small" data-review="reject">${esc(t('reject'))}</button>
      </div>
      <div class="review-msg" role="alert"></div>`}
    </li>`;
}

function surveyMeta(p) {
  const def = surveys.get(p.survey.code);
  const title = def ? (document.documentElement.lang === 'en' ? def.title_en || def.title_ja : def.title_ja) : p.survey.code;
  const via = p.via ? t(`via_${p.via}`) : '';
  const bits = [shortTime(p.created_at), t('reviewSurvey', { s: title }), via !== `via_${p.via}` ? via : p.via].filter(Boolean);
  return `<p class="meta" data-survey="${esc(p.survey.code)}" data-via="${esc(p.via || '')}">${esc(bits.join(' ・ '))}</p>
    ${p.survey.respondent ? `<p class="meta review-respondent">${esc(t('reviewRespondent', { r: p.survey.respondent }))}</p>` : ''}`;
}

function renderTab() {
  const tab = $('#tab-review');
  if (!tab) return;
  tab.hidden = !mayReview();
  tab.textContent = st.pending ? t('reviewTab', { n: st.pending }) : t('reviewTabPlain');
}

function render() {
  renderTab();
  const list = $('#review-list');
  if (!list) return;
  $('#review-status').value = st.status;
  const msg = $('#review-msg');
  msg.hidden = !(st.error || st.notice);
  msg.className = st.error ? 'msg' : 'ok-msg';
  msg.textContent = st.error || st.notice;
  const items = st.items || [];
  list.innerHTML = items.map(itemHtml).join('');
  $('#review-empty').hidden = !(st.items && !items.length);
  $('#review-empty').textContent = st.status === 'pending' ? t('reviewEmpty') : t('reviewEmptyOther');
}

async function load() {
  if (!mayReview()) return;
  const seq = ++st.seq;
  hooks.busy(1);
  try {
    const [r, pend] = await Promise.all([
      request('GET', `/review?status=${encodeURIComponent(st.status)}`),
      st.status === 'pending' ? Promise.resolve(null) : request('GET', '/review?status=pending'),
    ]);
    if (seq !== st.seq) return;
    if (r.ok) {
      const items = Array.isArray(r.body) ? r.body : (r.body && r.body.items) || [];
      await loadSurveyDefinitions(items);
      if (seq !== st.seq) return;
      st.items = items;
      st.error = '';
      const p = pend ? (pend.ok ? (Array.isArray(pend.body) ? pend.body : (pend.body && pend.body.items) || []) : null) : st.items;
      if (p) st.pending = p.length;
    } else {
      st.items = [];
      st.error = t('reviewLoadFailed', { d: serverText(r.body && r.body.detail) || `HTTP ${r.status}` });
    }
    render();
  } finally {
    hooks.busy(-1);
  }
}

async function decide(li, how) {
  const id = li.dataset.proposal;
  const box = li.querySelector('.review-msg');
  const reasonEl = li.querySelector('[data-reason]');
  const errEl = li.querySelector('[data-error-for="reason"]');
  errEl.hidden = true;
  reasonEl.removeAttribute('aria-invalid');
  let body;
  if (how === 'reject') {
    const reason = reasonEl.value.trim();
    if (!reason) {
      errEl.hidden = false;
      errEl.textContent = t('rejectReasonMissing');
      reasonEl.setAttribute('aria-invalid', 'true');
      reasonEl.focus();
      return;
    }
    body = { reason };
  }
  for (const b of li.querySelectorAll('[data-review]')) b.disabled = true;
  const r = await request('POST', `/review/${encodeURIComponent(id)}/${how}`, { body });
  for (const b of li.querySelectorAll('[data-review]')) b.disabled = false;
  const p = r.body || {};
  if (r.ok) {
    st.notice = how === 'approve' ? t('reviewApproved') : t('reviewRejected');
    await load();
    hooks.onDecided(p);
    const heading = $('#review-heading');
    if (heading) heading.focus();
    return;
  }
  const detail = serverText(p.detail) || `HTTP ${r.status}`;
  if (r.status === 400 && p.field === 'reason') {
    errEl.hidden = false;
    errEl.textContent = detail;
    reasonEl.setAttribute('aria-invalid', 'true');
    reasonEl.focus();
    return;
  }
  box.innerHTML = `<p class="msg">${esc(t('reviewFailed', { d: detail }))}</p>`;
}

export function setReviewActive(on) {
  st.active = on;
  document.body.classList.toggle('tab-review', on);
  if (on) { st.notice = ''; load(); }
}

export function initReview(h) {
  hooks = { ...hooks, ...h };
  $('#review-status').addEventListener('change', (ev) => { st.status = ev.target.value; st.notice = ''; load(); });
  $('#review-list').addEventListener('click', (ev) => {
    const b = ev.target.closest('button');
    if (!b) return;
    const li = b.closest('[data-proposal]');
    if (!li) return;
    if (b.dataset.review) decide(li, b.dataset.review);
    else if (b.dataset.act === 'detail') hooks.openDetail(li.dataset.id, 'list');
  });
  onSessionChange(() => {
    st.items = null;
    st.pending = 0;
    st.error = '';
    st.notice = '';
    render();
    if (mayReview()) load();
  });
  onLangChange(render);
}

/** The session is known: show the tab and its count to those who review. */
export function startReview() {
  render();
  if (mayReview()) load();
}

// The page a facility's staff open from an update link (/update.html#<token>), with no account:
// their own entry's bed status with one big button per status, "confirm unchanged", and on a
// one-time link a short form to propose corrections that the coordinator reviews, and the
// survey of the facility's kind (survey.js) whose answers the coordinator reviews too.

import './update.css';
import { t, addStrings, initLang, getLang, setLang, applyStatic } from './i18n.js';
import { API } from './api.js';
import {
  newSurveyState, surveyFormHtml, wireSurvey, collectAnswers, surveyTouched, surveyErrorKey,
} from './survey.js';
import { STATUSES, statusBadge, statusLabel, sampleTag, capacityFacts, serviceName, shortTime, capacityFieldText } from './capacity.js';

addStrings({
  updTitle: ['受け入れ状況の更新', 'Update your bed status'],
  updIntro: ['この施設の受け入れ状況を選んでください。地域の在宅医・訪問看護師がこの情報を見て入院を依頼します。', 'Choose your current status. Home-care physicians and nurses of the region read it before asking for an admission.'],
  updOneTime: ['このリンクは1回限りです。選んだ内容は下の「送信」でまとめて送られ、送信するとリンクは使えなくなります。', 'This link works once: what you choose is sent together with “Send”, and the link is then used up.'],
  updStanding: ['ボタンを押すとすぐに反映されます。このリンクは繰り返し使えます。', 'Each tap applies at once. This link can be used again.'],
  updExpires: ['有効期限: {d}', 'Valid until {d}'],
  updCurrent: ['現在: ', 'Now: '],
  updSetLabel: ['{s}の受け入れ状況', 'Status of {s}'],
  updMore: ['空床数・待機日数・メモ（任意）', 'Free beds, waiting days, note (optional)'],
  updFreeBeds: ['空床数', 'Free beds'],
  updWaiting: ['待機日数', 'Waiting days'],
  updNote: ['メモ（200字まで）', 'Note (up to 200 characters)'],
  updConfirm: ['変更なしを確認', 'Confirm unchanged'],
  updConfirmHint: ['名称・住所・電話などの掲載内容に変更がないことを確認します。', 'Confirms that the name, address, phone and the rest are still right.'],
  updPropose: ['掲載内容の修正を提案する', 'Propose a correction'],
  updProposeHint: ['提案は地域のコーディネーターが確認してから反映されます。', 'A coordinator of the region checks a proposal before it is applied.'],
  updPhone: ['電話番号（代表）', 'Phone (main)'],
  updNotes: ['備考', 'Notes'],
  updMessage: ['コーディネーターへの連絡（任意）', 'Message to the coordinator (optional)'],
  updSend: ['送信', 'Send'],
  updSending: ['送信中…', 'Sending…'],
  updNothing: ['送信する内容を選んでください（受け入れ状況、変更なしの確認、または修正の提案）。', 'Choose something to send (a status, confirm unchanged, or a correction).'],
  updDone: ['送信しました。ありがとうございました。', 'Sent. Thank you.'],
  updApplied: ['受け入れ状況を更新しました（{n}件）。', 'Status updated ({n}).'],
  updSet: ['「{v}」に更新しました（{d}）。', 'Set to “{v}” ({d}).'],
  updConfirmed: ['変更なしを確認しました（{d}）。', 'Confirmed unchanged ({d}).'],
  updProposed: ['修正の提案を受け付けました。コーディネーターの確認後に反映されます。', 'Your correction is received; it is applied once a coordinator has checked it.'],
  updUsedUp: ['このリンクは使用済みになりました。次回はコーディネーターに新しいリンクを依頼してください。', 'This link is now used up; ask the coordinator for a new one next time.'],
  updInvalid: ['このリンクは無効です', 'This link is not valid'],
  updInvalidHelp: ['リンクが途中で切れていないか確認してください。解決しない場合は、地域のコーディネーターに新しいリンクを依頼してください。', 'Check that the whole link was copied. Otherwise ask the region\u2019s coordinator for a new link.'],
  updGone: ['このリンクは使えません（期限切れ／使用済み）', 'This link can no longer be used (expired or used)'],
  updGoneHelp: ['地域のコーディネーターに新しいリンクを依頼してください。', 'Ask the region\u2019s coordinator for a new link.'],
  updConflict: ['この施設の情報が別の所で更新されたため、最新の内容を読み込みました。もう一度送信してください。', 'This entry was changed elsewhere; the latest is loaded. Please send again.'],
  updFailed: ['送信できませんでした: {d}', 'Could not send: {d}'],
  updDown: ['サーバーに接続できません。電波の良い所でもう一度お試しください。', 'Cannot reach the server. Try again where the connection is better.'],
  updFix: ['入力内容を確認してください: {d}', 'Please check: {d}'],
  updHintPhone: ['電話番号は 0 から始まる10桁か11桁で入力してください（例: 048-123-4567）。', ''],
  updHintNotes: ['備考は2000文字までです。', ''],
  updNoServices: ['この施設には受け入れ状況を登録するサービスがありません。', 'This facility has no service with a bed status.'],
  updSurveyDone: ['回答を受け付けました。地域の調整担当者の確認後に反映されます。', 'Your answers are received; they are shown once a coordinator of the region has checked them.'],
  updSurveyOpen: ['調査に回答する（{s}）', 'Answer the survey ({s})'],
  updSurveyMissing: ['未回答の必須項目があります。', 'Some required questions are not answered.'],
  updSurveyIntro: ['下の調査にお答えください。地域の在宅医・訪問看護師・退院調整の担当者がこの情報を見て連絡します。', 'Please answer the survey below. Home-care physicians, nurses and discharge planners of the region read it before they call.'],
});

const $ = (sel, r = document) => r.querySelector(sel);
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

const st = {
  token: '',
  data: null, // the GET answer
  etag: null,
  gone: null, // { status, detail } for 404 / 410
  picked: {}, // one-time: service → status chosen, sent with “Send”
  confirm: false,
  msgs: {}, // service → { text, kind }
  result: null, // one-time: what the POST applied
  message: null, // { text, kind } at the bottom
  errors: {}, // field → text
  sending: false,
  vocab: null, // opioids of GET /vocabulary (the formulary editor's drugs and brand names)
  survey: newSurveyState(),
  svErrors: {}, // survey question (or formulary.N.field, respondent) → words
  sentSurvey: false,
  surveyOpen: false, // a ward's folded survey, unfolded by hand
  focus: null, // a selector to focus after the next render
};

let busyCount = 0;
function busy(d) {
  busyCount = Math.max(0, busyCount + d);
  document.body.dataset.busy = String(busyCount);
}

/** The Japanese or English half of a server message written "日本語 / English". */
function serverText(detail) {
  const s = String(detail || '');
  const i = s.indexOf(' / ');
  if (i < 0 || !/[\u3040-\u30ff\u4e00-\u9fff]/.test(s.slice(0, i))) return s;
  return getLang() === 'en' ? s.slice(i + 3) : s.slice(0, i);
}

async function call(method, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && st.etag) headers['If-Match'] = st.etag;
  busy(1);
  try {
    const res = await fetch(`${API}/update-links/${encodeURIComponent(st.token)}`, {
      method, headers, credentials: 'omit', body: body === undefined ? undefined : JSON.stringify(body),
    });
    let data = null;
    try { data = await res.json(); } catch { /* empty or not JSON */ }
    return { status: res.status, ok: res.ok, body: data, etag: res.headers.get('ETag') };
  } catch (e) {
    return { status: 0, ok: false, body: { detail: String(e) }, etag: null };
  } finally {
    busy(-1);
  }
}

const oneTime = () => st.data && st.data.link && st.data.link.kind !== 'standing';

function services() {
  const f = st.data.facility || {};
  const kinds = st.data.capacity_services || [];
  return kinds.map((k) => (f.services || []).find((s) => s.kind === k) || { kind: k, label: null, capacity: null });
}

function serviceHtml(s) {
  const cap = s.capacity;
  const name = serviceName(s);
  const picked = oneTime() ? st.picked[s.kind] : (cap && !cap.stale ? cap.status : '');
  const m = st.msgs[s.kind];
  const done = !!st.result;
  const fid = (k) => `upd-${s.kind}-${k}`;
  const err = (k) => (st.errors[`${s.kind}.${k}`] ? `<p class="field-error" data-error-for="${esc(k)}">${esc(st.errors[`${s.kind}.${k}`])}</p>` : '');
  return `<section class="upd-svc" data-service="${esc(s.kind)}" aria-labelledby="${fid('h')}">
      <h2 id="${fid('h')}">${esc(name)}</h2>
      <p class="upd-now">${esc(t('updCurrent'))}${statusBadge(cap)}${sampleTag(cap && cap.sample)}</p>
      ${capacityFacts(cap) ? `<p class="small">${esc(capacityFacts(cap))}</p>` : ''}
      <div class="upd-buttons" role="group" aria-label="${esc(t('updSetLabel', { s: name }))}">
        ${STATUSES.map((v) => `<button type="button" class="big st-${v}" data-set="${v}" aria-pressed="${picked === v}"${done || st.sending ? ' disabled' : ''}>${esc(statusLabel(v))}</button>`).join('')}
      </div>
      <details class="upd-more"><summary>${esc(t('updMore'))}</summary>
        <label for="${fid('free_beds')}">${esc(t('updFreeBeds'))}</label>
        <input id="${fid('free_beds')}" type="number" inputmode="numeric" min="0" max="2000" data-field="free_beds"${done ? ' disabled' : ''}>${err('free_beds')}
        <label for="${fid('waiting_days')}">${esc(t('updWaiting'))}</label>
        <input id="${fid('waiting_days')}" type="number" inputmode="numeric" min="0" max="365" data-field="waiting_days"${done ? ' disabled' : ''}>${err('waiting_days')}
        <label for="${fid('note')}">${esc(t('updNote'))}</label>
        <input id="${fid('note')}" type="text" maxlength="200" data-field="note"${done ? ' disabled' : ''}>${err('note')}
      </details>
      <div class="upd-msg" role="status" aria-live="polite">${m ? `<p class="${m.kind === 'error' ? 'msg' : 'ok-msg'}">${esc(m.text)}</p>` : ''}</div>
    </section>`;
}

function render() {
  const main = $('#upd');
  applyStatic();
  document.title = t('updTitle');
  if (st.gone) {
    const invalid = st.gone.status === 404;
    main.innerHTML = `<h1 id="upd-error" data-status="${st.gone.status}">${esc(invalid ? t('updInvalid') : t('updGone'))}</h1>
      ${!invalid && st.gone.detail ? `<p id="upd-error-detail">${esc(serverText(st.gone.detail))}</p>` : ''}
      <p>${esc(invalid ? t('updInvalidHelp') : t('updGoneHelp'))}</p>`;
    return;
  }
  if (!st.data) {
    main.innerHTML = st.message ? `<p class="msg" id="upd-error">${esc(st.message.text)}</p>` : '';
    return;
  }
  // Keep what was typed in the optional fields across a redraw.
  const typed = {};
  for (const el of main.querySelectorAll('input, textarea')) if (el.id && !el.closest('#upd-survey')) typed[el.id] = el.value;
  const f = st.data.facility || {};
  const link = st.data.link || {};
  const svcs = services();
  const done = !!st.result;
  const phone = (f.contacts || []).find((c) => c.kind === 'phone');
  const survey = st.data.may_answer_survey && st.data.survey ? st.data.survey : null;
  main.innerHTML = `<h1 id="upd-name">${esc(f.name || '')}</h1>
    ${f.address && f.address.text ? `<p class="upd-addr">${esc(f.address.text)}</p>` : ''}
    ${done ? `<div id="upd-result" role="status" aria-live="polite">${resultHtml()}</div>` : ''}
    <p class="upd-intro">${esc(svcs.length || !survey ? t('updIntro') : t('updSurveyIntro'))}</p>
    <p class="upd-kind note" id="upd-kind" data-kind="${esc(link.kind || '')}">${esc(oneTime() ? t('updOneTime') : t('updStanding'))}${link.expires_at ? `<br>${esc(t('updExpires', { d: shortTime(link.expires_at) }))}` : ''}</p>
    ${svcs.length ? svcs.map(serviceHtml).join('') : survey ? '' : `<p>${esc(t('updNoServices'))}</p>`}
    ${survey ? surveyBlock(survey, svcs.length > 0, done) : ''}
    <section class="upd-confirm">
      <button type="button" class="big confirm" id="upd-confirm" aria-pressed="${oneTime() ? st.confirm : false}"${done || st.sending ? ' disabled' : ''}>${esc(t('updConfirm'))}</button>
      <p class="hint">${esc(t('updConfirmHint'))}</p>
      <div class="upd-msg" id="upd-confirm-msg" role="status">${st.msgs.confirm ? `<p class="${st.msgs.confirm.kind === 'error' ? 'msg' : 'ok-msg'}">${esc(st.msgs.confirm.text)}</p>` : ''}</div>
    </section>
    ${st.data.may_propose ? `<details class="upd-propose" id="upd-propose"${st.errors.phone || st.errors.notes ? ' open' : ''}><summary>${esc(t('updPropose'))}</summary>
      <p class="hint">${esc(t('updProposeHint'))}</p>
      <label for="upd-phone">${esc(t('updPhone'))}</label>
      <input id="upd-phone" type="tel" inputmode="tel" autocomplete="off" placeholder="${esc(phone ? phone.value : '048-000-0000')}"${st.errors.phone ? ' aria-invalid="true"' : ''}${done ? ' disabled' : ''}>
      ${st.errors.phone ? `<p class="field-error" data-error-for="phone">${esc(st.errors.phone)}</p>` : ''}
      <label for="upd-notes">${esc(t('updNotes'))}</label>
      <textarea id="upd-notes" rows="3"${st.errors.notes ? ' aria-invalid="true"' : ''}${done ? ' disabled' : ''}>${esc(f.notes || '')}</textarea>
      ${st.errors.notes ? `<p class="field-error" data-error-for="notes">${esc(st.errors.notes)}</p>` : ''}
      <label for="upd-message">${esc(t('updMessage'))}</label>
      <input id="upd-message" type="text" maxlength="500"${done ? ' disabled' : ''}>
    </details>` : ''}
    ${oneTime() ? `<button type="button" class="big primary" id="upd-send"${done || st.sending ? ' disabled' : ''}>${esc(st.sending ? t('updSending') : t('updSend'))}</button>` : ''}
    ${done ? '' : `<div id="upd-result" role="status" aria-live="polite">${resultHtml()}</div>`}`;
  for (const [id, v] of Object.entries(typed)) {
    const el = document.getElementById(id);
    if (el && id !== 'upd-notes') el.value = v;
    else if (el && id === 'upd-notes' && v !== (f.notes || '')) el.value = v;
  }
  if (st.focus) {
    const el = main.querySelector(st.focus);
    st.focus = null;
    if (el) el.focus();
  }
}

/**
 * The survey: open on a facility with no bed status to report (a pharmacy), folded under the
 * status buttons of a ward, where it is not what the nurse came for, unless already started.
 */
function surveyBlock(survey, folded, done) {
  const form = surveyFormHtml(survey, st.survey, { vocab: st.vocab, errors: st.svErrors, disabled: done || st.sending });
  if (!folded) return form;
  const open = st.surveyOpen || surveyTouched(st.survey) || Object.keys(st.svErrors).length > 0;
  const title = getLang() === 'en' ? survey.title_en || survey.title_ja : survey.title_ja;
  return `<details class="upd-survey-fold" id="upd-survey-fold"${open ? ' open' : ''}><summary>${esc(t('updSurveyOpen', { s: title }))}</summary>${form}</details>`;
}

function resultHtml() {
  if (st.result) {
    const a = st.result.applied || {};
    const lines = [t('updDone')];
    if (a.capacity) lines.push(t('updApplied', { n: a.capacity }));
    if (a.confirmed) lines.push(t('updConfirmed', { d: shortTime(new Date().toISOString()) }));
    if (st.sentSurvey) lines.push(t('updSurveyDone'));
    else if (st.result.proposal_id != null) lines.push(t('updProposed'));
    if (oneTime()) lines.push(t('updUsedUp'));
    return `<div class="ok-msg" id="upd-done">${lines.map((l) => `<p>${esc(l)}</p>`).join('')}</div>`;
  }
  if (st.message) return `<p class="${st.message.kind === 'error' ? 'msg' : 'ok-msg'}">${esc(st.message.text)}</p>`;
  return '';
}

/** The optional figures typed for a service, as the API wants them. */
function extras(service) {
  const box = document.querySelector(`.upd-svc[data-service="${CSS.escape(service)}"]`);
  const o = {};
  if (!box) return o;
  for (const el of box.querySelectorAll('[data-field]')) {
    const v = el.value.trim();
    if (v) o[el.dataset.field] = el.type === 'number' ? Number(v) : v;
  }
  return o;
}

/** The proposal of the form: only fields that differ from the entry. */
function proposal() {
  if (!st.data.may_propose) return null;
  const f = st.data.facility || {};
  const phone = ($('#upd-phone') || {}).value?.trim() || '';
  const notes = ($('#upd-notes') || {}).value?.trim() ?? '';
  const note = ($('#upd-message') || {}).value?.trim() || '';
  const changes = {};
  const contacts = f.contacts || [];
  const i = contacts.findIndex((c) => c.kind === 'phone');
  if (phone && (i < 0 || contacts[i].value !== phone)) {
    // The whole list: a merge patch replaces arrays. The coordinator sees both before approving.
    const next = contacts.map((c) => {
      const o = { kind: c.kind, value: c.value };
      if (c.label) o.label = c.label;
      if (c.visibility) o.visibility = c.visibility;
      return o;
    });
    if (i >= 0) next[i] = { ...next[i], value: phone };
    else next.unshift({ kind: 'phone', value: phone, label: '代表' });
    changes.contacts = next;
  }
  if (notes !== (f.notes || '').trim()) changes.notes = notes || null;
  if (!Object.keys(changes).length) return null;
  const p = { changes };
  if (note) p.note = note;
  return p;
}

/** Where a refused field's message goes: a service's figure, the phone or the notes. */
function placeError(field, text) {
  const m = /(?:^|\.)capacity\[(\d+)\]\.(\w+)$/.exec(field || '');
  if (m && st.lastCapacity && st.lastCapacity[Number(m[1])]) {
    st.errors[`${st.lastCapacity[Number(m[1])].service}.${m[2]}`] = capacityFieldText(m[2], text);
    return true;
  }
  // A figure named without its service (the server checks one report at a time): the only
  // one sent, else the first that carries it.
  if (['free_beds', 'waiting_days', 'note'].includes(field) && st.lastCapacity && st.lastCapacity.length) {
    const c = st.lastCapacity.find((x) => x[field] !== undefined) || st.lastCapacity[0];
    st.errors[`${c.service}.${field}`] = capacityFieldText(field, text);
    return true;
  }
  if (/contacts/.test(field || '')) { st.errors.phone = t('updHintPhone') || text; return true; }
  if (/(^|\.)notes$/.test(field || '')) { st.errors.notes = t('updHintNotes') || text; return true; }
  return false;
}

async function reload() {
  const r = await call('GET');
  if (r.ok && r.body) {
    st.data = r.body;
    st.etag = r.etag;
    st.gone = null;
  } else if (r.status === 404 || r.status === 410) {
    st.gone = { status: r.status, detail: r.body && r.body.detail };
  } else {
    st.message = { text: r.status === 0 ? t('updDown') : t('updFailed', { d: serverText(r.body && r.body.detail) || `HTTP ${r.status}` }), kind: 'error' };
  }
  return r;
}

/** POST what was chosen; `what`: which control asked (a service, 'confirm' or 'send'). */
async function send(body, what) {
  st.sending = true;
  st.errors = {};
  st.svErrors = {};
  st.message = null;
  st.lastCapacity = body.capacity || null;
  render();
  const r = await call('POST', body);
  st.sending = false;
  const p = r.body || {};
  if (r.ok) {
    if (p.facility) st.data = { ...st.data, facility: p.facility };
    if (oneTime()) {
      st.result = p;
      st.sentSurvey = !!body.survey;
    } else {
      const at = shortTime(new Date().toISOString());
      if (what === 'confirm') st.msgs.confirm = { text: t('updConfirmed', { d: at }), kind: 'ok' };
      else if (body.capacity) for (const c of body.capacity) st.msgs[c.service] = { text: t('updSet', { v: statusLabel(c.status), d: at }), kind: 'ok' };
      // The entry's version moved on: the next tap needs the new one.
      if (r.etag) st.etag = r.etag;
      else await reload();
    }
    render();
    if (what === 'send') window.scrollTo(0, 0);
    return;
  }
  if (r.status === 404 || r.status === 410) {
    st.gone = { status: r.status, detail: p.detail };
  } else if (r.status === 409 || r.status === 412 || r.status === 428) {
    await reload();
    st.message = { text: t('updConflict'), kind: 'error' };
  } else if (r.status === 400) {
    const text = serverText(p.detail) || `HTTP ${r.status}`;
    const key = surveyErrorKey(p.field);
    if (key && key !== '_survey') {
      st.svErrors[key] = text;
      const q = key.split('.')[0];
      st.focus = key.includes('.') ? `[data-line="${key.split('.')[1]}"]` : `[data-question="${CSS.escape(q)}"]`;
    } else if (!placeError(p.field, text)) st.message = { text: t('updFix', { d: text }), kind: 'error' };
  } else {
    st.message = { text: r.status === 0 ? t('updDown') : t('updFailed', { d: serverText(p.detail) || `HTTP ${r.status}` }), kind: 'error' };
  }
  render();
}

function sendAll() {
  const capacity = Object.entries(st.picked).map(([service, status]) => ({ service, status, ...extras(service) }));
  const body = {};
  if (capacity.length) body.capacity = capacity;
  if (st.confirm) body.confirm = true;
  const p = proposal();
  if (p) body.proposal = p;
  const survey = st.data.may_answer_survey && st.data.survey;
  if (survey && surveyTouched(st.survey)) {
    const { answers, missing } = collectAnswers(survey, st.survey, st.vocab);
    if (missing.length) {
      st.svErrors = Object.fromEntries(missing.map((id) => [id, t('svMissing')]));
      st.message = { text: t('updSurveyMissing'), kind: 'error' };
      st.focus = `[data-question="${CSS.escape(missing[0])}"] button, [data-question="${CSS.escape(missing[0])}"] input`;
      render();
      return;
    }
    body.survey = { code: survey.code, version: survey.version, answers };
    if (st.survey.respondent.trim()) body.survey.respondent = st.survey.respondent.trim();
  }
  if (!Object.keys(body).length) {
    st.message = { text: t('updNothing'), kind: 'error' };
    render();
    return;
  }
  send(body, 'send');
}

function wire() {
  document.addEventListener('click', (ev) => {
    const b = ev.target.closest('button');
    if (!b || b.disabled) return;
    if (b.id === 'lang-toggle') { setLang(getLang() === 'ja' ? 'en' : 'ja'); render(); return; }
    if (!st.data || st.result) return;
    if (b.dataset.set) {
      const service = b.closest('[data-service]').dataset.service;
      if (oneTime()) {
        st.picked[service] = st.picked[service] === b.dataset.set ? undefined : b.dataset.set;
        if (!st.picked[service]) delete st.picked[service];
        st.message = null;
        render();
        const again = document.querySelector(`.upd-svc[data-service="${CSS.escape(service)}"] [data-set="${b.dataset.set}"]`);
        if (again) again.focus();
      } else {
        send({ capacity: [{ service, status: b.dataset.set, ...extras(service) }] }, service);
      }
      return;
    }
    if (b.id === 'upd-confirm') {
      if (oneTime()) { st.confirm = !st.confirm; st.message = null; render(); $('#upd-confirm').focus(); } else send({ confirm: true }, 'confirm');
      return;
    }
    if (b.id === 'upd-send') sendAll();
  });
  window.addEventListener('hashchange', () => location.reload());
  // Keep the survey unfolded across redraws once someone opened it (toggle does not bubble).
  document.addEventListener('toggle', (ev) => { if (ev.target.id === 'upd-survey-fold') st.surveyOpen = ev.target.open; }, true);
  wireSurvey(document, () => (st.data && !st.result && !st.sending ? st.survey : null), ({ focus } = {}) => {
    st.focus = focus || null;
    render();
  });
}

async function loadVocabulary() {
  try {
    const res = await fetch(`${API}/vocabulary`, { headers: { Accept: 'application/json' }, credentials: 'omit' });
    const v = res.ok ? await res.json() : null;
    st.vocab = (v && v.opioids) || null;
  } catch { /* the brand-name box still works without the list */ }
}

async function main() {
  initLang();
  document.body.dataset.busy = '0';
  wire();
  st.token = decodeURIComponent(location.hash.replace(/^#/, '')).trim();
  if (!st.token) {
    st.gone = { status: 404 };
  } else {
    await Promise.all([reload(), loadVocabulary()]);
  }
  render();
  document.body.dataset.ready = '1';
}

main();

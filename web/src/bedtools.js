// The detail panel's bed part for signed-in users: each capacity-bearing service's status (with
// its age) and admission rules; for those who may edit the facility, one-tap status buttons and
// the admission-rules form; for the area's coordinator, issuing an update link for the staff.

import { t, addStrings } from './i18n.js';
import { session, mayEdit, request, serverText } from './account.js';
import { knownVersion, rememberVersion } from './edit.js';
import {
  CAPACITY_SERVICES, STATUSES, statusBadge, statusLabel, sampleTag, capacityFacts, rulesCard, routeText,
  serviceName, shortTime, capacityFieldText, reporterText,
} from './capacity.js';

addStrings({
  bedsHeading: ['受け入れ状況・受け入れ条件', 'Beds and admission rules'],
  bedsProOnly: ['医療者向け（一般には表示されません）', 'For professionals (not shown to the public)'],
  capSetLabel: ['{s}の受け入れ状況を更新', 'Update the status of {s}'],
  capMore: ['空床数・待機日数・メモ（任意）', 'Free beds, waiting days, note (optional)'],
  capFreeBedsLabel: ['空床数', 'Free beds'],
  capWaitingLabel: ['待機日数', 'Waiting days'],
  capNoteLabel: ['メモ（200字まで）', 'Note (up to 200 characters)'],
  capSaved: ['{s}を「{v}」に更新しました。', '{s} set to “{v}”.'],
  capConflict: ['他の人が先にこの施設を変更しました。最新の内容を表示しています。もう一度選んでください。', 'Someone changed this facility first; the latest is shown. Please choose again.'],
  capFailed: ['更新できませんでした: {d}', 'Could not update: {d}'],
  allRoutes: ['依頼方法', 'How to request'],
  rulesEdit: ['受け入れ条件を編集', 'Edit admission rules'],
  rulesHeading: ['{s}の受け入れ条件', 'Admission rules: {s}'],
  rulesRoutes: ['依頼方法（電話・FAX・ICT・Webフォーム）', 'Request routes (phone, fax, ICT, web form)'],
  routeKind: ['方法', 'Route'],
  routeValue: ['番号・ネットワーク名・アドレス', 'Number, network or address'],
  routeLabel: ['宛先（例: 地域連携室）', 'To whom (e.g. liaison office)'],
  addRoute: ['依頼方法を追加', 'Add a route'],
  remove: ['削除', 'Remove'],
  rulesHours: ['依頼を受け付ける時間', 'Hours requests are taken'],
  hoursFrom: ['開始', 'From'],
  hoursTo: ['終了（翌朝までなら開始より前の時刻）', 'To (earlier than From runs past midnight)'],
  addPeriod: ['受付時間を追加', 'Add hours'],
  hoursHint: ['日本時間。祝日は「祝」を選んだ時間帯だけが有効です。依頼方法ごとの受付時間は保存時にそのまま残ります。', 'Japan time. On a national holiday only the hours that include “Holidays” apply. Each route\u2019s own hours are kept as they are.'],
  rulesDocuments: ['必要な書類（「、」で区切る）', 'Documents needed (separate with 、)'],
  rulesTransport: ['搬送', 'Transport'],
  rulesMaxStay: ['最長入院日数', 'Longest stay (days)'],
  rulesEligibility: ['対象', 'Eligibility'],
  eligCancerOnly: ['がん患者のみ', 'Cancer patients only'],
  eligPrereg: ['事前登録が必要（在宅医による事前の登録患者のみ）', 'Registration in advance required (patients registered by the home physician)'],
  eligPreregNote: ['事前登録の方法', 'How to register'],
  eligMinAge: ['年齢の下限', 'Minimum age'],
  eligNote: ['対象の補足', 'Note on eligibility'],
  rulesWhenFull: ['満床時の対応', 'When full'],
  rulesInfoTool: ['情報共有ツール（例: とねっと）', 'Information-sharing tool'],
  rulesLastReviewed: ['最終確認日', 'Last reviewed'],
  rulesNotes: ['備考', 'Notes'],
  rulesVisibility: ['公開範囲', 'Who sees it'],
  rulesSaved: ['受け入れ条件を保存しました。', 'Admission rules saved.'],
  linkHeading: ['施設の方による更新（ログイン不要のリンク）', 'Updates by the facility\u2019s staff (a link, no account)'],
  linkOneTime: ['1回限り（14日間有効）: 受け入れ状況・変更なしの確認・修正の提案', 'One-time (valid 14 days): status, confirm unchanged, propose corrections'],
  linkStanding: ['常設（期限なし）: 受け入れ状況と変更なしの確認のみ', 'Standing (no expiry): status and confirm unchanged only'],
  linkIssue: ['更新用リンクを発行', 'Issue an update link'],
  linkIssued: ['更新用リンクを発行しました。施設の担当者に伝えてください（このリンクを知っている人は誰でも更新できます）。', 'Link issued. Give it to the facility\u2019s staff (anyone with the link can update).'],
  linkExpires: ['有効期限: {d}', 'Expires {d}'],
  linkNoExpiry: ['有効期限なし（取り消すまで有効）', 'No expiry (until revoked)'],
  linkCopy: ['コピー', 'Copy'],
  linkUrlLabel: ['更新用リンク', 'Update link'],
  linkList: ['発行済みのリンク', 'Links issued'],
  linkListEmpty: ['発行済みのリンクはありません。', 'No links issued.'],
  linkKind_one_time: ['1回限り', 'one-time'],
  linkKind_standing: ['常設', 'standing'],
  linkUsed: ['使用済み {d}', 'used {d}'],
  linkRevoked: ['取り消し済み', 'revoked'],
  linkRevoke: ['取り消す', 'Revoke'],
  linkFailed: ['リンクを発行できませんでした: {d}', 'Could not issue the link: {d}'],
  hintRouteNumber: ['電話・FAX番号は 0 から始まる10桁か11桁で入力してください（例: 048-123-4567）。', ''],
  hintRouteWeb: ['Webフォームは https:// で始まるアドレスを入力してください。', ''],
  hintRouteIct: ['ネットワーク名を入力してください（100文字まで）。', ''],
  hintRouteLabel: ['宛先は50文字までです。', ''],
  hintPeriod: ['受付時間は曜日を1つ以上選び、時刻を 00:00〜24:00 で入力してください。', ''],
  hintDocuments: ['書類は10件まで、1件100文字までです。', ''],
  hintMaxStay: ['最長入院日数は 1〜365 の数で入力してください。', ''],
  hintMinAge: ['年齢の下限は 0〜120 の数で入力してください。', ''],
  hintNote300: ['300文字までです。', ''],
  hintWhenFull: ['満床時の対応は200文字までです。', ''],
  hintInfoTool: ['情報共有ツールは100文字までです。', ''],
  hintReviewed: ['最終確認日を日付（例: 2026-11-01）で入力してください。', ''],
  hintRulesNotes: ['備考は1000文字までです。', ''],
  capHistory: ['受け入れ状況の履歴', 'Status history'],
  capHistoryEmpty: ['まだ報告はありません。', 'No reports yet.'],
  capHistoryWhen: ['日時', 'When'],
  capHistoryStatus: ['状況', 'Status'],
  capHistoryFacts: ['空床・待機・メモ', 'Beds, wait, note'],
  capHistoryWho: ['報告', 'By'],
  field_capacity: ['受け入れ状況', 'Bed status'],
  field_admission_rules: ['受け入れ条件', 'Admission rules'],
});

const $ = (sel, r = document) => r.querySelector(sel);
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
const enc = encodeURIComponent;
const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun', 'holiday'];
const ROUTE_KINDS = ['phone', 'fax', 'ict', 'web'];
const TRANSPORT = ['hospital', 'family', 'ambulance'];

let hooks = { onSaved: () => {}, current: () => null };
let notice = null; // { id, service, text, kind } shown once after a write
let rules = null; // the open admission-rules form
let issued = null; // { id, link } the link just issued, shown until the panel shows another facility

/** `onSaved(facility)`: a facility the server just returned; `current()`: the one shown. */
export function initBedTools(h) { hooks = { ...hooks, ...h }; }

const capacityServices = (f) => (f.services || []).filter((s) => CAPACITY_SERVICES.includes(s.kind));
const mayIssueLinks = (f) => mayEdit(f) && ['coordinator', 'admin'].includes(session().role);

/** The bed section of the detail panel (empty for the public: the server sends no capacity). */
export function bedsHtml(f) {
  if (!session().signed_in || !f) return '';
  const svcs = capacityServices(f);
  const editable = mayEdit(f);
  if (!svcs.length || !svcs.some((s) => s.capacity || s.admission_rules || editable)) return '';
  if (rules && rules.id !== f.id) rules = null;
  if (issued && issued.id !== f.id) issued = null;
  return `<section class="beds" id="beds" aria-labelledby="beds-heading">
      <h3 id="beds-heading">${esc(t('bedsHeading'))} <span class="badge pro-tag">${esc(t('proTag'))}</span></h3>
      ${svcs.map((s) => serviceHtml(f, s, editable)).join('')}
      ${mayIssueLinks(f) ? linkToolsHtml(f) : ''}
    </section>`;
}

function serviceHtml(f, s, editable) {
  const facts = capacityFacts(s.capacity);
  const name = serviceName(s);
  const routes = (s.admission_rules && s.admission_rules.routes) || [];
  const msg = notice && notice.id === f.id && notice.service === s.kind ? notice : null;
  if (msg) notice = null;
  return `<div class="bed-svc" data-service="${esc(s.kind)}">
      <h4>${esc(name)} ${statusBadge(s.capacity)}${sampleTag(s.capacity && s.capacity.sample)}</h4>
      ${facts ? `<p class="small">${esc(facts)}</p>` : ''}
      ${editable ? capacityFormHtml(s, name) : ''}
      <div class="cap-msg" role="status" aria-live="polite">${msg ? `<p class="${msg.kind === 'error' ? 'msg' : 'ok-msg'}">${esc(msg.text)}</p>` : ''}</div>
      ${rulesCard(s.admission_rules)}
      ${routes.length > 1 ? `<p class="small">${esc(t('allRoutes'))}: ${routes.map((r) => esc(routeText(r))).join('、')}</p>` : ''}
      <details class="cap-history" data-cap-history="${esc(s.kind)}"><summary>${esc(t('capHistory'))}</summary><div class="cap-history-body">${esc(t('loading'))}</div></details>
      ${editable ? `<button type="button" class="btn small" data-rules-open="${esc(s.kind)}" aria-expanded="${!!(rules && rules.service === s.kind)}">${esc(t('rulesEdit'))}</button>` : ''}
      <div class="rules-area" data-rules-area="${esc(s.kind)}">${rules && rules.id === f.id && rules.service === s.kind ? rulesFormHtml(s) : ''}</div>
    </div>`;
}

function capacityFormHtml(s, name) {
  const cur = s.capacity && !s.capacity.stale ? s.capacity.status : '';
  const id = (k) => `cap-${s.kind}-${k}`;
  return `<div class="cap-form" data-cap-form="${esc(s.kind)}">
      <div class="cap-buttons" role="group" aria-label="${esc(t('capSetLabel', { s: name }))}">
        ${STATUSES.map((v) => `<button type="button" class="btn cap-btn st-${v}" data-cap-set="${v}" aria-pressed="${cur === v}">${esc(statusLabel(v))}</button>`).join('')}
      </div>
      <details class="cap-more"><summary>${esc(t('capMore'))}</summary>
        <div class="grid3">
          <div class="field"><label for="${id('free_beds')}">${esc(t('capFreeBedsLabel'))}</label><input id="${id('free_beds')}" type="number" min="0" max="2000" inputmode="numeric" data-cap-field="free_beds"></div>
          <div class="field"><label for="${id('waiting_days')}">${esc(t('capWaitingLabel'))}</label><input id="${id('waiting_days')}" type="number" min="0" max="365" inputmode="numeric" data-cap-field="waiting_days"></div>
        </div>
        <div class="field"><label for="${id('note')}">${esc(t('capNoteLabel'))}</label><input id="${id('note')}" type="text" maxlength="200" data-cap-field="note"></div>
      </details>
    </div>`;
}

/** The version to send as If-Match: the newest known, else a fresh read. */
async function versionFor(id) {
  const v = knownVersion(id);
  if (v) return v;
  const g = await request('GET', `/facilities/${enc(id)}`);
  if (!g.ok) return null;
  rememberVersion(id, g.etag, g.body);
  return { f: g.body, etag: g.etag };
}

function showIn(box, text, kind = 'ok') {
  const el = box && box.querySelector('.cap-msg');
  if (el) el.innerHTML = text ? `<p class="${kind === 'error' ? 'msg' : 'ok-msg'}">${esc(text)}</p>` : '';
}

/** A conflict: show the newest version and say so next to `service`. */
async function conflict(id, service, r) {
  let cur = r.body && r.body.current;
  let etag = r.etag;
  if (!cur) {
    const g = await request('GET', `/facilities/${enc(id)}`);
    if (g.ok) { cur = g.body; etag = g.etag; }
  }
  if (cur) rememberVersion(id, etag, cur);
  notice = { id, service, text: t('capConflict'), kind: 'error' };
  if (cur) hooks.onSaved(cur);
}

async function setCapacity(btn) {
  const f = hooks.current();
  const box = btn.closest('.bed-svc');
  if (!f || !box) return;
  const service = box.dataset.service;
  const status = btn.dataset.capSet;
  const body = { status };
  for (const input of box.querySelectorAll('[data-cap-field]')) {
    input.removeAttribute('aria-invalid');
    const v = input.value.trim();
    if (!v) continue;
    body[input.dataset.capField] = input.type === 'number' ? Number(v) : v;
  }
  for (const b of box.querySelectorAll('[data-cap-set]')) b.disabled = true;
  showIn(box, '');
  const id = f.id;
  const v = await versionFor(id);
  const r = await request('PUT', `/facilities/${enc(id)}/services/${enc(service)}/capacity`, { body, etag: v && v.etag });
  for (const b of box.querySelectorAll('[data-cap-set]')) b.disabled = false;
  const p = r.body || {};
  const name = serviceName((f.services || []).find((s) => s.kind === service) || { kind: service });
  if (r.ok) {
    rememberVersion(id, r.etag, r.body);
    notice = { id, service, text: t('capSaved', { s: name, v: statusLabel(status) }), kind: 'ok' };
    hooks.onSaved(r.body);
    return;
  }
  if (r.status === 409 || r.status === 412) { await conflict(id, service, r); return; }
  const detail = serverText(p.detail) || `HTTP ${r.status}`;
  const input = p.field && box.querySelector(`[data-cap-field="${CSS.escape(p.field)}"]`);
  if (r.status === 400 && input) {
    input.setAttribute('aria-invalid', 'true');
    box.querySelector('.cap-more').open = true;
    showIn(box, `${t('fixFields')} ${capacityFieldText(p.field, detail)}`, 'error');
    input.focus();
    return;
  }
  showIn(box, r.status === 403 ? t('editForbidden', { d: detail }) : t('capFailed', { d: detail }), 'error');
}

// ---------- admission rules form ----------

function blankPeriod() { return { days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '09:00', to: '17:00' }; }

function rulesValues(r) {
  r = r || {};
  const el = r.eligibility || {};
  // Hours are lists of periods {days, from, to} (JST; `to` ≤ `from` runs past midnight).
  return {
    routes: (r.routes || []).map((x) => ({ kind: x.kind, value: x.value || '', label: x.label || '', hours: x.hours && x.hours.length ? x.hours : null })),
    periods: (r.hours || []).map((p) => ({ days: [...(p.days || [])], from: p.from || '', to: p.to || '' })),
    documents: (r.documents || []).join('、'),
    transport: [...(r.transport || [])],
    max_stay_days: r.max_stay_days ?? '',
    cancer_only: !!el.cancer_only,
    registered_in_advance: !!el.registered_in_advance,
    registration_note: el.registration_note || '',
    min_age: el.min_age ?? '',
    elig_note: el.note || '',
    when_full: r.when_full || '',
    info_sharing_tool: r.info_sharing_tool || '',
    last_reviewed: r.last_reviewed || '',
    notes: r.notes || '',
    visibility: r.visibility || 'professional',
  };
}

const num = (v) => (String(v).trim() === '' ? undefined : Number(v));
const str = (v) => (String(v || '').trim() || undefined);

function rulesBody(v) {
  const body = {
    routes: v.routes.filter((x) => x.value.trim() || x.label.trim()).map((x) => {
      const o = { kind: x.kind, value: x.value.trim() };
      if (x.label.trim()) o.label = x.label.trim();
      if (x.hours) o.hours = x.hours;
      return o;
    }),
    documents: v.documents.split(/[、,，\n]+/).map((s) => s.trim()).filter(Boolean),
    transport: TRANSPORT.filter((x) => v.transport.includes(x)),
    eligibility: {
      cancer_only: v.cancer_only,
      registered_in_advance: v.registered_in_advance,
    },
    visibility: v.visibility,
  };
  if (v.periods.length) body.hours = v.periods.map((p) => ({ days: DAYS.filter((d) => p.days.includes(d)), from: p.from, to: p.to }));
  const set = (o, k, x) => { if (x !== undefined) o[k] = x; };
  set(body, 'max_stay_days', num(v.max_stay_days));
  set(body.eligibility, 'registration_note', str(v.registration_note));
  set(body.eligibility, 'min_age', num(v.min_age));
  set(body.eligibility, 'note', str(v.elig_note));
  for (const k of ['when_full', 'info_sharing_tool', 'last_reviewed', 'notes']) set(body, k, str(v[k]));
  return body;
}

function errAttrs(path) {
  const e = rules.errors[path];
  const id = `rerr-${path.replace(/[^a-z0-9]/gi, '-')}`;
  return `data-path="${esc(path)}"${e ? ` aria-invalid="true" aria-describedby="${id}"` : ''}`;
}

function errFor(path) {
  const e = rules.errors[path];
  return e ? `<p class="field-error" id="rerr-${esc(path.replace(/[^a-z0-9]/gi, '-'))}" data-error-for="${esc(path)}">${esc(e)}</p>` : '';
}

function rulesFormHtml(s) {
  const v = rules.values;
  const k = s.kind;
  const fid = (x) => `rules-${k}-${x}`;
  const routes = v.routes.map((r, i) => `<li class="contact-row" data-route="${i}">
      <select ${errAttrs(`routes[${i}].kind`)} aria-label="${esc(t('routeKind'))}">${ROUTE_KINDS.map((x) => `<option value="${x}"${x === r.kind ? ' selected' : ''}>${esc(t(`route_${x}`))}</option>`).join('')}</select>
      <input type="text" ${errAttrs(`routes[${i}].value`)} value="${esc(r.value)}" aria-label="${esc(t('routeValue'))}" placeholder="${esc(t('routeValue'))}">
      <input type="text" ${errAttrs(`routes[${i}].label`)} value="${esc(r.label)}" aria-label="${esc(t('routeLabel'))}" placeholder="${esc(t('routeLabel'))}">
      <button type="button" class="btn small" data-route-remove="${i}">${esc(t('remove'))}</button>
      ${errFor(`routes[${i}].kind`)}${errFor(`routes[${i}].value`)}${errFor(`routes[${i}].label`)}
    </li>`).join('');
  const periods = v.periods.map((p, i) => `<li class="period-row" data-period="${i}" ${errAttrs(`hours[${i}]`)}>
      <span class="days" ${errAttrs(`hours[${i}].days`)}>${DAYS.map((d) => `<label class="day"><input type="checkbox" data-day="${d}"${p.days.includes(d) ? ' checked' : ''}>${esc(t(`weekday_${d}`))}</label>`).join('')}</span>
      <label>${esc(t('hoursFrom'))} <input type="time" data-time="from" value="${esc(p.from)}"></label>
      <label>${esc(t('hoursTo'))} <input type="time" data-time="to" value="${esc(p.to)}"></label>
      <button type="button" class="btn small" data-period-remove="${i}">${esc(t('remove'))}</button>
      ${errFor(`hours[${i}]`)}
    </li>`).join('');
  const text = (key, label, type = 'text', extra = '') => `<div class="field"><label for="${fid(key)}">${esc(label)}</label>
      <input id="${fid(key)}" type="${type}" ${errAttrs(pathOf(key))} data-rule="${key}" value="${esc(v[key])}" ${extra}>${errFor(pathOf(key))}</div>`;
  return `<form class="edit-form rules-form" id="rules-form" data-service="${esc(k)}" novalidate aria-labelledby="${fid('heading')}">
      <h4 id="${fid('heading')}">${esc(t('rulesHeading', { s: serviceName(s) }))}</h4>
      <fieldset ${errAttrs('routes')}><legend>${esc(t('rulesRoutes'))}</legend>
        <ol class="contact-rows">${routes}</ol>${errFor('routes')}
        <button type="button" class="btn small" id="rules-add-route">${esc(t('addRoute'))}</button>
      </fieldset>
      <fieldset ${errAttrs('hours')}><legend>${esc(t('rulesHours'))}</legend>
        <ol class="contact-rows">${periods}</ol>${errFor('hours')}
        <button type="button" class="btn small" id="rules-add-period">${esc(t('addPeriod'))}</button>
        <p class="hint">${esc(t('hoursHint'))}</p>
      </fieldset>
      ${text('documents', t('rulesDocuments'))}
      <fieldset ${errAttrs('transport')}><legend>${esc(t('rulesTransport'))}</legend>
        ${TRANSPORT.map((x) => `<label class="check"><input type="checkbox" data-transport="${x}"${v.transport.includes(x) ? ' checked' : ''}> ${esc(t(`transport_${x}`))}</label>`).join(' ')}
        ${errFor('transport')}
      </fieldset>
      ${text('max_stay_days', t('rulesMaxStay'), 'number', 'min="1" max="365" inputmode="numeric"')}
      <fieldset><legend>${esc(t('rulesEligibility'))}</legend>
        <label class="check"><input type="checkbox" id="${fid('cancer_only')}" data-rule-check="cancer_only"${v.cancer_only ? ' checked' : ''}> ${esc(t('eligCancerOnly'))}</label><br>
        <label class="check prereg-check"><input type="checkbox" id="${fid('registered_in_advance')}" data-rule-check="registered_in_advance"${v.registered_in_advance ? ' checked' : ''}> <strong>${esc(t('eligPrereg'))}</strong></label>
        ${text('registration_note', t('eligPreregNote'))}
        ${text('min_age', t('eligMinAge'), 'number', 'min="0" max="120" inputmode="numeric"')}
        ${text('elig_note', t('eligNote'))}
      </fieldset>
      ${text('when_full', t('rulesWhenFull'))}
      ${text('info_sharing_tool', t('rulesInfoTool'))}
      ${text('last_reviewed', t('rulesLastReviewed'), 'date')}
      ${text('notes', t('rulesNotes'))}
      <div class="field"><label for="${fid('visibility')}">${esc(t('rulesVisibility'))}</label>
        <select id="${fid('visibility')}" data-rule="visibility" ${errAttrs('visibility')}>${['professional', 'public'].map((x) => `<option value="${x}"${x === v.visibility ? ' selected' : ''}>${esc(t(`vis_${x}`))}</option>`).join('')}</select></div>
      <div id="rules-msg" role="alert">${rules.message ? `<p class="msg">${esc(rules.message)}</p>` : ''}</div>
      <div class="row">
        <button type="submit" class="btn primary" id="rules-save">${esc(t('save'))}</button>
        <button type="button" class="btn" id="rules-cancel">${esc(t('cancel'))}</button>
      </div>
    </form>`;
}

/** Our Japanese words for a refused rules field (none in English: the server's are shown). */
function rulesHint(field) {
  let key = {
    max_stay_days: 'hintMaxStay', 'eligibility.min_age': 'hintMinAge', 'eligibility.registration_note': 'hintNote300',
    'eligibility.note': 'hintNote300', when_full: 'hintWhenFull', info_sharing_tool: 'hintInfoTool',
    last_reviewed: 'hintReviewed', notes: 'hintRulesNotes', documents: 'hintDocuments',
  }[field];
  const route = /^routes\[(\d+)\]\.(value|label)$/.exec(field);
  if (route && route[2] === 'label') key = 'hintRouteLabel';
  else if (route) {
    const r = rules.values.routes[Number(route[1])];
    key = r && { phone: 'hintRouteNumber', fax: 'hintRouteNumber', web: 'hintRouteWeb', ict: 'hintRouteIct' }[r.kind];
  }
  if (/^hours\[\d+\]$/.test(field)) key = 'hintPeriod';
  if (/^documents\[\d+\]$/.test(field)) key = 'hintDocuments';
  return key ? t(key) : '';
}

/** The API's name of a form field (the server names fields in its 400 answers). */
function pathOf(key) {
  return {
    registration_note: 'eligibility.registration_note',
    min_age: 'eligibility.min_age',
    elig_note: 'eligibility.note',
  }[key] || key;
}

function readRules() {
  const form = $('#rules-form');
  if (!form || !rules) return;
  const v = rules.values;
  v.routes = [...form.querySelectorAll('[data-route]')].map((li) => {
    const i = Number(li.dataset.route);
    const get = (k) => li.querySelector(`[data-path="routes[${i}].${k}"]`).value;
    return { kind: get('kind'), value: get('value'), label: get('label'), hours: (v.routes[i] && v.routes[i].hours) || null };
  });
  v.periods = [...form.querySelectorAll('[data-period]')].map((li) => ({
    days: [...li.querySelectorAll('[data-day]:checked')].map((c) => c.dataset.day),
    from: li.querySelector('[data-time="from"]').value,
    to: li.querySelector('[data-time="to"]').value,
  }));
  for (const el of form.querySelectorAll('[data-rule]')) v[el.dataset.rule] = el.value;
  for (const el of form.querySelectorAll('[data-rule-check]')) v[el.dataset.ruleCheck] = el.checked;
  v.transport = [...form.querySelectorAll('[data-transport]:checked')].map((c) => c.dataset.transport);
}

function renderRules() {
  const area = rules && document.querySelector(`#beds [data-rules-area="${CSS.escape(rules.service)}"]`);
  if (!area) return;
  const f = hooks.current();
  const s = f && (f.services || []).find((x) => x.kind === rules.service);
  area.innerHTML = s ? rulesFormHtml(s) : '';
  const b = document.querySelector(`#beds [data-rules-open="${CSS.escape(rules.service)}"]`);
  if (b) b.setAttribute('aria-expanded', 'true');
}

async function openRules(service) {
  const f = hooks.current();
  if (!f) return;
  if (rules && rules.service === service) { closeRules(); return; }
  if (rules) closeRules(false);
  const v = await versionFor(f.id);
  const fresh = (v && v.f) || f;
  const s = (fresh.services || []).find((x) => x.kind === service);
  rules = { id: f.id, service, values: rulesValues(s && s.admission_rules), errors: {}, message: '' };
  renderRules();
  const first = $('#rules-form input, #rules-form select');
  if (first) first.focus();
}

function closeRules(focus = true) {
  if (!rules) return;
  const service = rules.service;
  rules = null;
  const area = document.querySelector(`#beds [data-rules-area="${CSS.escape(service)}"]`);
  if (area) area.innerHTML = '';
  const b = document.querySelector(`#beds [data-rules-open="${CSS.escape(service)}"]`);
  if (b) { b.setAttribute('aria-expanded', 'false'); if (focus) b.focus(); }
}

async function saveRules() {
  readRules();
  const f = hooks.current();
  if (!f || !rules) return;
  const { id, service } = rules;
  rules.errors = {};
  rules.message = '';
  showIn(document.querySelector(`#beds .bed-svc[data-service="${CSS.escape(service)}"]`), '');
  const btn = $('#rules-save');
  btn.disabled = true;
  btn.textContent = t('saving');
  const v = await versionFor(id);
  const r = await request('PUT', `/facilities/${enc(id)}/services/${enc(service)}/admission-rules`, { body: rulesBody(rules.values), etag: v && v.etag });
  if (!rules || rules.id !== id) return;
  const p = r.body || {};
  if (r.ok) {
    rememberVersion(id, r.etag, r.body);
    rules = null;
    notice = { id, service, text: t('rulesSaved'), kind: 'ok' };
    hooks.onSaved(r.body);
    return;
  }
  if (r.status === 409 || r.status === 412) {
    // Keep what was typed; the panel shows the newest version and the next save uses it.
    const keep = rules;
    await conflict(id, service, r);
    rules = { ...keep, message: t('capConflict') };
    renderRules();
    return;
  }
  const detail = serverText(p.detail) || `HTTP ${r.status}`;
  if (r.status === 400 && p.field) {
    rules.errors[p.field] = rulesHint(p.field) || detail;
    renderRules();
    const bad = document.querySelector(`#rules-form [data-path="${CSS.escape(p.field)}"]`);
    rules.message = bad ? t('fixFields') : `${t('fixFields')} ${detail}`;
    renderRules();
    const again = document.querySelector(`#rules-form [data-path="${CSS.escape(p.field)}"]`);
    if (again) again.focus();
    return;
  }
  rules.message = r.status === 403 ? t('editForbidden', { d: detail }) : t('editFailed', { d: detail });
  renderRules();
}

// ---------- update links (coordinators) ----------

function linkToolsHtml(f) {
  const shown = issued && issued.id === f.id ? issued.link : null;
  return `<div class="link-tools" id="link-tools">
      <h4>${esc(t('linkHeading'))}</h4>
      <fieldset class="link-kind">
        <label class="check"><input type="radio" name="link-kind" value="one_time" checked> ${esc(t('linkOneTime'))}</label><br>
        <label class="check"><input type="radio" name="link-kind" value="standing"> ${esc(t('linkStanding'))}</label>
      </fieldset>
      <button type="button" class="btn small primary" id="link-issue">${esc(t('linkIssue'))}</button>
      <div id="link-result" role="status" aria-live="polite">${shown ? issuedHtml(shown) : ''}</div>
      <details id="link-list"><summary>${esc(t('linkList'))}</summary><div id="link-list-body">${esc(t('loading'))}</div></details>
    </div>`;
}

function issuedHtml(link) {
  return `<p class="ok-msg">${esc(t('linkIssued'))}</p>
    <div class="field"><label for="link-url">${esc(t('linkUrlLabel'))}（${esc(t(`linkKind_${link.kind}`))}）</label>
      <div class="row"><input id="link-url" type="text" readonly value="${esc(link.url)}"><button type="button" class="btn small" id="link-copy">${esc(t('linkCopy'))}</button></div></div>
    <p class="small" id="link-expiry">${esc(link.expires_at ? t('linkExpires', { d: shortTime(link.expires_at) }) : t('linkNoExpiry'))}</p>`;
}

async function issueLink() {
  const f = hooks.current();
  if (!f) return;
  const kind = (document.querySelector('#link-tools input[name="link-kind"]:checked') || {}).value || 'one_time';
  const btn = $('#link-issue');
  btn.disabled = true;
  const r = await request('POST', `/facilities/${enc(f.id)}/update-links`, { body: { kind } });
  btn.disabled = false;
  const el = $('#link-result');
  if (!el) return;
  if (r.ok && r.body && r.body.url) {
    issued = { id: f.id, link: r.body };
    el.innerHTML = issuedHtml(r.body);
    $('#link-url').select();
    if ($('#link-list').open) loadLinks();
  } else {
    el.innerHTML = `<p class="msg">${esc(t('linkFailed', { d: serverText(r.body && r.body.detail) || `HTTP ${r.status}` }))}</p>`;
  }
}

async function loadLinks() {
  const f = hooks.current();
  const body = $('#link-list-body');
  if (!f || !body) return;
  const r = await request('GET', `/facilities/${enc(f.id)}/update-links`);
  if (!$('#link-list-body')) return;
  if (!r.ok) { body.innerHTML = `<p class="msg">${esc(serverText(r.body && r.body.detail) || `HTTP ${r.status}`)}</p>`; return; }
  const list = Array.isArray(r.body) ? r.body : (r.body && r.body.items) || [];
  if (!list.length) { body.innerHTML = `<p class="hint">${esc(t('linkListEmpty'))}</p>`; return; }
  body.innerHTML = `<ul class="plain link-list">${list.map((l) => {
    const state = l.revoked ? t('linkRevoked') : l.used_at ? t('linkUsed', { d: shortTime(l.used_at) }) : l.expires_at ? t('linkExpires', { d: shortTime(l.expires_at) }) : t('linkNoExpiry');
    return `<li data-link-id="${esc(l.id)}">${esc(t(`linkKind_${l.kind}`))} ・ ${esc(shortTime(l.created_at))} ・ ${esc(state)}
      ${!l.revoked && !l.used_at ? `<button type="button" class="btn small" data-revoke="${esc(l.id)}">${esc(t('linkRevoke'))}</button>` : ''}</li>`;
  }).join('')}</ul>`;
}

async function revoke(linkId) {
  const f = hooks.current();
  if (!f) return;
  await request('DELETE', `/facilities/${enc(f.id)}/update-links/${enc(linkId)}`);
  loadLinks();
}

async function copyUrl() {
  const input = $('#link-url');
  if (!input) return;
  input.select();
  try { await navigator.clipboard.writeText(input.value); } catch { try { document.execCommand('copy'); } catch { /* selected at least */ } }
  const b = $('#link-copy');
  if (b) b.textContent = t('copied');
}

// ---------- bed-status history ----------

async function loadHistory(el) {
  const f = hooks.current();
  const body = el.querySelector('.cap-history-body');
  if (!f || !body) return;
  const kind = el.dataset.capHistory;
  const r = await request('GET', `/facilities/${enc(f.id)}/services/${enc(kind)}/capacity/history`);
  if (!r.ok) { body.innerHTML = `<p class="msg">${esc(serverText(r.body && r.body.detail) || `HTTP ${r.status}`)}</p>`; return; }
  const list = Array.isArray(r.body) ? r.body : [];
  if (!list.length) { body.innerHTML = `<p class="hint">${esc(t('capHistoryEmpty'))}</p>`; return; }
  body.innerHTML = `<table class="history-table">
    <thead><tr><th>${esc(t('capHistoryWhen'))}</th><th>${esc(t('capHistoryStatus'))}</th><th>${esc(t('capHistoryFacts'))}</th><th>${esc(t('capHistoryWho'))}</th></tr></thead>
    <tbody>${list.map((c) => {
    const facts = [c.free_beds != null ? t('capFreeBeds', { n: c.free_beds }) : '', c.waiting_days != null ? t('capWaiting', { n: c.waiting_days }) : '', c.note || ''].filter(Boolean).join(' ・ ');
    return `<tr data-seq="${esc(c.seq)}"><td>${esc(shortTime(c.updated_at))}</td><td data-status="${esc(c.status)}">${esc(statusLabel(c.status))}${c.sample ? ` [${esc(t('sampleTag'))}]` : ''}</td><td>${esc(facts)}</td><td>${esc(reporterText(c))}</td></tr>`;
  }).join('')}</tbody></table>`;
}

// One delegated listener: the panel is redrawn often.
document.addEventListener('click', (ev) => {
  const b = ev.target.closest('#beds button');
  if (!b) return;
  if (b.dataset.capSet) { setCapacity(b); return; }
  if (b.dataset.rulesOpen) { openRules(b.dataset.rulesOpen); return; }
  if (b.id === 'link-issue') { issueLink(); return; }
  if (b.id === 'link-copy') { copyUrl(); return; }
  if (b.dataset.revoke) { revoke(b.dataset.revoke); return; }
  if (!rules) return;
  if (b.id === 'rules-cancel') { closeRules(); return; }
  if (b.id === 'rules-add-route') {
    readRules();
    rules.values.routes.push({ kind: 'fax', value: '', label: '', hours: null });
    renderRules();
    const rows = document.querySelectorAll('#rules-form [data-route]');
    rows[rows.length - 1].querySelector('input').focus();
    return;
  }
  if (b.id === 'rules-add-period') {
    readRules();
    rules.values.periods.push(blankPeriod());
    renderRules();
    return;
  }
  if (b.dataset.routeRemove !== undefined) { readRules(); rules.values.routes.splice(Number(b.dataset.routeRemove), 1); renderRules(); return; }
  if (b.dataset.periodRemove !== undefined) { readRules(); rules.values.periods.splice(Number(b.dataset.periodRemove), 1); renderRules(); }
});
document.addEventListener('submit', (ev) => {
  if (ev.target.id !== 'rules-form') return;
  ev.preventDefault();
  saveRules();
});
document.addEventListener('input', (ev) => { if (ev.target.closest('#rules-form')) readRules(); });
document.addEventListener('change', (ev) => { if (ev.target.closest('#rules-form')) readRules(); });
document.addEventListener('toggle', (ev) => {
  if (!ev.target.open) return;
  if (ev.target.id === 'link-list') loadLinks();
  else if (ev.target.dataset && ev.target.dataset.capHistory) loadHistory(ev.target);
}, true);

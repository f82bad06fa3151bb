// The detail panel's part for signed-in users: which contacts are for professionals only, the
// edit form (merge patch with If-Match; a stale version shows their version and lets the user
// re-apply), "confirm unchanged", and the change history.

import { t, addStrings } from './i18n.js';
import { session, mayEdit, request, roleLabel, serverText } from './account.js';

addStrings({
  proTag: ['医療者向け', 'Professionals only'],
  internalTag: ['内部のみ', 'Internal only'],
  toolsHeading: ['情報の管理', 'Keeping this entry right'],
  editOpen: ['この施設を編集', 'Edit this facility'],
  verify: ['変更なしを確認', 'Confirm unchanged'],
  verified: ['内容に変更がないことを確認しました（{d}）。', 'Confirmed unchanged ({d}).'],
  noEditHere: ['この施設を編集する権限はありません（{why}）。', 'You cannot edit this facility ({why}).'],
  whyProfessional: ['閲覧のみのアカウントです', 'this account can only view'],
  whyEditor: ['担当施設のみ編集できます', 'facility editors edit only their own facilities'],
  whyCoordinator: ['担当の二次医療圏の施設のみ編集できます', 'coordinators edit facilities of their own areas'],
  editHeading: ['施設情報の編集', 'Edit facility'],
  fieldName: ['名称', 'Name'],
  fieldContacts: ['電話・FAX などの連絡先', 'Phone, fax and other contacts'],
  fieldUrl: ['ホームページ', 'Website'],
  fieldNotes: ['備考', 'Notes'],
  contactKind: ['種類', 'Kind'],
  contactValue: ['番号・アドレス', 'Number or address'],
  contactLabel: ['名称（例: 代表、夜間）', 'Label (e.g. main, night)'],
  contactVisibility: ['公開範囲', 'Who sees it'],
  vis_public: ['一般公開', 'Public'],
  vis_professional: ['医療者向け', 'Professionals'],
  vis_internal: ['内部のみ', 'Internal only'],
  addPhone: ['電話を追加', 'Add a phone number'],
  addFax: ['FAXを追加', 'Add a fax number'],
  removeContact: ['削除', 'Remove'],
  save: ['保存', 'Save'],
  saving: ['保存中…', 'Saving…'],
  cancel: ['キャンセル', 'Cancel'],
  saved: ['保存しました。', 'Saved.'],
  nothingChanged: ['変更はありません。', 'Nothing has changed.'],
  fixFields: ['入力内容を確認してください。', 'Please check the highlighted field.'],
  conflict: ['他の人がこの施設を変更しました。現在の内容:', 'Someone changed this; here is their version:'],
  reapply: ['自分の変更をもう一度適用', 'Re-apply my changes'],
  takeTheirs: ['相手の内容から編集し直す', 'Start again from their version'],
  yourChanges: ['あなたの変更:', 'Your changes:'],
  editForbidden: ['この施設を編集する権限がありません: {d}', 'You may not edit this facility: {d}'],
  editFailed: ['保存できませんでした: {d}', 'Could not save: {d}'],
  hintPhone: ['電話・FAX番号は 0 から始まる10桁か11桁で入力してください（例: 048-123-4567）。', ''],
  hintEmail: ['メールアドレスの形式で入力してください（例: info@example.jp）。', ''],
  hintWeb: ['https:// または http:// で始まるアドレスを入力してください。', ''],
  hintName: ['名称を入力してください（200文字まで）。', ''],
  hintNotes: ['備考は2000文字までです。', ''],
  hintLabel: ['連絡先の名称は50文字までです。', ''],
  history: ['変更履歴', 'Change history'],
  historyEmpty: ['まだ変更はありません。', 'No changes yet.'],
  historyLoadFailed: ['変更履歴を読み込めませんでした: {d}', 'Could not load the history: {d}'],
  historyDataset: ['公開データから登録', 'Registered from the public data'],
  historyWhen: ['日時', 'When'],
  historyWho: ['変更者', 'Who'],
  historyWhat: ['項目', 'What'],
  historyChange: ['変更前 → 変更後', 'Before → after'],
  none: ['（なし）', '(none)'],
  field_name: ['名称', 'Name'], field_name_kana: ['ふりがな', 'Kana'], field_kind: ['種類', 'Kind'],
  field_contacts: ['連絡先', 'Contacts'], field_url: ['ホームページ', 'Website'], field_notes: ['備考', 'Notes'],
  field_address: ['住所', 'Address'], field_location: ['位置', 'Location'], field_placement: ['位置の精度', 'Placement'],
  field_hours: ['休診日・時間', 'Hours'], field_services: ['サービス', 'Services'], field_status: ['状態', 'Status'],
  field_verified_at: ['確認日', 'Verified'], field_verified_by: ['確認者', 'Verified by'],
  field_area_code: ['二次医療圏', 'Area'], field_provenance: ['出典', 'Source'],
});

const $ = (sel, r = document) => r.querySelector(sel);
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
const KINDS = ['phone', 'fax', 'email', 'web'];
const KIND_KEY = { phone: 'phone', fax: 'fax', email: 'email', web: 'web' };

let hooks = { onSaved: () => {} };
let gen = 0;
/** The facility the tools were drawn for: its fresh copy, ETag and contact visibilities. */
let tools = null;
/** The open edit form, kept across re-renders of the panel (language switch, a save elsewhere). */
let model = null;
let notice = null; // { id, text, kind } shown once after a save or a confirmation
/**
 * The newest version this page has written or been shown by a write, per facility: a GET right
 * after a write may still answer the older version (the catalog follows the store within about a
 * second), and its ETag must not replace the newer one.
 */
const written = new Map();
const versionOf = (etag) => Number(/^(?:W\/)?"v(\d+)"$/.exec(etag || '')?.[1] ?? -1);

function remember(id, etag, f) {
  const had = written.get(id);
  if (!had || versionOf(etag) >= versionOf(had.etag)) written.set(id, { etag, f });
}

/** Record a version this page wrote or was shown by a write (capacity and rules forms too). */
export function rememberVersion(id, etag, f) { remember(id, etag, f); }

/**
 * The newest `{f, etag}` this page knows of facility `id` (from the tools' fresh copy or a
 * write), or null before the tools have loaded it.
 */
export function knownVersion(id) {
  const mine = written.get(id);
  const cur = tools && tools.id === id && tools.etag ? { f: tools.f, etag: tools.etag } : null;
  if (mine && (!cur || versionOf(mine.etag) > versionOf(cur.etag))) return mine;
  return cur;
}

/** `onSaved(facility)`: the page shows a facility the server just returned. */
export function initEditing(h) { hooks = { ...hooks, ...h }; }

const ckey = (c) => `${c.kind}:${c.value}`;

/** Each visible contact's visibility, from the latest contacts entry of the history. */
function visibilities(history) {
  const last = (history || []).filter((h) => h.field === 'contacts' && Array.isArray(h.new_value))
    .sort((a, b) => b.seq - a.seq)[0];
  const m = new Map();
  if (last) for (const c of last.new_value) m.set(ckey(c), c.visibility || 'public');
  return m;
}

function tagHtml(vis) {
  if (vis === 'professional') return ` <span class="badge pro-tag" data-visibility="professional">${esc(t('proTag'))}</span>`;
  if (vis === 'internal') return ` <span class="badge pro-tag internal" data-visibility="internal">${esc(t('internalTag'))}</span>`;
  return '';
}

function tagContacts(panel, vis) {
  for (const li of panel.querySelectorAll('[data-field="contacts"] li[data-contact]')) {
    if (li.querySelector('.pro-tag')) continue;
    const v = vis.get(li.dataset.contact);
    if (v && v !== 'public') li.insertAdjacentHTML('beforeend', tagHtml(v));
  }
}

function whyNot() {
  const r = session().role;
  if (r === 'professional') return t('whyProfessional');
  if (r === 'facility_editor') return t('whyEditor');
  return t('whyCoordinator');
}

/**
 * Add the signed-in part to the detail panel just drawn for `f`. Safe to call on every render:
 * a later call wins, and an open edit form for the same facility is kept.
 */
export async function decorateDetail(f, panel = $('#detail')) {
  const my = ++gen;
  if (!session().signed_in || !f) { tools = null; return; }
  if (model && model.id !== f.id) model = null;
  const editable = mayEdit(f);
  panel.insertAdjacentHTML('beforeend', `<section class="pro-tools" id="pro-tools" aria-labelledby="pro-tools-heading">
      <h3 id="pro-tools-heading">${esc(t('toolsHeading'))}</h3>
      ${editable ? `<div class="row">
        <button type="button" class="btn small" id="edit-open" aria-expanded="${!!model}">${esc(t('editOpen'))}</button>
        <button type="button" class="btn small" id="verify-btn">${esc(t('verify'))}</button>
      </div>` : `<p class="hint" id="no-edit">${esc(t('noEditHere', { why: whyNot() }))}</p>`}
      <div id="tools-msg" role="status" aria-live="polite"></div>
      <div id="edit-area"></div>
      <details id="history"><summary>${esc(t('history'))}</summary><div id="history-body">${esc(t('loading'))}</div></details>
    </section>`);
  if (notice && notice.id === f.id) showToolsMessage(notice.text, notice.kind);
  notice = null;
  if (model) renderForm();
  const [fresh, hist] = await Promise.all([
    editable ? request('GET', `/facilities/${encodeURIComponent(f.id)}`) : Promise.resolve(null),
    request('GET', `/facilities/${encodeURIComponent(f.id)}/history`),
  ]);
  if (my !== gen) return;
  const vis = hist.ok ? visibilities(hist.body) : new Map();
  let cur = fresh && fresh.ok ? { f: fresh.body, etag: fresh.etag } : { f, etag: null };
  const mine = written.get(f.id);
  if (mine && versionOf(mine.etag) > versionOf(cur.etag)) cur = mine;
  tools = { id: f.id, f: cur.f, etag: cur.etag, vis };
  tagContacts(panel, vis);
  renderHistory(hist);
  if (model) renderForm();
  const el = panel.querySelector('#pro-tools');
  if (el) el.dataset.ready = '1'; // tags, history and the ETag are in
}

function showToolsMessage(text, kind = 'ok') {
  const el = $('#tools-msg');
  if (!el) return;
  el.innerHTML = text ? `<p class="${kind === 'error' ? 'msg' : 'ok-msg'}">${esc(text)}</p>` : '';
}

// ---------- history ----------

function fmtTime(at) {
  if (!at) return '';
  const d = new Date(at);
  if (Number.isNaN(d.getTime())) return at;
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

function actorText(actor) {
  const [role, ...rest] = String(actor || '').split(':');
  const who = rest.join(':');
  const label = t(`role_${role}`);
  const name = label !== `role_${role}` ? label : role;
  return who ? `${name}（${who}）` : name;
}

function valueText(field, v) {
  if (v === null || v === undefined || v === '') return t('none');
  if (field === 'contacts' && Array.isArray(v)) {
    if (!v.length) return t('none');
    return v.map((c) => `${t(KIND_KEY[c.kind] || c.kind)} ${c.value}${c.label ? `（${c.label}）` : ''}${c.visibility && c.visibility !== 'public' ? ` [${t(`vis_${c.visibility}`)}]` : ''}`).join('、');
  }
  if (field === 'verified_by' || field === 'actor') return actorText(v);
  if (field === 'verified_at' || field === 'updated_at') return fmtTime(v);
  if (typeof v === 'string') return v;
  const s = JSON.stringify(v);
  return s.length > 160 ? `${s.slice(0, 157)}…` : s;
}

function fieldLabel(field) {
  const k = `field_${field}`;
  const s = t(k);
  return s === k ? field : s;
}

function renderHistory(r) {
  const body = $('#history-body');
  if (!body) return;
  if (!r.ok) {
    body.innerHTML = `<p class="msg">${esc(t('historyLoadFailed', { d: serverText(r.body && r.body.detail) || `HTTP ${r.status}` }))}</p>`;
    return;
  }
  // The dataset load writes one row per field; show it as one line. `updated_at` rows repeat
  // the time every change already shows.
  const rows = [];
  const loads = new Map();
  for (const h of r.body || []) {
    if (h.field === 'updated_at') continue;
    if (h.actor === 'dataset-load' || h.actor === 'dataset') {
      if (!loads.has(h.at)) loads.set(h.at, { seq: h.seq, at: h.at, dataset: true });
      continue;
    }
    rows.push(h);
  }
  rows.push(...loads.values());
  rows.sort((a, b) => b.seq - a.seq);
  if (!rows.length) { body.innerHTML = `<p class="hint">${esc(t('historyEmpty'))}</p>`; return; }
  body.innerHTML = `<table class="history-table">
    <thead><tr><th>${esc(t('historyWhen'))}</th><th>${esc(t('historyWho'))}</th><th>${esc(t('historyWhat'))}</th><th>${esc(t('historyChange'))}</th></tr></thead>
    <tbody>${rows.map((h) => (h.dataset
    ? `<tr data-seq="${h.seq}" data-dataset><td>${esc(fmtTime(h.at))}</td><td colspan="3">${esc(t('historyDataset'))}</td></tr>`
    : `<tr data-seq="${h.seq}" data-history-field="${esc(h.field)}"><td>${esc(fmtTime(h.at))}</td><td>${esc(actorText(h.actor))}</td><td>${esc(fieldLabel(h.field))}</td>
        <td><span class="old">${esc(valueText(h.field, h.old_value))}</span> → <span class="new">${esc(valueText(h.field, h.new_value))}</span></td></tr>`)).join('')}</tbody>
  </table>`;
}

// ---------- edit form ----------

const norm = (s) => String(s ?? '').trim();

function factsOf(f, vis) {
  return {
    name: f.name || '',
    url: f.url || '',
    notes: f.notes || '',
    contacts: (f.contacts || []).map((c) => ({
      kind: c.kind,
      value: c.value,
      label: c.label || '',
      // Unknown (no history): what the server would assume for a new contact.
      visibility: vis.get(ckey(c)) || (c.kind === 'fax' ? 'professional' : 'public'),
    })),
  };
}

const clone = (x) => JSON.parse(JSON.stringify(x));

function contactsBody(list) {
  return list.filter((c) => norm(c.value)).map((c) => {
    const o = { kind: c.kind, value: norm(c.value), visibility: c.visibility };
    if (norm(c.label)) o.label = norm(c.label);
    return o;
  });
}

/** The merge patch from what was loaded to what is in the form: only changed facts. */
function patchOf(m) {
  const p = {};
  if (norm(m.values.name) !== norm(m.base.name)) p.name = norm(m.values.name);
  for (const k of ['url', 'notes']) {
    if (norm(m.values[k]) !== norm(m.base[k])) p[k] = norm(m.values[k]) || null;
  }
  const a = contactsBody(m.values.contacts);
  if (JSON.stringify(a) !== JSON.stringify(contactsBody(m.base.contacts))) p.contacts = a;
  return p;
}

function openForm() {
  if (!tools) return;
  const base = factsOf(tools.f, tools.vis);
  model = { id: tools.id, etag: tools.etag, base, values: clone(base), errors: {}, message: '', conflict: null };
  renderForm();
  $('#edit-name').focus();
}

function closeForm() {
  model = null;
  $('#edit-area').innerHTML = '';
  const b = $('#edit-open');
  if (b) { b.setAttribute('aria-expanded', 'false'); b.focus(); }
}

function errorFor(path) {
  const e = model.errors[path];
  return e ? `<p class="field-error" id="err-${esc(path.replace(/[^a-z0-9]/gi, '-'))}" data-error-for="${esc(path)}">${esc(e)}</p>` : '';
}

function inputAttrs(path) {
  const e = model.errors[path];
  return `data-path="${esc(path)}"${e ? ` aria-invalid="true" aria-describedby="err-${esc(path.replace(/[^a-z0-9]/gi, '-'))}"` : ''}`;
}

function visOptions(cur) {
  // Facility editors see no internal contacts, so they are not offered that choice either.
  const internal = ['coordinator', 'admin'].includes(session().role);
  return ['public', 'professional', ...(internal || cur === 'internal' ? ['internal'] : [])]
    .map((v) => `<option value="${v}"${v === cur ? ' selected' : ''}>${esc(t(`vis_${v}`))}</option>`).join('');
}

function conflictHtml() {
  const c = model.conflict;
  if (!c) return '';
  const theirs = factsOf(c, tools ? tools.vis : new Map());
  const line = (label, v) => `<dt>${esc(label)}</dt><dd>${esc(v || t('none'))}</dd>`;
  const mine = patchOf(model);
  return `<div class="conflict msg" id="edit-conflict" role="alert">
      <p><strong>${esc(t('conflict'))}</strong></p>
      <dl class="their-version">
        ${line(t('fieldName'), theirs.name)}
        ${line(t('fieldContacts'), valueText('contacts', theirs.contacts.map((x) => ({ ...x, visibility: undefined }))))}
        ${line(t('fieldUrl'), theirs.url)}
        ${line(t('fieldNotes'), theirs.notes)}
      </dl>
      ${Object.keys(mine).length ? `<p>${esc(t('yourChanges'))} ${esc(Object.keys(mine).map(fieldLabel).join('、'))}</p>` : ''}
      <div class="row">
        <button type="button" class="btn small primary" id="edit-reapply">${esc(t('reapply'))}</button>
        <button type="button" class="btn small" id="edit-take-theirs">${esc(t('takeTheirs'))}</button>
      </div>
    </div>`;
}

function renderForm() {
  const area = $('#edit-area');
  if (!area || !model) return;
  const b = $('#edit-open');
  if (b) b.setAttribute('aria-expanded', 'true');
  const v = model.values;
  const rows = v.contacts.map((c, i) => `<li class="contact-row" data-index="${i}">
      <select ${inputAttrs(`contacts[${i}].kind`)} aria-label="${esc(t('contactKind'))}">${KINDS.map((k) => `<option value="${k}"${k === c.kind ? ' selected' : ''}>${esc(t(KIND_KEY[k]))}</option>`).join('')}</select>
      <input type="text" ${inputAttrs(`contacts[${i}].value`)} value="${esc(c.value)}" aria-label="${esc(t('contactValue'))}" inputmode="${c.kind === 'phone' || c.kind === 'fax' ? 'tel' : 'text'}">
      <input type="text" ${inputAttrs(`contacts[${i}].label`)} value="${esc(c.label)}" aria-label="${esc(t('contactLabel'))}" placeholder="${esc(t('contactLabel'))}">
      <select ${inputAttrs(`contacts[${i}].visibility`)} aria-label="${esc(t('contactVisibility'))}">${visOptions(c.visibility)}</select>
      <button type="button" class="btn small" data-remove="${i}" aria-label="${esc(`${t('removeContact')} ${c.value}`)}">${esc(t('removeContact'))}</button>
      ${['kind', 'value', 'label', 'visibility'].map((k) => errorFor(`contacts[${i}].${k}`)).join('')}
    </li>`).join('');
  area.innerHTML = `<form id="edit-form" class="edit-form" novalidate aria-labelledby="edit-heading">
    <h4 id="edit-heading">${esc(t('editHeading'))}</h4>
    ${conflictHtml()}
    <div class="field"><label for="edit-name">${esc(t('fieldName'))}</label>
      <input id="edit-name" type="text" ${inputAttrs('name')} value="${esc(v.name)}">${errorFor('name')}</div>
    <fieldset class="field contacts-edit" ${inputAttrs('contacts')}>
      <legend>${esc(t('fieldContacts'))}</legend>
      <ol class="contact-rows">${rows}</ol>
      ${errorFor('contacts')}
      <div class="row">
        <button type="button" class="btn small" id="add-phone">${esc(t('addPhone'))}</button>
        <button type="button" class="btn small" id="add-fax">${esc(t('addFax'))}</button>
      </div>
    </fieldset>
    <div class="field"><label for="edit-url">${esc(t('fieldUrl'))}</label>
      <input id="edit-url" type="url" ${inputAttrs('url')} value="${esc(v.url)}" placeholder="https://">${errorFor('url')}</div>
    <div class="field"><label for="edit-notes">${esc(t('fieldNotes'))}</label>
      <textarea id="edit-notes" rows="3" ${inputAttrs('notes')}>${esc(v.notes)}</textarea>${errorFor('notes')}</div>
    <div id="edit-msg" role="alert">${model.message ? `<p class="msg">${esc(model.message)}</p>` : ''}</div>
    <div class="row">
      <button type="submit" class="btn primary" id="edit-save">${esc(t('save'))}</button>
      <button type="button" class="btn" id="edit-cancel">${esc(t('cancel'))}</button>
    </div>
  </form>`;
}

function readForm() {
  const form = $('#edit-form');
  if (!form || !model) return;
  model.values.name = $('#edit-name').value;
  model.values.url = $('#edit-url').value;
  model.values.notes = $('#edit-notes').value;
  model.values.contacts = [...form.querySelectorAll('.contact-row')].map((li) => {
    const i = li.dataset.index;
    const val = (k) => li.querySelector(`[data-path="contacts[${i}].${k}"]`).value;
    return { kind: val('kind'), value: val('value'), label: val('label'), visibility: val('visibility') };
  });
}

/**
 * The Japanese words for a refused field (the server explains in English); in English the
 * server's own detail is shown.
 */
function fieldHint(field) {
  const m = /^contacts\[(\d+)\]\.(value|label)$/.exec(field);
  let key = { name: 'hintName', url: 'hintWeb', notes: 'hintNotes' }[field];
  if (m && m[2] === 'label') key = 'hintLabel';
  else if (m) {
    const c = model.values.contacts[Number(m[1])];
    key = c && { phone: 'hintPhone', fax: 'hintPhone', email: 'hintEmail', web: 'hintWeb' }[c.kind];
  }
  return key ? t(key) : '';
}

async function save() {
  readForm();
  const patch = patchOf(model);
  model.errors = {};
  model.message = '';
  if (!Object.keys(patch).length) {
    model.message = t('nothingChanged');
    renderForm();
    return;
  }
  const btn = $('#edit-save');
  btn.disabled = true;
  btn.textContent = t('saving');
  const id = model.id;
  const r = await request('PATCH', `/facilities/${encodeURIComponent(id)}`, { body: patch, etag: model.etag });
  if (!model || model.id !== id) return;
  const p = r.body || {};
  if (r.ok) {
    remember(id, r.etag, r.body);
    model = null;
    notice = { id, text: t('saved'), kind: 'ok' };
    hooks.onSaved(r.body);
    return;
  }
  if (r.status === 409 && p.current) {
    remember(id, r.etag, p.current);
    model.etag = r.etag || model.etag;
    model.conflict = p.current;
    hooks.onSaved(p.current); // the panel shows their version; the form (and its box) is kept
    return;
  }
  if (r.status === 400 && p.field) {
    model.errors[p.field] = fieldHint(p.field) || serverText(p.detail);
    const shown = document.querySelector(`#edit-form [data-path="${CSS.escape(p.field)}"]`);
    if (!shown) model.message = `${t('fixFields')} ${serverText(p.detail)}`;
    else model.message = t('fixFields');
  } else if (r.status === 403) {
    model.message = t('editForbidden', { d: serverText(p.detail) || `HTTP ${r.status}` });
  } else {
    model.message = t('editFailed', { d: serverText(p.detail) || `HTTP ${r.status}` });
  }
  renderForm();
  const bad = p.field && document.querySelector(`#edit-form [data-path="${CSS.escape(p.field)}"]`);
  if (bad) bad.focus();
}

async function verify() {
  if (!tools) return;
  const id = tools.id;
  const btn = $('#verify-btn');
  btn.disabled = true;
  const r = await request('POST', `/facilities/${encodeURIComponent(id)}/verify`, { etag: tools.etag });
  btn.disabled = false;
  const p = r.body || {};
  if (r.ok) {
    remember(id, r.etag, r.body);
    notice = { id, text: t('verified', { d: fmtTime(r.body.verified_at) || r.body.verified_at }), kind: 'ok' };
    hooks.onSaved(r.body);
  } else if (r.status === 409 && p.current) {
    remember(id, r.etag, p.current);
    tools.etag = r.etag || tools.etag;
    notice = { id, text: `${t('conflict')} ${p.current.name}`, kind: 'error' };
    hooks.onSaved(p.current);
  } else if (r.status === 403) {
    showToolsMessage(t('editForbidden', { d: serverText(p.detail) }), 'error');
  } else {
    showToolsMessage(t('editFailed', { d: serverText(p.detail) || `HTTP ${r.status}` }), 'error');
  }
}

// One delegated listener for everything the panel draws (it is redrawn often).
document.addEventListener('click', (ev) => {
  const b = ev.target.closest('#pro-tools button');
  if (!b) return;
  if (b.id === 'edit-open') { if (model) closeForm(); else openForm(); return; }
  if (b.id === 'verify-btn') { verify(); return; }
  if (!model) return;
  if (b.id === 'edit-cancel') { closeForm(); return; }
  if (b.id === 'edit-reapply') { model.conflict = null; save(); return; }
  if (b.id === 'edit-take-theirs') {
    const base = factsOf(model.conflict || tools.f, tools.vis);
    model = { ...model, base, values: clone(base), errors: {}, message: '', conflict: null };
    renderForm();
    $('#edit-name').focus();
    return;
  }
  if (b.id === 'add-phone' || b.id === 'add-fax') {
    readForm();
    const kind = b.id === 'add-phone' ? 'phone' : 'fax';
    model.values.contacts.push({ kind, value: '', label: '', visibility: kind === 'fax' ? 'professional' : 'public' });
    renderForm();
    const rows = document.querySelectorAll('#edit-form .contact-row');
    rows[rows.length - 1].querySelector('input').focus();
    return;
  }
  if (b.dataset.remove !== undefined) {
    readForm();
    model.values.contacts.splice(Number(b.dataset.remove), 1);
    renderForm();
  }
});
document.addEventListener('submit', (ev) => {
  if (ev.target.id !== 'edit-form') return;
  ev.preventDefault();
  save();
});
document.addEventListener('input', (ev) => { if (ev.target.closest('#edit-form')) readForm(); });
document.addEventListener('change', (ev) => { if (ev.target.closest('#edit-form')) readForm(); });

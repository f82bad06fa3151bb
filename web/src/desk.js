// 「調整員の机」: the coordinator's desk. 取り込み — a CSV / XLSX file in the template's columns
// checked first (rejected rows first, with row, column and what to fix), applied only when no row
// is rejected; 確認期限 — the entries not verified for months, with one-time update links for a
// selection as a mail-merge CSV; 修正依頼 — the public's correction reports, closed with a note.

import './desk.css';
import { t, addStrings, onLangChange } from './i18n.js';
import { request, session, serverText, onSessionChange } from './account.js';
import { shortTime } from './capacity.js';
import { actorText } from './review.js';

addStrings({
  deskTab: ['調整員の机', 'Coordinator\u2019s desk'],
  deskHeading: ['調整員の机', 'Coordinator\u2019s desk'],
  deskParts: ['机の作業', 'Desk tasks'],
  deskImport: ['取り込み', 'Import'],
  deskStale: ['確認期限', 'Due for checking'],
  deskCorrections: ['修正依頼', 'Reports'],
  deskCorrectionsN: ['修正依頼（{n}）', 'Reports ({n})'],
  // 取り込み
  impIntro: ['テンプレートの列（施設ID・種別・名称・所在地・電話番号・サービス…）の CSV（UTF-8 / Shift_JIS）または Excel（XLSX）を選び、まず確認します。エラーの行がなければ反映できます。', 'Choose a CSV (UTF-8 or Shift_JIS) or Excel (XLSX) file in the template\u2019s columns and check it first; it can be applied when no row is rejected.'],
  impTemplate: ['テンプレート:', 'Template:'],
  impTemplateCsv: ['CSV', 'CSV'],
  impTemplateXlsx: ['Excel（XLSX）', 'Excel (XLSX)'],
  impFile: ['ファイル', 'File'],
  impEncoding: ['文字コード（CSV）', 'Encoding (CSV)'],
  impEncodingAuto: ['自動判定', 'Detect'],
  impEncodingUtf8: ['UTF-8', 'UTF-8'],
  impEncodingSjis: ['Shift_JIS（Excel の CSV）', 'Shift_JIS (Excel CSV)'],
  impCheck: ['確認', 'Check'],
  impChecking: ['確認中…', 'Checking…'],
  impApply: ['反映', 'Apply'],
  impApplying: ['反映中…', 'Applying…'],
  impNoFile: ['ファイルを選んでください。', 'Choose a file.'],
  impSummary: ['{f}（{fmt}・{enc}）: {rows} 行 — 新規 {c}・更新 {u}・変更なし {n}・エラー {r}', '{f} ({fmt}, {enc}): {rows} rows — new {c}, updated {u}, unchanged {n}, rejected {r}'],
  impRejectedNote: ['エラーの行があるため反映できません。ファイルを直して、もう一度確認してください（何も反映されていません）。', 'Rows are rejected, so nothing can be applied. Fix the file and check it again (nothing was applied).'],
  impNothing: ['変更する行はありません。', 'No row changes anything.'],
  impReady: ['エラーはありません。「反映」で取り込みます。', 'No errors. Apply to import it.'],
  impIgnored: ['使われない列: {c}', 'Columns not used: {c}'],
  impFileErrors: ['ファイルの問題', 'Problems with the file'],
  impColRow: ['行', 'Row'],
  impColAction: ['結果', 'Result'],
  impColName: ['名称', 'Name'],
  impColColumn: ['列', 'Column'],
  impColMessage: ['直すこと', 'What to fix'],
  impCaption: ['行ごとの結果（エラーの行が先）', 'Row by row (rejected rows first)'],
  action_create: ['新規', 'New'],
  action_update: ['更新', 'Update'],
  action_unchanged: ['変更なし', 'Unchanged'],
  action_reject: ['エラー', 'Rejected'],
  impWholeRow: ['（行全体）', '(whole row)'],
  impApplied: ['反映しました: 新規 {c} 件・更新 {u} 件。地図と一覧に表示されています。', 'Applied: {c} new, {u} updated. They are on the map and in the list.'],
  impShow: ['地図で見る', 'Show on the map'],
  impTooLarge: ['ファイルが 20 MB を超えています。分けて取り込むか、サーバーで pallimap import を使ってください。', 'The file is over 20 MB: split it, or use pallimap import on the server.'],
  impChanged: ['確認したファイルと違います。もう一度「確認」してください: {d}', 'This is not the file checked. Check it again: {d}'],
  impFailed: ['取り込めませんでした: {d}', 'Could not import: {d}'],
  // 確認期限
  staleIntro: ['一定期間、人が確認していない施設です（未確認のものが先、古い順）。選んだ施設ごとに一度だけ使える更新用リンクを発行し、差し込み印刷用の CSV で保存します。', 'Entries nobody has confirmed for a while (never-checked first, oldest first). Issue one-time update links for those chosen, saved as a CSV for a mail merge.'],
  staleMonths: ['確認していない期間', 'Not checked within'],
  staleMonthsN: ['{n} か月', '{n} months'],
  staleArea: ['二次医療圏', 'Area'],
  staleAreaMine: ['担当のすべて', 'All of mine'],
  staleCount: ['{n} 件', '{n} entries'],
  staleCountShown: ['{n} 件（先頭の {m} 件を表示）', '{n} entries (first {m} shown)'],
  staleEmpty: ['確認期限を過ぎた施設はありません。', 'Nothing is due for checking.'],
  staleAll: ['すべて選ぶ', 'Select all'],
  staleColName: ['施設', 'Facility'],
  staleColPlace: ['市区町村', 'Municipality'],
  staleColVerified: ['最終確認日', 'Last verified'],
  staleColSource: ['出典の時点', 'Source as of'],
  staleSelect: ['{n} を選ぶ', 'Select {n}'],
  staleWithheld: ['非公開', 'withheld'],
  staleDays: ['リンクの有効日数', 'Links valid for (days)'],
  staleLinks: ['更新用リンクを発行（CSV）', 'Issue update links (CSV)'],
  staleSelected: ['{n} 件を選択中', '{n} selected'],
  staleIssued: ['{n} 件の更新用リンクを発行し、CSV を保存しました。リンクはこの CSV にしかありません。', 'Issued {n} update links and saved the CSV; the links are only in that file.'],
  staleFailed: ['読み込めませんでした: {d}', 'Could not load: {d}'],
  staleLinksFailed: ['リンクを発行できませんでした: {d}', 'Could not issue the links: {d}'],
  // 修正依頼
  corrIntroDesk: ['施設の情報について一般の方から届いた修正の依頼です。内容を確かめて施設の情報を直し、対応済みにしてください。', 'Reports from the public about entries. Check each, correct the entry, then close the report.'],
  corrStatus: ['表示する依頼', 'Show'],
  corr_open: ['未対応', 'Open'],
  corr_closed: ['対応済み', 'Closed'],
  corr_all: ['すべて', 'All'],
  corrEmpty: ['未対応の修正依頼はありません。', 'No open reports.'],
  corrEmptyOther: ['該当する修正依頼はありません。', 'No reports.'],
  corrReceived: ['{d} 受付', 'received {d}'],
  corrFrom: ['連絡先: {c}', 'Contact: {c}'],
  corrNoContact: ['連絡先なし', 'no contact given'],
  corrNote: ['対応の記録（任意）', 'What was done (optional)'],
  corrClose: ['対応済みにする', 'Close'],
  corrClosed: ['対応済みにしました。', 'Closed.'],
  corrClosedBy: ['対応済み（{w}、{d}）', 'Closed ({w}, {d})'],
  corrCloseNote: ['記録: {n}', 'Note: {n}'],
  corrCloseFailed: ['処理できませんでした: {d}', 'Could not do that: {d}'],
  corrLoadFailed: ['修正依頼を読み込めませんでした: {d}', 'Could not load the reports: {d}'],
});

const $ = (sel, r = document) => r.querySelector(sel);
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

const PARTS = ['import', 'stale', 'corrections'];
const MONTHS = [3, 6, 12, 24, 36];
/** How the preview's `encoding` is written for people. */
const ENCODINGS = { 'utf-8': 'UTF-8', shift_jis: 'Shift_JIS' };

const st = {
  active: false,
  part: 'import',
  imp: { file: null, encoding: '', preview: null, message: '', kind: '', busy: false, applied: null },
  stale: { months: 12, area: '', days: 14, data: null, chosen: new Set(), message: '', kind: '', seq: 0 },
  corr: { status: 'open', items: null, open: 0, message: '', kind: '', seq: 0 },
};
let hooks = { busy: () => {}, openDetail: () => {}, refresh: async () => {}, findByName: () => {}, areaName: (c) => c, allAreas: () => [] };

/** Coordinators and admins have a desk. */
export function mayUseDesk(s = session()) {
  return !!s.signed_in && ['coordinator', 'admin'].includes(s.role) && !s.disabled;
}

function detail(r) {
  if (r.status === 0) return t('signInDown');
  return serverText(r.body && (r.body.detail || r.body.title)) || `HTTP ${r.status}`;
}

function msgHtml(id, text, kind) {
  return `<p id="${id}" class="${kind === 'ok' ? 'ok-msg' : 'msg'}" role="${kind === 'ok' ? 'status' : 'alert'}" ${text ? '' : 'hidden'}>${esc(text)}</p>`;
}

// ---------- the frame ----------

function frameHtml() {
  const n = st.corr.open;
  const btn = (p, label) => `<button type="button" class="tab desk-part" id="desk-part-${p}" data-part="${p}" aria-pressed="${st.part === p}" aria-controls="desk-${p}">${esc(label)}</button>`;
  return `<div class="results-head"><h2 id="desk-heading" tabindex="-1">${esc(t('deskHeading'))}</h2></div>
    <div class="tabs desk-parts" role="group" aria-label="${esc(t('deskParts'))}">
      ${btn('import', t('deskImport'))}${btn('stale', t('deskStale'))}${btn('corrections', n ? t('deskCorrectionsN', { n }) : t('deskCorrections'))}
    </div>
    <div id="desk-import" class="desk-body" ${st.part === 'import' ? '' : 'hidden'}>${importHtml()}</div>
    <div id="desk-stale" class="desk-body" ${st.part === 'stale' ? '' : 'hidden'}>${staleHtml()}</div>
    <div id="desk-corrections" class="desk-body" ${st.part === 'corrections' ? '' : 'hidden'}>${corrHtml()}</div>`;
}

function render() {
  const tab = $('#tab-desk');
  if (tab) tab.hidden = !mayUseDesk();
  const root = $('#desk');
  if (!root || !mayUseDesk()) return;
  // Keep the chosen file (a file input cannot be refilled) and the typed notes across a render.
  const fileInput = $('#imp-file');
  const notes = new Map([...root.querySelectorAll('[data-close-note]')].map((el) => [el.dataset.closeNote, el.value]));
  const focused = document.activeElement && root.contains(document.activeElement) ? document.activeElement.id : '';
  root.innerHTML = frameHtml();
  if (fileInput && fileInput.files && fileInput.files.length) $('#imp-file').replaceWith(fileInput);
  for (const [id, v] of notes) { const el = root.querySelector(`[data-close-note="${CSS.escape(id)}"]`); if (el) el.value = v; }
  if (focused && document.getElementById(focused)) document.getElementById(focused).focus();
}

function setPart(p) {
  if (!PARTS.includes(p)) p = 'import';
  st.part = p;
  for (const k of PARTS) {
    const body = $(`#desk-${k}`);
    if (body) body.hidden = k !== p;
    const b = $(`#desk-part-${k}`);
    if (b) b.setAttribute('aria-pressed', String(k === p));
  }
  if (p === 'stale' && !st.stale.data) loadStale();
  if (p === 'corrections') loadCorrections();
}

// ---------- 取り込み ----------

function importHtml() {
  const s = st.imp;
  const opt = (v, k) => `<option value="${v}"${s.encoding === v ? ' selected' : ''}>${esc(t(k))}</option>`;
  return `<p class="hint">${esc(t('impIntro'))}</p>
    <p class="small">${esc(t('impTemplate'))} <a href="/api/v1/import/template.csv" download id="imp-template-csv">${esc(t('impTemplateCsv'))}</a>
      ・ <a href="/api/v1/import/template.xlsx" download id="imp-template-xlsx">${esc(t('impTemplateXlsx'))}</a></p>
    <form id="imp-form" novalidate>
      <div class="field"><label for="imp-file">${esc(t('impFile'))}</label>
        <input id="imp-file" type="file" accept=".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"></div>
      <div class="field"><label for="imp-encoding">${esc(t('impEncoding'))}</label>
        <select id="imp-encoding">${opt('', 'impEncodingAuto')}${opt('utf-8', 'impEncodingUtf8')}${opt('shift_jis', 'impEncodingSjis')}</select></div>
      <div class="row">
        <button type="submit" class="btn" id="imp-check"${s.busy ? ' disabled' : ''}>${esc(t(s.busy === 'check' ? 'impChecking' : 'impCheck'))}</button>
        <button type="button" class="btn primary" id="imp-apply" ${applyEnabled() ? '' : 'disabled'}>${esc(t(s.busy === 'apply' ? 'impApplying' : 'impApply'))}</button>
      </div>
    </form>
    ${msgHtml('imp-msg', s.message, s.kind)}
    ${s.applied ? appliedHtml(s.applied) : ''}
    ${s.preview ? previewHtml(s.preview) : ''}`;
}

function applyEnabled() {
  const p = st.imp.preview;
  return !!p && !p.applied && !st.imp.busy && p.rejected === 0 && !(p.file_errors || []).length && p.created + p.updated > 0;
}

function previewHtml(p) {
  const rejected = p.rejected > 0 || (p.file_errors || []).length > 0;
  const note = p.applied ? '' : rejected ? t('impRejectedNote') : p.created + p.updated === 0 ? t('impNothing') : t('impReady');
  const rows = [];
  for (const it of p.items || []) {
    const errs = it.errors && it.errors.length ? it.errors : [null];
    errs.forEach((e, i) => {
      rows.push(`<tr data-row="${esc(it.row)}" data-action="${esc(it.action)}"${e && e.key ? ` data-column="${esc(e.key)}"` : ''}>
        ${i === 0 ? `<td rowspan="${errs.length}" class="num">${esc(it.row)}</td><td rowspan="${errs.length}"><span class="imp-action imp-${esc(it.action)}">${esc(t(`action_${it.action}`))}</span></td><td rowspan="${errs.length}">${esc(it.name || it.id || '')}</td>` : ''}
        <td class="imp-col">${e ? esc(e.column || t('impWholeRow')) : ''}</td><td>${e ? esc(e.message) : ''}</td></tr>`);
    });
  }
  return `<section id="imp-preview" class="imp-preview" aria-labelledby="imp-summary" data-rejected="${p.rejected}" data-checksum="${esc(p.checksum)}">
    <p id="imp-summary" class="summary" data-rows="${p.rows}" data-created="${p.created}" data-updated="${p.updated}" data-unchanged="${p.unchanged}">${esc(t('impSummary', { f: p.file, fmt: String(p.format || '').toUpperCase(), enc: ENCODINGS[p.encoding] || p.encoding || '—', rows: p.rows, c: p.created, u: p.updated, n: p.unchanged, r: p.rejected }))}</p>
    ${note ? `<p id="imp-note" class="${rejected ? 'msg' : 'note'}">${esc(note)}</p>` : ''}
    ${(p.file_errors || []).length ? `<h4>${esc(t('impFileErrors'))}</h4><ul id="imp-file-errors">${p.file_errors.map((e) => `<li>${esc(e)}</li>`).join('')}</ul>` : ''}
    ${(p.ignored_columns || []).length ? `<p class="hint" id="imp-ignored">${esc(t('impIgnored', { c: p.ignored_columns.join('、') }))}</p>` : ''}
    ${rows.length ? `<div class="table-scroll"><table id="imp-table" class="desk-table">
      <caption>${esc(t('impCaption'))}</caption>
      <thead><tr><th scope="col">${esc(t('impColRow'))}</th><th scope="col">${esc(t('impColAction'))}</th><th scope="col">${esc(t('impColName'))}</th><th scope="col">${esc(t('impColColumn'))}</th><th scope="col">${esc(t('impColMessage'))}</th></tr></thead>
      <tbody>${rows.join('')}</tbody></table></div>` : ''}
  </section>`;
}

function appliedHtml(a) {
  const made = (a.items || []).filter((i) => i.action === 'create' || i.action === 'update');
  return `<div id="imp-applied" class="imp-applied">
    <ul class="plain">${made.map((i) => `<li data-id="${esc(i.id || '')}">${esc(i.name || i.id || '')} <button type="button" class="btn small" data-show="${esc(i.id || '')}" data-name="${esc(i.name || '')}">${esc(t('impShow'))}</button></li>`).join('')}</ul>
  </div>`;
}

function setImp(patch) {
  Object.assign(st.imp, patch);
  const body = $('#desk-import');
  if (!body) return;
  const fileInput = $('#imp-file');
  body.innerHTML = importHtml();
  if (fileInput && fileInput.files && fileInput.files.length) $('#imp-file').replaceWith(fileInput);
}

async function upload({ apply }) {
  const s = st.imp;
  const input = $('#imp-file');
  const file = apply ? s.file : input && input.files && input.files[0];
  if (!file) {
    setImp({ message: t('impNoFile'), kind: 'error' });
    if ($('#imp-file')) $('#imp-file').focus();
    return;
  }
  const encoding = $('#imp-encoding') ? $('#imp-encoding').value : s.encoding;
  const q = new URLSearchParams();
  if (encoding) q.set('encoding', encoding);
  if (apply) { q.set('apply', 'true'); q.set('checksum', s.preview.checksum); }
  const form = new FormData();
  form.append('file', file, file.name);
  // A check starts again from this file; an apply keeps its preview until the answer.
  setImp({ busy: apply ? 'apply' : 'check', message: '', kind: '', encoding, applied: null, ...(apply ? {} : { preview: null, file }) });
  hooks.busy(1);
  let r;
  try {
    r = await request('POST', `/imports${q.toString() ? `?${q}` : ''}`, { body: form });
  } finally {
    hooks.busy(-1);
  }
  if (r.ok && r.body) {
    let p = r.body;
    if (p.applied) {
      // The apply's answer counts the rows but lists none: name those of the check just made.
      if (!(p.items || []).length && s.preview) p = { ...p, items: s.preview.items || [] };
      setImp({ busy: false, preview: p, applied: p, message: t('impApplied', { c: p.created, u: p.updated }), kind: 'ok' });
      await hooks.refresh();
    } else {
      setImp({ busy: false, preview: p });
    }
    return;
  }
  const b = r.body || {};
  if (r.status === 422 && b.preview) setImp({ busy: false, preview: b.preview, message: '', kind: '' });
  else if (r.status === 413) setImp({ busy: false, message: t('impTooLarge'), kind: 'error' });
  else if (r.status === 409) setImp({ busy: false, preview: null, message: t('impChanged', { d: detail(r) }), kind: 'error' });
  else setImp({ busy: false, message: t('impFailed', { d: detail(r) }), kind: 'error' });
}

// ---------- 確認期限 ----------

function staleHtml() {
  const s = st.stale;
  // An admin's areas are all of them.
  const areas = session().role === 'admin' ? hooks.allAreas() : (session().areas || []);
  const d = s.data;
  const items = (d && d.items) || [];
  const all = items.length > 0 && items.every((i) => s.chosen.has(i.id));
  const rows = items.map((i) => `<tr data-id="${esc(i.id)}"${i.withheld ? ' data-withheld' : ''}>
      <td><input type="checkbox" data-stale-id="${esc(i.id)}" id="stale-${esc(i.id)}" ${s.chosen.has(i.id) ? 'checked' : ''} aria-label="${esc(t('staleSelect', { n: i.name }))}"></td>
      <th scope="row"><button type="button" class="linkish name" data-open="${esc(i.id)}">${esc(i.name)}</button>${i.withheld ? ` <span class="badge warn">${esc(t('staleWithheld'))}</span>` : ''}</th>
      <td>${esc(i.municipality || '')}</td>
      <td data-col="verified_at">${i.verified_at ? esc(String(i.verified_at).slice(0, 10)) : `<span class="muted">${esc(t('notVerified'))}</span>`}</td>
      <td data-col="source_snapshot">${esc(i.source_snapshot || '—')}</td></tr>`).join('');
  const count = !d ? '' : d.total > items.length ? t('staleCountShown', { n: d.total, m: items.length }) : t('staleCount', { n: d.total });
  return `<p class="hint">${esc(t('staleIntro'))}</p>
    <div class="grid2">
      <div class="field"><label for="stale-months">${esc(t('staleMonths'))}</label>
        <select id="stale-months">${MONTHS.map((m) => `<option value="${m}"${s.months === m ? ' selected' : ''}>${esc(t('staleMonthsN', { n: m }))}</option>`).join('')}</select></div>
      <div class="field"><label for="stale-area">${esc(t('staleArea'))}</label>
        <select id="stale-area"><option value="">${esc(t('staleAreaMine'))}</option>${areas.map((a) => `<option value="${esc(a)}"${s.area === a ? ' selected' : ''}>${esc(hooks.areaName(a))}（${esc(a)}）</option>`).join('')}</select></div>
    </div>
    ${msgHtml('stale-msg', s.message, s.kind)}
    <p id="stale-count" class="count" aria-live="polite" data-total="${d ? d.total : ''}">${esc(count)}</p>
    ${d && !items.length ? `<p class="hint" id="stale-empty">${esc(t('staleEmpty'))}</p>` : ''}
    ${items.length ? `<div class="table-scroll"><table id="stale-table" class="desk-table">
      <thead><tr><th scope="col"><input type="checkbox" id="stale-all" ${all ? 'checked' : ''} aria-label="${esc(t('staleAll'))}"></th><th scope="col">${esc(t('staleColName'))}</th><th scope="col">${esc(t('staleColPlace'))}</th><th scope="col">${esc(t('staleColVerified'))}</th><th scope="col">${esc(t('staleColSource'))}</th></tr></thead>
      <tbody>${rows}</tbody></table></div>
    <div class="row stale-actions">
      <label for="stale-days">${esc(t('staleDays'))}</label> <input id="stale-days" type="number" min="1" max="90" value="${s.days}">
      <button type="button" class="btn primary" id="stale-links" ${s.chosen.size ? '' : 'disabled'}>${esc(t('staleLinks'))}</button>
      <span id="stale-selected" aria-live="polite">${esc(t('staleSelected', { n: s.chosen.size }))}</span>
    </div>` : ''}`;
}

function renderStale() {
  const body = $('#desk-stale');
  if (body) body.innerHTML = staleHtml();
}

async function loadStale() {
  if (!mayUseDesk()) return;
  const s = st.stale;
  const seq = ++s.seq;
  const q = new URLSearchParams({ months: String(s.months) });
  if (s.area) q.set('area', s.area);
  hooks.busy(1);
  try {
    const r = await request('GET', `/review/stale?${q}`);
    if (seq !== s.seq) return;
    if (r.ok && r.body) {
      s.data = r.body;
      const ids = new Set((r.body.items || []).map((i) => i.id));
      s.chosen = new Set([...s.chosen].filter((id) => ids.has(id)));
      s.message = '';
    } else {
      s.data = null;
      s.message = t('staleFailed', { d: detail(r) });
      s.kind = 'error';
    }
    renderStale();
  } finally {
    hooks.busy(-1);
  }
  document.body.dataset.deskStale = 'ready';
}

function updateChosen() {
  const s = st.stale;
  const items = (s.data && s.data.items) || [];
  const all = $('#stale-all');
  if (all) all.checked = items.length > 0 && items.every((i) => s.chosen.has(i.id));
  const btn = $('#stale-links');
  if (btn) btn.disabled = s.chosen.size === 0;
  const sel = $('#stale-selected');
  if (sel) sel.textContent = t('staleSelected', { n: s.chosen.size });
}

async function issueLinks() {
  const s = st.stale;
  const days = Math.max(1, Math.min(90, Number($('#stale-days').value) || 14));
  s.days = days;
  const ids = ((s.data && s.data.items) || []).map((i) => i.id).filter((id) => s.chosen.has(id));
  if (!ids.length) return;
  const btn = $('#stale-links');
  btn.disabled = true;
  hooks.busy(1);
  let r;
  try {
    r = await request('POST', '/review/stale/links', { body: { ids, days }, blob: true });
  } finally {
    hooks.busy(-1);
  }
  if (r.ok && r.body) {
    const url = URL.createObjectURL(r.body);
    const a = document.createElement('a');
    a.href = url;
    a.download = `pallimap-update-links-${new Date().toISOString().slice(0, 10)}.csv`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    s.message = t('staleIssued', { n: ids.length });
    s.kind = 'ok';
    s.chosen.clear();
  } else {
    s.message = t('staleLinksFailed', { d: detail(r) });
    s.kind = 'error';
  }
  renderStale();
}

// ---------- 修正依頼 ----------

function corrHtml() {
  const c = st.corr;
  const items = c.items || [];
  const opt = (v) => `<option value="${v}"${c.status === v ? ' selected' : ''}>${esc(t(`corr_${v}`))}</option>`;
  const list = items.map((r) => {
    const closed = r.status === 'closed';
    return `<li class="item corr-item" data-correction="${esc(r.id)}" data-id="${esc(r.facility_id)}" data-status="${esc(r.status)}">
      <h3><button type="button" class="linkish name" data-open="${esc(r.facility_id)}">${esc(r.facility_name || r.facility_id)}</button></h3>
      <p class="meta">${esc(t('corrReceived', { d: shortTime(r.created_at) }))}${r.area ? ` ・ ${esc(hooks.areaName(r.area))}` : ''}</p>
      <p class="corr-what" data-what>${esc(r.what)}</p>
      <p class="meta" data-contact>${r.contact ? esc(t('corrFrom', { c: r.contact })) : `<span class="muted">${esc(t('corrNoContact'))}</span>`}</p>
      ${closed ? `<p class="decided">${esc(t('corrClosedBy', { w: actorText(r.closed_by), d: shortTime(r.closed_at) }))}${r.note ? `<br>${esc(t('corrCloseNote', { n: r.note }))}` : ''}</p>` : `
      <div class="field"><label for="corr-note-${esc(r.id)}">${esc(t('corrNote'))}</label>
        <textarea id="corr-note-${esc(r.id)}" rows="2" maxlength="500" data-close-note="${esc(r.id)}"></textarea></div>
      <div class="row"><button type="button" class="btn small primary" data-close="${esc(r.id)}">${esc(t('corrClose'))}</button></div>
      <div class="corr-item-msg" role="alert"></div>`}
    </li>`;
  }).join('');
  return `<p class="hint">${esc(t('corrIntroDesk'))}</p>
    <div class="field"><label for="corr-status">${esc(t('corrStatus'))}</label>
      <select id="corr-status">${opt('open')}${opt('closed')}${opt('all')}</select></div>
    ${msgHtml('corr-list-msg', c.message, c.kind)}
    <ol id="corr-list" class="result-list">${list}</ol>
    ${c.items && !items.length ? `<p class="hint" id="corr-empty">${esc(t(c.status === 'open' ? 'corrEmpty' : 'corrEmptyOther'))}</p>` : ''}`;
}

function renderCorr() {
  const body = $('#desk-corrections');
  if (body) body.innerHTML = corrHtml();
  const b = $('#desk-part-corrections');
  if (b) b.textContent = st.corr.open ? t('deskCorrectionsN', { n: st.corr.open }) : t('deskCorrections');
}

async function loadCorrections() {
  if (!mayUseDesk()) return;
  const c = st.corr;
  const seq = ++c.seq;
  hooks.busy(1);
  try {
    const [r, open] = await Promise.all([
      request('GET', `/corrections?status=${encodeURIComponent(c.status)}`),
      c.status === 'open' ? Promise.resolve(null) : request('GET', '/corrections?status=open'),
    ]);
    if (seq !== c.seq) return;
    if (r.ok && Array.isArray(r.body)) {
      c.items = r.body;
      const o = open ? (open.ok && Array.isArray(open.body) ? open.body : null) : r.body;
      if (o) c.open = o.length;
    } else {
      c.items = [];
      c.message = t('corrLoadFailed', { d: detail(r) });
      c.kind = 'error';
    }
    renderCorr();
  } finally {
    hooks.busy(-1);
  }
  document.body.dataset.deskCorrections = 'ready';
}

async function closeReport(li) {
  const id = li.dataset.correction;
  const noteEl = li.querySelector('[data-close-note]');
  const note = noteEl ? noteEl.value.trim() : '';
  const btn = li.querySelector('[data-close]');
  btn.disabled = true;
  const r = await request('POST', `/corrections/${encodeURIComponent(id)}/close`, { body: note ? { note } : {} });
  btn.disabled = false;
  if (r.ok) {
    st.corr.message = t('corrClosed');
    st.corr.kind = 'ok';
    await loadCorrections();
    const h = $('#desk-heading');
    if (h) h.focus();
    return;
  }
  li.querySelector('.corr-item-msg').innerHTML = `<p class="msg">${esc(t('corrCloseFailed', { d: detail(r) }))}</p>`;
}

// ---------- wiring ----------

export function setDeskActive(on) {
  st.active = on;
  document.body.classList.toggle('tab-desk', on);
  if (!on) return;
  render();
  // The counts of the queues are fresh each time the desk is opened.
  loadCorrections();
  if (st.part === 'stale') loadStale();
}

export function initDesk(h) {
  hooks = { ...hooks, ...h };
  const root = $('#desk');
  root.addEventListener('click', (ev) => {
    const b = ev.target.closest('button');
    if (!b) return;
    if (b.dataset.part) setPart(b.dataset.part);
    else if (b.id === 'imp-apply') upload({ apply: true });
    else if (b.id === 'stale-links') issueLinks();
    else if (b.dataset.close) closeReport(b.closest('[data-correction]'));
    else if (b.dataset.open) hooks.openDetail(b.dataset.open, 'list');
    else if (b.dataset.show !== undefined) hooks.findByName(b.dataset.name, b.dataset.show);
  });
  root.addEventListener('submit', (ev) => {
    if (ev.target.id !== 'imp-form') return;
    ev.preventDefault();
    upload({ apply: false });
  });
  root.addEventListener('change', (ev) => {
    const el = ev.target;
    if (el.id === 'imp-file') {
      // Another file: the preview was of the one before.
      if (st.imp.preview || st.imp.message) setImp({ preview: null, applied: null, message: '', kind: '', file: null });
    } else if (el.id === 'imp-encoding') {
      st.imp.encoding = el.value;
      if (st.imp.preview && !st.imp.preview.applied) setImp({ preview: null, message: '' });
    } else if (el.id === 'stale-months') { st.stale.months = Number(el.value); st.stale.message = ''; loadStale(); }
    else if (el.id === 'stale-area') { st.stale.area = el.value; st.stale.message = ''; loadStale(); }
    else if (el.id === 'stale-days') st.stale.days = Number(el.value) || 14;
    else if (el.id === 'stale-all') {
      for (const i of (st.stale.data && st.stale.data.items) || []) {
        if (el.checked) st.stale.chosen.add(i.id); else st.stale.chosen.delete(i.id);
      }
      for (const cb of root.querySelectorAll('[data-stale-id]')) cb.checked = el.checked;
      updateChosen();
    } else if (el.dataset.staleId) {
      if (el.checked) st.stale.chosen.add(el.dataset.staleId); else st.stale.chosen.delete(el.dataset.staleId);
      updateChosen();
    } else if (el.id === 'corr-status') { st.corr.status = el.value; st.corr.message = ''; loadCorrections(); }
  });
  onSessionChange(() => {
    st.imp = { file: null, encoding: '', preview: null, message: '', kind: '', busy: false, applied: null };
    st.stale = { ...st.stale, data: null, chosen: new Set(), message: '', area: '' };
    st.corr = { ...st.corr, items: null, open: 0, message: '' };
    const r = $('#desk');
    if (r) r.innerHTML = '';
    render();
  });
  onLangChange(() => { if (mayUseDesk()) render(); });
  render();
}

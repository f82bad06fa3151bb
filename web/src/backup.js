// 「今夜の入院先」: the home physician's screen. Hospitals near the patient that take an
// emergency or respite admission or back up home care, ranked by whether they accept now, with
// the age of every status, the rules card and the request route valid now; kept fresh by polling.

import './backup.css';
import { t, addStrings, formatDistance, onLangChange } from './i18n.js';
import { request, session, serverText, onSessionChange } from './account.js';
import { toQuery } from './api.js';
import {
  statusBadge, statusText, sampleTag, capacityFacts, rulesCard, routeNowText, telHref,
  serviceName, effectiveStatus, rulesText, shortTime, statusLabel,
} from './capacity.js';

addStrings({
  backupTab: ['今夜の入院先', 'Tonight\u2019s bed'],
  backupHeading: ['今夜の入院先', 'Tonight\u2019s bed'],
  backupIntro: ['患者さんの住所の近くで、緊急一時入院・レスパイト入院・後方支援を受ける病院を、受け入れ状況の順に表示します。', 'Hospitals near the patient that take emergency or respite admissions or back up home care, those accepting first.'],
  backupAddressLabel: ['患者さんの住所', 'Patient\u2019s address'],
  backupSearch: ['探す', 'Search'],
  backupNeedLegend: ['必要な入院', 'Admission needed'],
  backupNeedHint: ['選ばないときは、すべての種類から探します。', 'With none chosen, all kinds are searched.'],
  need_emergency: ['緊急一時入院', 'Emergency admission'],
  need_respite: ['レスパイト入院', 'Respite admission'],
  need_backup: ['後方支援病院', 'Backup hospital'],
  need_pcu: ['緩和ケア病棟', 'PCU'],
  backupNoAddress: ['患者さんの住所を入力してください（例: 春日部市中央1-1）。', 'Enter the patient\u2019s address (e.g. 春日部市中央1-1).'],
  backupCount: ['{n} 件（半径 {r} km）', '{n} hospitals (within {r} km)'],
  backupNone: ['半径 {r} km に該当する病院はありません。', 'No hospital within {r} km.'],
  backupFrom: ['起点: {a}', 'From: {a}'],
  backupFromPrecision: ['起点: {a}（位置の誤差 約 {p}）', 'From: {a} (placed to within about {p})'],
  backupAt: ['{d} 時点', 'as of {d}'],
  backupHoliday: ['祝日: {h}', 'holiday: {h}'],
  backupSampleNote: ['「サンプル」の受け入れ状況と条件は説明用の架空のデータです。実際の依頼には使えません。', 'Statuses and rules marked “Sample” are made up for demonstration; do not use them for a real request.'],
  backupFailed: ['検索できませんでした: {d}', 'The search failed: {d}'],
  backupSignIn: ['この画面はログインした医療・介護専門職のみ使えます。', 'This screen is for signed-in professionals only.'],
  backupUpdated: ['一覧は自動で更新されます（最終更新 {d}）。', 'The list refreshes itself (last {d}).'],
  backupPrint: ['印刷', 'Print'],
  backupPrintTitle: ['今夜の入院先（受け入れ状況と依頼方法）', 'Tonight\u2019s bed: status and how to ask'],
  backupPrintFooter: ['受け入れ状況は刻々と変わります。依頼の前に必ず病院へ確認してください。「不明」は最近の報告がないことを表します。', 'Statuses change; always confirm with the hospital before a request. “Unknown” means no recent report.'],
  colStatus: ['受け入れ状況', 'Status'],
  colRoute: ['依頼方法・条件', 'How to ask, rules'],
  call: ['電話する', 'Call'],
  copyFax: ['FAX番号をコピー', 'Copy fax number'],
  copied: ['コピーしました', 'Copied'],
  openForm: ['依頼フォームを開く', 'Open the request form'],
});

const NEEDS = ['emergency', 'respite', 'backup', 'pcu'];
/** The service kind behind each need of the API. */
const NEED_SERVICE = { emergency: 'emergency_admission', respite: 'respite_admission', backup: 'backup_hospital', pcu: 'pcu' };
const needLabel = (kind) => {
  const n = Object.keys(NEED_SERVICE).find((k) => NEED_SERVICE[k] === kind || k === kind);
  return n ? t(`need_${n}`) : kind;
};
const POLL_MS = 30000;

const $ = (sel, r = document) => r.querySelector(sel);
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

const st = {
  active: false,
  need: [],
  query: null, // the parameters of the last search: { address } or { near }
  res: null, // the last answer
  error: '',
  seq: 0,
  timer: 0,
  at: 0, // when the list was last fetched
};

let hooks = {
  getMap: () => null,
  home: () => null, // { address, near } placed in the main search, if any
  openDetail: () => {},
  busy: () => {},
  printHead: (title) => `<h1>${esc(title)}</h1>`,
  printFooter: () => '',
};

/** The answer of the last search (the tests read it, the print view too). */
export function backupResult() { return st.res; }

/** The service of an item that gave it its status (the first one with that status). */
function leadService(it) {
  const svcs = it.services || [];
  return svcs.find((s) => effectiveStatus(s.capacity) === it.status) || svcs[0] || null;
}

/** Where the distances are from: the typed address (or the point), and how precisely placed. */
function originText(o) {
  if (!o) return '';
  const a = (st.query && st.query.address) || o.address || `${+o.lat.toFixed(5)},${+o.lng.toFixed(5)}`;
  const p = o.precision_m;
  return p ? t('backupFromPrecision', { a, p: formatDistance(p, 0).replace(/^約 /, '') }) : t('backupFrom', { a });
}

function routeActions(r) {
  if (!r) return '';
  if (r.kind === 'phone') return `<a class="btn small call" href="${telHref(r.value)}" data-call="${esc(r.value)}">${esc(t('call'))} ${esc(r.value)}</a>`;
  if (r.kind === 'fax') return `<button type="button" class="btn small" data-copy="${esc(r.value)}">${esc(t('copyFax'))} ${esc(r.value)}</button>`;
  if (r.kind === 'web') return `<a class="btn small" href="${esc(r.value)}" target="_blank" rel="noopener">${esc(t('openForm'))}</a>`;
  return '';
}

function serviceHtml(s) {
  const facts = capacityFacts(s.capacity);
  const now = routeNowText(s);
  return `<div class="bk-svc" data-service="${esc(s.kind)}">
      <p class="bk-svc-head"><strong>${esc(serviceName(s))}</strong> ${statusBadge(s.capacity)}${sampleTag(s.capacity && s.capacity.sample)}</p>
      ${facts ? `<p class="small bk-facts">${esc(facts)}</p>` : ''}
      ${now ? `<p class="route-now${s.requests_open ? ' open' : ''}" data-route-now>${esc(now)}</p>` : ''}
      ${s.route_now ? `<div class="bk-actions">${routeActions(s.route_now)}</div>` : ''}
      ${rulesCard(s.admission_rules, { route: s.route_now })}
    </div>`;
}

function itemHtml(it, n) {
  const lead = leadService(it);
  const prereg = (it.services || []).some((s) => s.registered_in_advance);
  const phones = it.phones || [];
  const dist = it.distance_m != null ? `<span class="distance">${esc(formatDistance(it.distance_m, it.distance_precision_m))}</span>` : '';
  return `<li class="item bk-item" data-id="${esc(it.id)}" data-status="${esc(it.status)}">
    <article aria-labelledby="bk-${esc(it.id)}">
      <div class="item-head">
        <span class="bk-rank" aria-hidden="true">${n + 1}</span>
        <h3 id="bk-${esc(it.id)}"><button type="button" class="linkish name" data-act="detail">${esc(it.everyday_name || it.name)}</button>${prereg ? `<span class="prereg-badge" data-prereg-badge>${esc(t('rulePrereg'))}</span>` : ''}${sampleTag(it.sample)}</h3>
        ${dist}
      </div>
      <p class="bk-status">${statusBadge(lead && lead.capacity, { cls: 'lead' })}</p>
      <p class="addr">${esc((it.address && it.address.text) || '')}</p>
      ${phones.length ? `<p class="tel">${esc(t('phone'))}: ${phones.map((p) => `<a href="${telHref(p.value)}">${esc(p.value)}</a>${p.label ? `（${esc(p.label)}）` : ''}`).join('、')}</p>` : ''}
      ${(it.services || []).map(serviceHtml).join('')}
      <div class="item-actions"><button type="button" class="btn small" data-act="detail" aria-label="${esc(`${t('details')} ${it.name}`)}">${esc(t('details'))}</button></div>
    </article>
  </li>`;
}

function render() {
  const box = $('#backup-list');
  if (!box) return;
  for (const b of document.querySelectorAll('#backup-need-row .chip')) b.setAttribute('aria-pressed', String(st.need.includes(b.dataset.need)));
  const msg = $('#backup-msg');
  msg.hidden = !st.error;
  msg.textContent = st.error;
  const res = st.res;
  if (!res) {
    box.innerHTML = '';
    $('#backup-count').textContent = '';
    $('#backup-origin').textContent = '';
    $('#backup-sample-note').hidden = true;
    $('#backup-fresh').textContent = '';
    $('#print-backup-btn').disabled = true;
    return;
  }
  // Keep the keyboard where it was across a refresh.
  const a = document.activeElement;
  const li = a && a.closest && a.closest('#backup-list [data-id]');
  const keep = li ? { id: li.dataset.id, act: a.dataset.act, copy: a.dataset.copy } : null;
  const items = res.items || [];
  box.innerHTML = items.map(itemHtml).join('');
  const count = $('#backup-count');
  count.dataset.total = String(res.total ?? items.length);
  count.textContent = items.length ? t('backupCount', { n: res.total ?? items.length, r: res.radius_km }) : t('backupNone', { r: res.radius_km });
  const bits = [originText(res.origin)];
  if (res.now) bits.push(t('backupAt', { d: shortTime(res.now) }));
  if (res.holiday) bits.push(t('backupHoliday', { h: res.holiday }));
  $('#backup-origin').textContent = bits.filter(Boolean).join(' ・ ');
  $('#backup-sample-note').hidden = !items.some((it) => it.sample || (it.services || []).some((s) => s.capacity && s.capacity.sample));
  $('#backup-fresh').textContent = t('backupUpdated', { d: shortTime(new Date(st.at).toISOString()) });
  $('#print-backup-btn').disabled = !items.length;
  if (keep) {
    const sel = `#backup-list [data-id="${CSS.escape(keep.id)}"] ${keep.act ? `[data-act="${keep.act}"]` : keep.copy ? `[data-copy="${CSS.escape(keep.copy)}"]` : 'button'}`;
    const el = $(sel);
    if (el) el.focus();
  }
  drawMap(false);
}

function drawMap(frame) {
  const map = hooks.getMap();
  if (!map || !st.active || !st.res) return;
  const points = (st.res.items || []).filter((it) => it.location).map((it) => {
    const lead = leadService(it);
    return {
      id: it.id,
      kind: 'hospital',
      name: it.name,
      location: it.location,
      status: it.status,
      // Never reported: a plain 不明 keeps the map readable (the list says 「報告なし」).
      badge: lead && lead.capacity && lead.capacity.updated_at ? statusText(lead.capacity) : statusLabel('unknown'),
    };
  });
  map.showBackup(points, st.res.origin, { frame });
}

function params() {
  const need = NEEDS.filter((n) => st.need.includes(n));
  return { ...st.query, need };
}

/** Fetch the list for the current query; `quiet`: a refresh (poll, focus) that keeps the view. */
async function fetchList({ quiet = false } = {}) {
  if (!st.query || !session().signed_in) return;
  const seq = ++st.seq;
  hooks.busy(1);
  if (!quiet) $('#backup-list').setAttribute('aria-busy', 'true');
  try {
    const r = await request('GET', `/backup${toQuery(params())}`);
    if (seq !== st.seq) return;
    if (r.ok && r.body) {
      st.res = r.body;
      st.at = Date.now();
      st.error = '';
      render();
      if (!quiet) drawMap(true);
    } else if (r.status === 401) {
      st.res = null;
      st.error = t('backupSignIn');
      render();
    } else if (!quiet || r.status !== 0) {
      const p = r.body || {};
      st.error = t('backupFailed', { d: serverText(p.detail) || `HTTP ${r.status}` });
      if (!quiet) st.res = null;
      render();
      if (p.field === 'address' || p.field === 'near') $('#backup-address').setAttribute('aria-invalid', 'true');
    }
  } finally {
    $('#backup-list').removeAttribute('aria-busy');
    hooks.busy(-1);
  }
}

function search() {
  const box = $('#backup-address');
  box.removeAttribute('aria-invalid');
  const address = box.value.trim();
  const h = hooks.home();
  if (address) st.query = { address };
  else if (h && h.near) st.query = { near: `${+h.near.lat.toFixed(6)},${+h.near.lng.toFixed(6)}` };
  else {
    st.query = null;
    st.res = null;
    st.error = t('backupNoAddress');
    render();
    box.setAttribute('aria-invalid', 'true');
    box.focus();
    return Promise.resolve();
  }
  return fetchList();
}

function startPolling() {
  clearInterval(st.timer);
  st.timer = setInterval(() => {
    if (st.active && !document.hidden) fetchList({ quiet: true });
  }, POLL_MS);
}

/** The screen became visible or hidden (its tab). */
export function setActive(on) {
  if (st.active === on) return;
  st.active = on;
  document.body.classList.toggle('tab-backup', on);
  const map = hooks.getMap();
  if (!on) {
    clearInterval(st.timer);
    if (map) map.hideBackup();
    return;
  }
  // The patient's address already placed in the main search, if the box is still empty.
  const h = hooks.home();
  const box = $('#backup-address');
  if (!box.value && h && h.address) box.value = h.address;
  startPolling();
  if (st.res) {
    drawMap(true);
    fetchList({ quiet: true });
  } else if (box.value || (h && h.near)) {
    search();
  }
}

/** Fill the print area with the list as it stands (Ctrl+P too). */
export function renderPrintBackup() {
  const res = st.res;
  if (!res) return;
  const rows = (res.items || []).map((it, n) => {
    const svcs = (it.services || []).map((s) => `<strong>${esc(serviceName(s))}</strong>: ${esc(statusText(s.capacity))}${s.capacity && s.capacity.sample ? ` [${esc(t('sampleTag'))}]` : ''}`).join('<br>');
    const how = (it.services || []).map((s) => {
      const now = routeNowText(s);
      const card = rulesText(s.admission_rules, s.route_now) || t('noRules');
      return `${now ? `${esc(now)}<br>` : ''}${esc(card)}`;
    }).join('<hr>');
    const tel = (it.phones || []).map((p) => `${esc(t('phone'))} ${esc(p.value)}`).join('<br>') || '—';
    return `<tr>
      <td>${n + 1}</td>
      <td><strong>${esc(it.everyday_name || it.name)}</strong>${it.sample ? `<br><em>${esc(t('sampleTag'))}</em>` : ''}<br><span class="small">${esc((it.address && it.address.text) || '')}</span></td>
      <td class="small">${svcs}</td>
      <td class="small">${how}</td>
      <td class="num" data-col="distance">${it.distance_m != null ? esc(formatDistance(it.distance_m, it.distance_precision_m)) : '—'}</td>
      <td class="small" data-col="phone">${tel}</td>
    </tr>`;
  }).join('');
  const head = [originText(res.origin), res.now ? t('backupAt', { d: shortTime(res.now) }) : '', res.holiday ? t('backupHoliday', { h: res.holiday }) : '',
    (res.need || []).length ? `${t('backupNeedLegend')}: ${(res.need || []).map(needLabel).join('、')}` : ''].filter(Boolean).join(' ・ ');
  $('#print-area').innerHTML = `<section class="print-backup">
    ${hooks.printHead(t('backupPrintTitle'), `<p>${esc(head)}</p>`)}
    <table class="print-table">
      <thead><tr><th>${esc(t('colNo'))}</th><th>${esc(t('colName'))}</th><th>${esc(t('colStatus'))}</th><th>${esc(t('colRoute'))}</th><th>${esc(t('colDistance'))}</th><th>${esc(t('colPhone'))}</th></tr></thead>
      <tbody>${rows}</tbody>
    </table>
    <p class="print-foot">${esc(t('backupPrintFooter'))}</p>
    ${$('#backup-sample-note').hidden ? '' : `<p class="note">${esc(t('backupSampleNote'))}</p>`}
    ${hooks.printFooter()}
  </section>`;
  document.body.dataset.print = 'backup';
}

export function printBackup() {
  if (!st.res) return;
  renderPrintBackup();
  window.print();
}

/** Whether the screen is the one shown (Ctrl+P prints it then). */
export function backupActive() { return st.active && !!st.res; }

function clear() {
  clearInterval(st.timer);
  st.seq++;
  st.res = null;
  st.query = null;
  st.error = '';
  const box = $('#backup-address');
  if (box) box.value = '';
  render();
}

async function copy(text, btn) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const ta = document.createElement('textarea');
    ta.value = text;
    document.body.append(ta);
    ta.select();
    try { document.execCommand('copy'); } catch { /* nothing more to try */ }
    ta.remove();
  }
  const was = btn.textContent;
  btn.textContent = t('copied');
  setTimeout(() => { if (btn.isConnected) btn.textContent = was; }, 1500);
}

export function initBackup(h) {
  hooks = { ...hooks, ...h };
  $('#backup-need-row').innerHTML = NEEDS.map((n) => `<button type="button" class="chip" data-need="${n}" aria-pressed="false">${esc(t(`need_${n}`))}</button>`).join('');
  $('#backup-form').addEventListener('submit', (ev) => { ev.preventDefault(); search(); });
  $('#backup-need-row').addEventListener('click', (ev) => {
    const b = ev.target.closest('.chip');
    if (!b) return;
    const i = st.need.indexOf(b.dataset.need);
    if (i >= 0) st.need.splice(i, 1);
    else st.need.push(b.dataset.need);
    render();
    b.focus();
    if (st.query || $('#backup-address').value.trim()) search();
  });
  $('#backup-list').addEventListener('click', (ev) => {
    const b = ev.target.closest('[data-act], [data-copy]');
    if (!b) return;
    if (b.dataset.copy) { copy(b.dataset.copy, b); return; }
    const li = b.closest('[data-id]');
    if (b.dataset.act === 'detail' && li) hooks.openDetail(li.dataset.id, 'list');
  });
  $('#print-backup-btn').addEventListener('click', printBackup);
  // A capacity changed by someone else shows when the physician comes back to the page.
  const onBack = () => { if (st.active && !document.hidden && st.res) fetchList({ quiet: true }); };
  window.addEventListener('focus', onBack);
  document.addEventListener('visibilitychange', onBack);
  onSessionChange((s) => { if (!s.signed_in) clear(); });
  onLangChange(() => {
    for (const b of document.querySelectorAll('#backup-need-row .chip')) b.textContent = t(`need_${b.dataset.need}`);
    render();
  });
  render();
}

/** Fetch again now (after this page changed a capacity). */
export function refreshBackup() {
  if (st.res) return fetchList({ quiet: true });
  return Promise.resolve();
}

// 「在宅チーム編成」: one patient's home care team for the 退院前カンファレンス, proposed by
// POST /api/v1/care-team; swapped, printed, exported as vCards and kept in this tab only.

import './careteam.css';
import { t, addStrings, formatDistance, onLangChange, pick } from './i18n.js';
import { request, session, serverText, onSessionChange } from './account.js';
import { telHref, routeText, ageText } from './capacity.js';
import { createDrugPicker } from './drugpicker.js';
import { applyDataStyles } from './styles.js';

addStrings({
  ctTab: ['在宅チーム編成', 'Care team'],
  shortlistToTeam: ['この候補で在宅チームを編成', 'Make a care team from these'],
  ctHeading: ['在宅チーム編成', 'Home care team'],
  ctIntro: ['患者さんの自宅に訪問できる在宅医・訪問看護・薬局などを役割ごとに探し、チームを提案します。', 'Finds, role by role, the providers that can serve the patient\u2019s home and proposes a team.'],
  ctAddressLabel: ['患者さんの住所', 'Patient\u2019s address'],
  ctPick: ['地図で地点を選ぶ', 'Pick a point on the map'],
  ctPicking: ['地図上の患者さんの自宅の位置をクリックしてください。', 'Click the patient\u2019s home on the map.'],
  ctPoint: ['地図で選んだ地点（{p}）', 'Point picked on the map ({p})'],
  ctPrivacyBefore: ['住所はチーム編成の問い合わせ1回にだけ使われ、サーバーには保存されません。チームはこのタブの中にだけ保存されます。', 'The address is used for this one request and not stored on the server; the team is kept in this tab only.'],
  ctRolesLegend: ['必要な役割', 'Roles needed'],
  role_physician: ['在宅医', 'Physician'],
  role_nurse: ['訪問看護', 'Visiting nurse'],
  role_pharmacy: ['薬局', 'Pharmacy'],
  role_dental: ['訪問歯科', 'Dental'],
  role_backup: ['後方支援病院', 'Backup hospital'],
  role_pcu: ['緩和ケア病棟', 'PCU'],
  role_care_manager: ['ケアマネ', 'Care manager'],
  ctAfterHours: ['時間外対応が必要', 'After-hours service required'],
  ctPreferEnhanced: ['在宅緩和ケア充実診療所を優先', 'Prefer 充実 (enhanced palliative)'],
  ctPreferReinforced: ['機能強化型を優先', 'Prefer 機能強化型 (reinforced)'],
  ctStockLabel: ['在庫の条件', 'Stock'],
  ctStockAny: ['指定なし', 'Any'],
  ctStock_always: ['在庫あり', 'In stock'],
  ctStock_partner: ['譲受まで可', 'In stock or from a partner'],
  ctStock_order: ['取り寄せまで可', 'Orderable'],
  ctInclude: ['必ず入れる: {n}', 'Always include: {n}'],
  ctExclude: ['除外: {n}', 'Excluded: {n}'],
  ctUnpin: ['{n} の指定を外す', 'Drop {n}'],
  ctSubmit: ['チームを提案', 'Propose a team'],
  ctNoAddress: ['患者さんの住所を入力するか、地図で地点を選んでください。', 'Enter the patient\u2019s address or pick a point on the map.'],
  ctNoRole: ['役割を1つ以上選んでください。', 'Choose at least one role.'],
  ctFailed: ['チームを提案できませんでした: {d}', 'No team could be proposed: {d}'],
  ctSignIn: ['この画面はログインした医療・介護専門職のみ使えます。', 'This screen is for signed-in professionals only.'],
  ctFrom: ['起点: {a}', 'From: {a}'],
  ctTeamHeading: ['提案されたチーム', 'Proposed team'],
  ctReach: ['訪問範囲 {r}', 'Serves within {r}'],
  ctLinked: ['連携先', 'Linked'],
  ctIncluded: ['指定した事業所', 'Asked for'],
  ctRanking: ['候補の順位の付け方', 'How the candidates are ranked'],
  ctExcluded: ['除外した事業所', 'Excluded'],
  ctBed: ['空床: {s}（{a}）', 'Beds: {s} ({a})'],
  ctBedNoAge: ['空床: {s}', 'Beds: {s}'],
  ctSwap: ['ほかの候補（{n}）', 'Other candidates ({n})'],
  ctSwapClose: ['候補を閉じる', 'Close the candidates'],
  ctChoose: ['この候補にする', 'Use this one'],
  ctChosen: ['選択中', 'Chosen'],
  ctPin: ['必ず入れる', 'Always include'],
  ctExcludeBtn: ['除外する', 'Exclude'],
  ctAlmost: ['あと少しで条件に合う所', 'Nearly qualifying'],
  ctDetails: ['詳細', 'Details'],
  ctPrint: ['チーム表を印刷', 'Print the team sheet'],
  ctVcard: ['vCard で保存', 'Save as vCards'],
  ctClear: ['チームを消去', 'Clear the team'],
  ctPrintPro: ['専門職向けの情報も印刷する', 'Also print the fields for professionals'],
  ctPrintProHint: ['FAX・専門職のみの連絡先・提案の理由（在庫など）。vCard にも同じ範囲が入ります。', 'Fax, professionals-only contacts and the reasons (stock and so on); the vCards carry the same.'],
  ctSaved: ['このチームはこのタブの中にだけ保存されています（タブを閉じると消えます）。', 'This team is kept in this tab only (gone when the tab closes).'],
  ctPrintTitle: ['在宅チーム表（退院前カンファレンス）', 'Home care team (discharge conference)'],
  colRole: ['役割', 'Role'],
  colContacts: ['連絡先', 'Contacts'],
  ctNight: ['夜間・休日に使う連絡先', 'At night and on holidays'],
  ctNightRoute: ['{n}（後方支援）: {r}', '{n} (backup): {r}'],
  ctNightNone: ['{n}: 夜間の依頼先は登録されていません。代表番号 {p} に確認してください。', '{n}: no night route registered; ask the main number {p}.'],
  ctNightNoPhone: ['{n}: 夜間の依頼先は登録されていません。', '{n}: no night route registered.'],
  ctNightHidden: ['{n}: 代表番号 {p}（夜間の依頼先は専門職向けの情報です）', '{n}: main number {p} (the night route is for professionals)'],
  ctNightHiddenNoPhone: ['{n}: 夜間の依頼先は専門職向けの情報です。', '{n}: the night route is for professionals.'],
  ctNightContact: ['{n}: {r}', '{n}: {r}'],
  ctNoneRole: ['該当なし', 'None found'],
  ctPrintFoot: ['距離は自宅からの目安です。依頼の前に各事業所へ確認してください。', 'Distances from the home are approximate; confirm with each provider before a request.'],
});

/** The roles of the API, in the order the screen lists them. */
export const ROLES = ['physician', 'nurse', 'pharmacy', 'dental', 'backup', 'pcu', 'care_manager'];
const DEFAULT_ROLES = ['physician', 'nurse', 'pharmacy'];
const KEY = 'pallimap.careteam.v1';
const STOCKS = ['always', 'partner', 'order'];
// A contact meant for the night: the labels hospitals and clinics give such numbers.
const NIGHT = /夜間|時間外|休日|当直|24時間|night|after/i;

const $ = (sel, r = document) => r.querySelector(sel);
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

function blankRole(role) {
  return { on: DEFAULT_ROLES.includes(role), after_hours: false, prefer: [], stock: '', include: [], exclude: [] };
}

const st = {
  active: false,
  form: { address: '', near: null, roles: Object.fromEntries(ROLES.map((r) => [r, blankRole(r)])), drugs: [] },
  names: {}, // id → name, for the include/exclude chips
  res: null, // the last answer of POST /care-team
  team: {}, // role → the chosen candidate's id
  open: '', // the role whose candidate list is open
  night: {}, // facility id → its night route (from GET /facilities/{id}), null when none
  publicContacts: {}, // facility id → Set of `kind:value` anyone may see (its anonymous detail)
  picking: false,
  error: '',
  seq: 0,
};

let picker = null;
let drugField = null; // the pharmacy's drug box, one node moved into the pharmacy's options
let hooks = {
  busy: () => {},
  getMap: () => null,
  openDetail: () => {},
  showTab: () => {},
  printHead: (title) => `<h1>${esc(title)}</h1>`,
  printFooter: () => '',
};

// ---------- kept in this tab (sessionStorage), never on the server ----------

function save() {
  try {
    sessionStorage.setItem(KEY, JSON.stringify({ form: { ...st.form, drugs: picker ? picker.drugs() : st.form.drugs }, names: st.names, res: st.res, team: st.team }));
  } catch { /* storage blocked: the team lives as long as the page */ }
}

function load() {
  try {
    const v = JSON.parse(sessionStorage.getItem(KEY) || 'null');
    if (!v || !v.form || !v.form.roles) return;
    for (const r of ROLES) st.form.roles[r] = { ...blankRole(r), ...(v.form.roles[r] || {}) };
    st.form.address = v.form.address || '';
    st.form.near = v.form.near || null;
    st.form.drugs = v.form.drugs || [];
    st.names = v.names || {};
    st.res = v.res || null;
    st.team = v.team || {};
  } catch { /* corrupt: start empty */ }
}

// ---------- the request ----------

/** The body of POST /care-team for what the form holds. */
export function requestBody() {
  const f = st.form;
  const roles = ROLES.filter((r) => f.roles[r].on).map((role) => {
    const o = f.roles[role];
    const out = { role };
    if (o.after_hours) out.after_hours = true;
    if (o.include.length) out.include = o.include.slice();
    if (o.exclude.length) out.exclude = o.exclude.slice();
    if (role === 'physician' && o.prefer.length) out.prefer = o.prefer.slice();
    if (role === 'pharmacy') {
      const drugs = picker ? picker.drugs() : f.drugs;
      // The stock level qualifies the drugs (the API refuses it alone).
      if (drugs.length) out.opioids = drugs.map((d) => d.product);
      if (drugs.length && o.stock) out.stock = o.stock;
    }
    return out;
  });
  const where = f.near ? { near: { lat: f.near.lat, lng: f.near.lng } } : { address: f.address };
  return { ...where, roles, limit: 5 };
}

function readForm() {
  const f = st.form;
  // A point (picked on the map, or the shortlist's home) stands until something is typed.
  if (!f.near) f.address = $('#ct-address').value.trim();
  for (const r of ROLES) {
    const o = f.roles[r];
    const box = $(`#ct-opts [data-role-opts="${r}"]`);
    if (!box) continue;
    o.after_hours = $('[data-opt="after_hours"]', box).checked;
    if (r === 'physician') o.prefer = [...box.querySelectorAll('[data-prefer]:checked')].map((x) => x.dataset.prefer);
    if (r === 'pharmacy') o.stock = $('[data-opt="stock"]', box).value;
  }
}

/** The box a problem's `field` names, if the form has one. */
function fieldOf(p) {
  const field = String((p && p.field) || '');
  if (field === 'address' || field === 'near') return $('#ct-address');
  if (/opioid/.test(field)) return $('input', drugField);
  return null;
}

async function propose() {
  readForm();
  $('#ct-address').removeAttribute('aria-invalid');
  $('input', drugField).removeAttribute('aria-invalid');
  st.error = '';
  const body = requestBody();
  if (!body.near && !body.address) {
    st.error = t('ctNoAddress');
    renderMsg();
    $('#ct-address').setAttribute('aria-invalid', 'true');
    $('#ct-address').focus();
    return;
  }
  if (!body.roles.length) { st.error = t('ctNoRole'); renderMsg(); return; }
  if (!session().signed_in) { st.error = t('ctSignIn'); renderMsg(); return; }
  const seq = ++st.seq;
  hooks.busy(1);
  $('#ct-results').setAttribute('aria-busy', 'true');
  try {
    // The one request that carries the patient's home; nothing else about the patient is sent.
    const r = await request('POST', '/care-team', { body });
    if (seq !== st.seq) return;
    if (r.ok && r.body) {
      st.res = r.body;
      st.team = Object.fromEntries((r.body.roles || []).map((x) => [x.role, x.proposed]).filter(([, id]) => id));
      for (const x of r.body.roles || []) for (const c of x.candidates || []) st.names[c.id] = shownName(c);
      st.open = '';
      save();
      render();
      drawMap(true);
      fetchMemberInfo();
    } else {
      const p = r.body || {};
      st.error = r.status === 401 ? t('ctSignIn') : t('ctFailed', { d: serverText(p.detail) || `HTTP ${r.status}` });
      const el = fieldOf(p);
      if (el) el.setAttribute('aria-invalid', 'true');
      renderMsg();
    }
  } finally {
    $('#ct-results').removeAttribute('aria-busy');
    hooks.busy(-1);
  }
}

// ---------- the team ----------

/** Each role of the answer with its chosen member (or none). */
export function members() {
  if (!st.res) return [];
  return (st.res.roles || []).map((r) => {
    const cands = r.candidates || [];
    const member = cands.find((c) => c.id === st.team[r.role]) || null;
    return { ...r, member };
  });
}

function roleLabel(r) {
  const key = `role_${r.role}`;
  return t(key) !== key ? t(key) : (pick(r.label) || r.label || r.role);
}

/** The name people use (「医療法人…」 dropped), as the lists show it. */
export function shownName(c) {
  return c.everyday_name || c.name;
}

function distanceText(m) {
  return formatDistance(m, st.res && st.res.home ? st.res.home.precision_m : 0);
}

function reachText(c) {
  if (!c.reach_m) return '';
  return t('ctReach', { r: formatDistance(c.reach_m, 0).replace(/^約 /, '') });
}

/**
 * Every contact the caller was given (`pro`), or only the public ones: those the facility shows
 * anyone (its anonymous detail, fetched once), else those marked public, FAX never.
 */
function visibleContacts(c, pro) {
  const pub = st.publicContacts[c.id];
  return (c.contacts || []).filter((x) => pro || (pub ? pub.has(`${x.kind}:${x.value}`)
    : (x.visibility || 'public') === 'public' && x.kind !== 'fax'));
}

function contactHtml(x) {
  const label = x.label ? `（${esc(x.label)}）` : '';
  if (x.kind === 'phone') return `<li data-contact="phone">${esc(t('phone'))}: <a href="${telHref(x.value)}">${esc(x.value)}</a>${label}</li>`;
  if (x.kind === 'email') return `<li data-contact="email">${esc(t('email'))}: <a href="mailto:${esc(x.value)}">${esc(x.value)}</a>${label}</li>`;
  if (x.kind === 'web') return `<li data-contact="web">${esc(t('web'))}: <a href="${esc(x.value)}" target="_blank" rel="noopener">${esc(x.value)}</a>${label}</li>`;
  const kind = t(x.kind) !== x.kind ? t(x.kind) : x.kind;
  return `<li data-contact="${esc(x.kind)}">${esc(kind)}: ${esc(x.value)}${label}</li>`;
}

function candidateHtml(role, c, chosen) {
  return `<li class="ct-cand" data-cand="${esc(c.id)}"${chosen ? ' aria-current="true"' : ''}>
      <p class="ct-cand-head"><strong>${esc(shownName(c))}</strong>${c.excluded ? ` <span class="ct-flag">${esc(t('ctExcluded'))}</span>` : ''} <span class="distance">${esc(distanceText(c.distance_m))}</span>${c.linked ? ` <span class="ct-linked">${esc(t('ctLinked'))}</span>` : ''}</p>
      ${(c.reasons || []).length ? `<ul class="ct-reasons small">${c.reasons.map((x) => `<li>${esc(serverText(x))}</li>`).join('')}</ul>` : ''}
      <div class="item-actions">${chosen ? `<span class="ct-chosen">${esc(t('ctChosen'))}</span>`
        : `<button type="button" class="btn small primary" data-act="choose" data-role="${esc(role)}" data-id="${esc(c.id)}">${esc(t('ctChoose'))}</button>`}</div>
    </li>`;
}

function cardHtml(r) {
  const label = roleLabel(r);
  if (!r.member) {
    const almost = r.almost || [];
    return `<li class="item ct-card ct-none" data-role="${esc(r.role)}">
      <p class="ct-role">${esc(label)}</p>
      <p class="ct-none-text" data-none>${esc(serverText(r.none) || t('ctNoneRole'))}</p>
      ${almost.length ? `<p class="small"><strong>${esc(t('ctAlmost'))}</strong></p><ul class="ct-almost small">${almost.map((a) => `<li data-almost="${esc(a.id)}">${esc(a.name)}${a.distance_m != null ? `（${esc(distanceText(a.distance_m))}）` : ''}${a.why ? ` — ${esc(serverText(a.why))}` : ''}</li>`).join('')}</ul>` : ''}
    </li>`;
  }
  const c = r.member;
  const cands = r.candidates || [];
  const open = st.open === r.role;
  const contacts = visibleContacts(c, true);
  return `<li class="item ct-card" data-role="${esc(r.role)}" data-id="${esc(c.id)}">
    <p class="ct-role">${esc(label)}</p>
    <div class="item-head">
      <h4><button type="button" class="linkish name" data-act="detail" data-id="${esc(c.id)}">${esc(shownName(c))}</button>${c.linked ? `<span class="ct-linked" data-linked>${esc(t('ctLinked'))}</span>` : ''}${c.included ? `<span class="ct-flag" data-included>${esc(t('ctIncluded'))}</span>` : ''}</h4>
      <span class="distance" data-distance-m="${esc(c.distance_m)}">${esc(distanceText(c.distance_m))}</span>
    </div>
    ${c.address ? `<p class="addr">${esc(c.address)}</p>` : ''}
    ${c.reach_m ? `<p class="small ct-reach">${esc(reachText(c))}</p>` : ''}
    ${c.bed ? `<p class="small" data-bed="${esc(c.bed.status)}">${esc(c.bed.age_hours != null ? t('ctBed', { s: pick(c.bed.label), a: ageText(Date.now() - c.bed.age_hours * 3600e3) }) : t('ctBedNoAge', { s: pick(c.bed.label) }))}</p>` : ''}
    ${(c.reasons || []).length ? `<ul class="ct-reasons">${c.reasons.map((x) => `<li>${esc(serverText(x))}</li>`).join('')}</ul>` : ''}
    ${contacts.length ? `<ul class="plain ct-contacts">${contacts.map(contactHtml).join('')}</ul>` : `<p class="muted small" data-no-phone>${esc(t('noPhone'))}</p>`}
    <div class="item-actions">
      ${cands.length > 1 ? `<button type="button" class="btn small" data-act="swap" data-role="${esc(r.role)}" aria-expanded="${open}" aria-controls="ct-cands-${esc(r.role)}">${esc(open ? t('ctSwapClose') : t('ctSwap', { n: cands.length - 1 }))}</button>` : ''}
      <button type="button" class="btn small" data-act="include" data-role="${esc(r.role)}" data-id="${esc(c.id)}">${esc(t('ctPin'))}</button>
      <button type="button" class="btn small" data-act="exclude" data-role="${esc(r.role)}" data-id="${esc(c.id)}">${esc(t('ctExcludeBtn'))}</button>
    </div>
    <ol class="ct-cands" id="ct-cands-${esc(r.role)}"${open ? '' : ' hidden'}>${open ? cands.map((x) => candidateHtml(r.role, x, x.id === c.id)).join('') : ''}</ol>
  </li>`;
}

function renderMsg() {
  const msg = $('#ct-msg');
  msg.hidden = !st.error;
  msg.textContent = st.error;
}

function renderOpts() {
  const f = st.form;
  for (const b of document.querySelectorAll('#ct-role-row .chip')) b.setAttribute('aria-pressed', String(f.roles[b.dataset.role].on));
  drugField.remove();
  $('#ct-opts').innerHTML = ROLES.filter((r) => f.roles[r].on).map((r) => {
    const o = f.roles[r];
    const pins = [
      ...o.include.map((id) => ({ id, list: 'include', text: t('ctInclude', { n: st.names[id] || id }) })),
      ...o.exclude.map((id) => ({ id, list: 'exclude', text: t('ctExclude', { n: st.names[id] || id }) })),
    ];
    const check = (attr, on, text) => `<label class="check"><input type="checkbox" ${attr}${on ? ' checked' : ''}> ${esc(text)}</label>`;
    return `<fieldset class="ct-role-opts" data-role-opts="${r}">
      <legend>${esc(t(`role_${r}`))}</legend>
      ${r === 'physician' ? check('data-prefer="enhanced"', o.prefer.includes('enhanced'), t('ctPreferEnhanced')) + check('data-prefer="reinforced"', o.prefer.includes('reinforced'), t('ctPreferReinforced')) : ''}
      ${r === 'pharmacy' ? `<label class="ct-stock">${esc(t('ctStockLabel'))} <select data-opt="stock"><option value="">${esc(t('ctStockAny'))}</option>${STOCKS.map((s) => `<option value="${s}"${o.stock === s ? ' selected' : ''}>${esc(t(`ctStock_${s}`))}</option>`).join('')}</select></label>` : ''}
      ${check('data-opt="after_hours"', o.after_hours, t('ctAfterHours'))}
      ${pins.length ? `<ul class="dc-chips">${pins.map((p) => `<li class="dc-chip" data-${p.list}="${esc(p.id)}"><span>${esc(p.text)}</span><button type="button" class="dc-chip-x" data-unpin="${esc(p.id)}" data-list="${p.list}" data-role="${r}" aria-label="${esc(t('ctUnpin', { n: st.names[p.id] || p.id }))}">×</button></li>`).join('')}</ul>` : ''}
    </fieldset>`;
  }).join('');
  // The drug box belongs to the pharmacy: moved into its options (kept across redraws).
  const ph = $('#ct-opts [data-role-opts="pharmacy"] legend');
  if (ph) ph.after(drugField);
  drugField.hidden = !ph;
  const box = $('#ct-address');
  if (document.activeElement !== box) box.value = f.near ? (f.near.label || '') : f.address;
  $('#ct-point').textContent = f.near && !f.near.label ? t('ctPoint', { p: `${f.near.lat.toFixed(5)}, ${f.near.lng.toFixed(5)}` }) : '';
  $('#ct-picking').hidden = !st.picking;
}

function render() {
  if (!$('#ct-team')) return;
  renderMsg();
  renderOpts();
  const res = st.res;
  $('#ct-results').hidden = !res;
  $('#ct-privacy').textContent = res && res.privacy ? serverText(res.privacy) : t('ctPrivacyBefore');
  if (!res) { $('#ct-team').innerHTML = ''; return; }
  const h = res.home || {};
  const where = st.form.near ? (st.form.near.label || `${(+h.lat).toFixed(5)}, ${(+h.lng).toFixed(5)}`) : (h.normalized || st.form.address);
  $('#ct-origin').textContent = t('ctFrom', { a: where });
  // The ranking is a paragraph of its own: folded under its heading.
  $('#ct-notes').innerHTML = `${res.distance_note ? `<span>${esc(serverText(res.distance_note))}</span>` : ''}
    ${res.ranking ? `<details class="ct-ranking"><summary>${esc(t('ctRanking'))}</summary><p>${esc(serverText(res.ranking))}</p></details>` : ''}`;
  // Keep the keyboard on the card it was on across a swap.
  const a = document.activeElement;
  const card = a && a.closest && a.closest('#ct-team [data-role]');
  const keep = card ? { role: card.dataset.role, act: a.dataset.act } : null;
  $('#ct-team').innerHTML = members().map(cardHtml).join('');
  if (keep) {
    const el = $(`#ct-team [data-role="${keep.role}"] ${keep.act === 'choose' ? '[data-act="swap"]' : keep.act ? `[data-act="${keep.act}"]` : 'button'}`);
    if (el) el.focus();
  }
  const any = members().some((m) => m.member);
  $('#ct-print-btn').disabled = !any;
  $('#ct-vcard-btn').disabled = !any;
}

/** The members on the map: each with its service-area circle, the home with them. */
function drawMap(frame) {
  const map = hooks.getMap();
  if (!map || !st.active || !st.res || !st.res.home) return;
  const points = members().filter((m) => m.member && m.member.location).map((m) => ({
    id: m.member.id,
    kind: m.member.kind,
    name: shownName(m.member),
    location: m.member.location,
    status: 'team',
    badge: roleLabel(m),
    reach_m: m.member.reach_m,
  }));
  map.showBackup(points, st.res.home, { frame });
}

function choose(role, id) {
  st.team[role] = id;
  st.open = '';
  save();
  render();
  drawMap(false);
  fetchMemberInfo();
}

// ---------- the night route of the backup hospital (for the sheet) ----------

const minutes = (hm) => { const [h, m] = String(hm || '0:0').split(':').map(Number); return h * 60 + (m || 0); };

/** Whether periods (`[{days, from, to}]`) cover a weekday at 22:00; none at all: always open. */
function coversNight(periods) {
  if (!periods || !periods.length) return true;
  const at = 22 * 60;
  return periods.some((p) => (p.days || []).includes('wed') && (minutes(p.from) < minutes(p.to)
    ? minutes(p.from) <= at && at < minutes(p.to)
    : at >= minutes(p.from) || at < minutes(p.to)));
}

/** The request route of a backup service valid at 22:00 on a weekday, if its rules name one. */
function nightRoute(f) {
  for (const s of f.services || []) {
    if (!['backup_hospital', 'emergency_admission', 'pcu'].includes(s.kind) || !s.admission_rules) continue;
    const rules = s.admission_rules;
    const r = (rules.routes || []).find((x) => coversNight((x.hours || []).length ? x.hours : rules.hours));
    if (r) return { ...r, visibility: rules.visibility || 'public' };
  }
  return null;
}

/**
 * What the sheet needs beyond the answer, fetched once per member (no patient data in it): the
 * contacts anyone may see, from the facility as the public gets it, and a backup's night route.
 */
async function fetchMemberInfo() {
  const list = members().filter((m) => m.member).map((m) => ({ id: m.member.id, role: m.role }));
  await Promise.all(list.map(async ({ id, role }) => {
    const path = `/facilities/${encodeURIComponent(id)}`;
    const asks = [];
    if (!(id in st.publicContacts)) {
      asks.push(request('GET', path, { credentials: 'omit' }).then((r) => {
        st.publicContacts[id] = r.ok && r.body ? new Set((r.body.contacts || []).map((x) => `${x.kind}:${x.value}`)) : null;
      }));
    }
    if (['backup', 'pcu'].includes(role) && !(id in st.night)) {
      asks.push(request('GET', path).then((r) => { st.night[id] = r.ok && r.body ? nightRoute(r.body) : null; }));
    }
    await Promise.all(asks);
  }));
}

// ---------- print ----------

function nightLines(pro) {
  const lines = [];
  for (const m of members()) {
    const c = m.member;
    if (!c) continue;
    const phone = visibleContacts(c, pro).find((x) => x.kind === 'phone');
    if (['backup', 'pcu'].includes(m.role)) {
      const r = st.night[c.id];
      const n = shownName(c);
      if (r && (pro || r.visibility === 'public')) lines.push(t('ctNightRoute', { n, r: routeText(r) }));
      else if (r) lines.push(phone ? t('ctNightHidden', { n, p: phone.value }) : t('ctNightHiddenNoPhone', { n }));
      else lines.push(phone ? t('ctNightNone', { n, p: phone.value }) : t('ctNightNoPhone', { n }));
      continue;
    }
    for (const x of visibleContacts(c, pro).filter((y) => y.label && NIGHT.test(y.label))) {
      lines.push(t('ctNightContact', { n: `${roleLabel(m)} ${shownName(c)}`, r: routeText(x) }));
    }
  }
  return lines;
}

export function renderPrintTeam() {
  if (!st.res) return;
  const pro = $('#ct-pro-print').checked;
  const rows = members().map((m) => {
    const c = m.member;
    if (!c) {
      return `<tr data-role="${esc(m.role)}"><td>${esc(roleLabel(m))}</td><td colspan="${pro ? 4 : 3}" data-none>${esc(serverText(m.none) || t('ctNoneRole'))}</td><td class="memo"></td></tr>`;
    }
    const contacts = visibleContacts(c, pro).map((x) => `${esc(t(x.kind) !== x.kind ? t(x.kind) : x.kind)} ${esc(x.value)}${x.label ? `（${esc(x.label)}）` : ''}`);
    return `<tr data-role="${esc(m.role)}" data-id="${esc(c.id)}">
      <td>${esc(roleLabel(m))}</td>
      <td><strong>${esc(shownName(c))}</strong>${c.linked ? `<br><span class="small">${esc(t('ctLinked'))}</span>` : ''}</td>
      <td class="num" data-col="distance">${esc(distanceText(c.distance_m))}</td>
      <td class="small" data-col="contacts">${contacts.join('<br>') || esc(t('noPhone'))}</td>
      ${pro ? `<td class="small" data-col="pro">${(c.reasons || []).map((x) => esc(serverText(x))).join('<br>') || '—'}</td>` : ''}
      <td class="memo"></td>
    </tr>`;
  }).join('');
  const night = nightLines(pro);
  const h = st.res.home || {};
  const where = st.form.near ? (st.form.near.label || `${(+h.lat).toFixed(5)}, ${(+h.lng).toFixed(5)}`) : (h.normalized || st.form.address);
  $('#print-area').innerHTML = `<section class="print-careteam${pro ? ' with-pro' : ''}">
    ${hooks.printHead(t('ctPrintTitle'), `<p>${esc(t('ctFrom', { a: where }))}</p>`)}
    <table class="print-table">
      <colgroup>${(pro ? [22, 46, 18, 46, 36, 16] : [24, 58, 20, 62, 20]).map((mm) => `<col data-width-mm="${mm}">`).join('')}</colgroup>
      <thead><tr><th>${esc(t('colRole'))}</th><th>${esc(t('colName'))}</th><th>${esc(t('colDistance'))}</th><th>${esc(t('colContacts'))}</th>${pro ? `<th>${esc(t('colProfessional'))}</th>` : ''}<th>${esc(t('colNotes'))}</th></tr></thead>
      <tbody>${rows}</tbody>
    </table>
    <h2 class="ct-night-h">${esc(t('ctNight'))}</h2>
    <ul class="ct-night" data-night>${night.map((l) => `<li>${esc(l)}</li>`).join('') || '<li>—</li>'}</ul>
    <p class="print-foot">${esc(t('ctPrintFoot'))}${st.res.distance_note ? ` ${esc(serverText(st.res.distance_note))}` : ''}</p>
    ${hooks.printFooter()}
  </section>`;
  applyDataStyles($('#print-area'));
  document.body.dataset.print = 'careteam';
}

async function printTeam() {
  hooks.busy(1);
  try { await fetchMemberInfo(); } finally { hooks.busy(-1); }
  renderPrintTeam();
  window.print();
}

/** Whether the screen is shown with a team (Ctrl+P prints the sheet then). */
export function careTeamActive() { return st.active && !!st.res; }

// ---------- vCard (RFC 6350 layout, version 3.0 for the address books phones use) ----------

function vEscape(s) {
  return String(s ?? '').replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/([,;])/g, '\\$1');
}

/** Fold a content line at 75 octets, never inside a character. */
function vFold(line) {
  const enc = new TextEncoder();
  const out = [];
  let cur = '';
  let bytes = 0;
  for (const ch of line) {
    const n = enc.encode(ch).length;
    if (bytes + n > (out.length ? 74 : 75)) { out.push(cur); cur = ''; bytes = 0; }
    cur += ch;
    bytes += n;
  }
  out.push(cur);
  return out.join('\r\n ');
}

/** One VCARD per member: the provider as an organisation, its role, the contacts it may share. */
export function vcards(pro) {
  return members().filter((m) => m.member).map((m) => {
    const c = m.member;
    const lines = ['BEGIN:VCARD', 'VERSION:3.0', `FN:${vEscape(shownName(c))}`, `ORG:${vEscape(c.name)}`, `TITLE:${vEscape(roleLabel(m))}`];
    if (c.address) lines.push(`ADR;TYPE=WORK:;;${vEscape(c.address)};;;;JP`);
    for (const x of visibleContacts(c, pro)) {
      const type = x.label ? `;X-LABEL=${vEscape(x.label).replace(/[:"]/g, '')}` : '';
      if (x.kind === 'phone') lines.push(`TEL;TYPE=WORK,VOICE${type}:${vEscape(x.value)}`);
      else if (x.kind === 'fax') lines.push(`TEL;TYPE=WORK,FAX${type}:${vEscape(x.value)}`);
      else if (x.kind === 'email') lines.push(`EMAIL;TYPE=INTERNET:${vEscape(x.value)}`);
      else if (x.kind === 'web') lines.push(`URL:${x.value}`);
    }
    if (c.location) lines.push(`GEO:${c.location.lat};${c.location.lng}`);
    lines.push(`NOTE:${vEscape(`${roleLabel(m)} (pallimap ${c.id})`)}`, 'END:VCARD');
    return lines.map(vFold).join('\r\n');
  }).join('\r\n') + '\r\n';
}

function downloadVcards() {
  const blob = new Blob([vcards($('#ct-pro-print').checked)], { type: 'text/vcard;charset=utf-8' });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = 'care-team.vcf';
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

// ---------- from the shortlist ----------

/** The role a shortlisted facility can take in the team (by its kind and services). */
export function roleOf(item) {
  const svc = (item.services || []).map((s) => s.kind);
  if (item.kind === 'pharmacy') return 'pharmacy';
  if (item.kind === 'visiting_nurse_station') return 'nurse';
  if (item.kind === 'dental_clinic') return 'dental';
  if (item.kind === 'clinic') return 'physician';
  if (item.kind === 'hospital') return svc.includes('pcu') && !svc.includes('backup_hospital') ? 'pcu' : 'backup';
  return '';
}

/**
 * Start a team from the shortlist: its providers as `include` of their roles, its home as the
 * point (or the address box, when it has none), then ask at once when the home is known.
 */
export function teamFromShortlist(d) {
  for (const r of ROLES) st.form.roles[r] = { ...st.form.roles[r], include: [], exclude: [] };
  for (const i of d.items || []) {
    const role = roleOf(i);
    if (!role) continue;
    const o = st.form.roles[role];
    o.on = true;
    if (!o.include.includes(i.id)) o.include.push(i.id);
    st.names[i.id] = i.name;
  }
  if (d.home) {
    st.form.near = { lat: d.home.lat, lng: d.home.lng, label: d.home.label || '' };
    st.form.address = '';
  }
  st.res = null;
  st.team = {};
  save();
  hooks.showTab('careteam');
  render();
  if (st.form.near) return propose();
  $('#ct-address').focus();
  return Promise.resolve();
}

// ---------- screen ----------

export function setCareTeamActive(on) {
  const was = st.active;
  st.active = on;
  document.body.classList.toggle('tab-careteam', on);
  if (on && !was) { render(); drawMap(true); } else if (!on && was) {
    st.picking = false;
    const map = hooks.getMap();
    if (map) map.hideBackup();
  }
}

function clear() {
  st.seq++;
  st.form = { address: '', near: null, roles: Object.fromEntries(ROLES.map((r) => [r, blankRole(r)])), drugs: [] };
  st.res = null;
  st.team = {};
  st.open = '';
  st.error = '';
  st.names = {};
  if (picker) picker.clear();
  try { sessionStorage.removeItem(KEY); } catch { /* ignore */ }
  const box = $('#ct-address');
  if (box) box.value = '';
  const map = hooks.getMap();
  if (map && st.active) { map.hideBackup(); map.setHome(null); }
  render();
}

function pickOnMap() {
  const map = hooks.getMap();
  if (!map) return;
  st.picking = true;
  renderOpts();
  map.map.once('click', (ev) => {
    st.picking = false;
    st.form.near = { lat: +ev.latlng.lat.toFixed(6), lng: +ev.latlng.lng.toFixed(6), label: '' };
    st.form.address = '';
    $('#ct-address').value = '';
    map.setHome(st.form.near);
    renderOpts();
  });
}

export function initCareTeam(h) {
  hooks = { ...hooks, ...h };
  load();
  $('#ct-role-row').innerHTML = ROLES.map((r) => `<button type="button" class="chip" data-role="${r}" aria-pressed="false">${esc(t(`role_${r}`))}</button>`).join('');
  drugField = $('#ct-drug-field');
  picker = createDrugPicker({
    field: drugField, prefix: 'ct',
    onChange: (d) => { st.form.drugs = d; },
  });
  picker.set(st.form.drugs);
  $('#ct-role-row').addEventListener('click', (ev) => {
    const b = ev.target.closest('[data-role]');
    if (!b) return;
    readForm();
    const o = st.form.roles[b.dataset.role];
    o.on = !o.on;
    renderOpts();
    $(`#ct-role-row [data-role="${b.dataset.role}"]`).focus();
  });
  $('#ct-opts').addEventListener('click', (ev) => {
    const b = ev.target.closest('[data-unpin]');
    if (!b) return;
    readForm();
    const o = st.form.roles[b.dataset.role];
    o[b.dataset.list] = o[b.dataset.list].filter((id) => id !== b.dataset.unpin);
    save();
    renderOpts();
  });
  $('#ct-address').addEventListener('input', () => { if (st.form.near) { st.form.near = null; $('#ct-point').textContent = ''; } });
  $('#ct-form').addEventListener('submit', (ev) => { ev.preventDefault(); propose(); });
  $('#ct-pick').addEventListener('click', pickOnMap);
  $('#ct-team').addEventListener('click', (ev) => {
    const b = ev.target.closest('button[data-act]');
    if (!b) return;
    const role = b.dataset.role;
    if (b.dataset.act === 'detail') hooks.openDetail(b.dataset.id, 'list');
    else if (b.dataset.act === 'swap') { st.open = st.open === role ? '' : role; render(); }
    else if (b.dataset.act === 'choose') choose(role, b.dataset.id);
    else if (b.dataset.act === 'include' || b.dataset.act === 'exclude') {
      // Asked again with this provider kept in (or left out of) its role.
      readForm();
      const o = st.form.roles[role];
      const other = b.dataset.act === 'include' ? 'exclude' : 'include';
      o[other] = o[other].filter((id) => id !== b.dataset.id);
      if (!o[b.dataset.act].includes(b.dataset.id)) o[b.dataset.act].push(b.dataset.id);
      propose();
    }
  });
  $('#ct-print-btn').addEventListener('click', printTeam);
  $('#ct-vcard-btn').addEventListener('click', downloadVcards);
  $('#ct-clear').addEventListener('click', clear);
  onSessionChange((s) => { if (!s.signed_in) clear(); });
  onLangChange(() => {
    for (const b of document.querySelectorAll('#ct-role-row .chip')) b.textContent = t(`role_${b.dataset.role}`);
    picker.render();
    render();
    drawMap(false);
  });
  render();
}


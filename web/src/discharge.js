// 「退院調整」: the discharge nurse's screen. Pharmacies near the patient that stock (or can get)
// the strong opioids the patient goes home with, ranked by the server, and the dental clinics
// that visit that address; anything found can go on the shortlist for the printed sheet.

import './discharge.css';
import { t, addStrings, formatDistance, onLangChange } from './i18n.js';
import { request, session, serverText, onSessionChange } from './account.js';
import { toQuery } from './api.js';
import { sampleTag, telHref } from './capacity.js';
import { createDrugPicker } from './drugpicker.js';

addStrings({
  dischargeTab: ['退院調整', 'Discharge'],
  dischargeHeading: ['退院調整', 'Discharge planning'],
  dischargeIntro: ['患者さんの住所の近くで、必要な医療用麻薬を扱う薬局と、自宅に訪問できる歯科診療所を探します。', 'Pharmacies near the patient\u2019s home that stock the opioids to be prescribed, and dental clinics that visit that address.'],
  dcAddressLabel: ['患者さんの住所', 'Patient\u2019s address'],
  dcStockAlways: ['在庫あり のみ', 'In stock only'],
  dcAfterHours: ['時間外対応', 'After-hours service'],
  dcSearch: ['探す', 'Search'],
  dcNoAddress: ['患者さんの住所を入力してください（例: 川越市脇田町）。', 'Enter the patient\u2019s address (e.g. 川越市脇田町).'],
  dcNoDrug: ['薬局を探すには、在庫が必要な薬を1つ以上選んでください。', 'Choose at least one drug to find pharmacies.'],
  dcGeocodeFailed: ['住所「{a}」の場所を特定できませんでした: {d}', 'Could not place “{a}”: {d}'],
  dcFailed: ['検索できませんでした: {d}', 'The search failed: {d}'],
  dcSignIn: ['この画面はログインした医療・介護専門職のみ使えます。', 'This screen is for signed-in professionals only.'],
  dcFrom: ['起点: {a}', 'From: {a}'],
  dcPharmacies: ['薬局', 'Pharmacies'],
  dcMark_always: ['在庫あり', 'In stock'],
  dcMark_partner: ['譲受', 'Partner'],
  dcMark_order: ['取り寄せ', 'On order'],
  dcMarkDental: ['訪問歯科', 'Dental visits'],
  dcPharmacyCount: ['{n} 件', '{n} pharmacies'],
  dcPharmacyNone: ['条件に合う薬局はありません。「在庫あり のみ」や「時間外対応」を外すと増えることがあります。', 'No pharmacy matches; unticking “In stock only” or “After-hours service” may find more.'],
  dc_avail_always: ['すべて在庫あり', 'Everything in stock'],
  dc_avail_partner: ['一部はグループ内の薬局から譲受', 'Some through a partner pharmacy'],
  dc_avail_order: ['取り寄せが必要', 'Needs ordering'],
  dcStockAlways1: ['在庫あり', 'in stock'],
  dcStockPartner: ['{p}から譲受（約{h}時間）', 'from {p} (about {h} h)'],
  dcStockPartnerNoHours: ['{p}から譲受', 'from {p}'],
  dcStockOrder: ['取り寄せ（{n}日）', 'on order ({n} days)'],
  dcStockOrderUnknown: ['取り寄せ（日数不明）', 'on order (days unknown)'],
  dcHomeVisits: ['訪問対応', 'Home visits'],
  dcAfterHoursYes: ['時間外対応', 'After hours'],
  dcDental: ['この住所に訪問できる歯科診療所', 'Dental clinics that visit this address'],
  dcDentalCount: ['{n} 件', '{n} clinics'],
  dcDentalNone: ['この住所に訪問できる歯科診療所は見つかりませんでした。', 'No dental clinic visits this address.'],
  dcSampleNote: ['「サンプル」の在庫・訪問・時間外対応は説明用の架空のデータです。実際の調整には使えません。', 'Stock, visits and after-hours service marked “Sample” are made up for demonstration; do not use them for a real discharge.'],
});

const AVAILABILITY = ['always', 'partner', 'order'];
const $ = (sel, r = document) => r.querySelector(sel);
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

const st = {
  active: false,
  origin: null, // { lat, lng, address }
  pharmacies: null, // the list body
  dental: null,
  error: '',
  pharmacyError: '',
  seq: 0,
};

let hooks = {
  busy: () => {},
  getMap: () => null,
  pin: () => {}, // (facility, home) → the shortlist
  isPinned: () => false,
  openDetail: () => {},
};

let picker = null; // the drug type-ahead (drugpicker.js)

// ---------- the answers ----------

function stockText(line) {
  if (line.stock === 'always') return t('dcStockAlways1');
  if (line.stock === 'partner') {
    const p = line.partner || {};
    return p.transfer_hours != null ? t('dcStockPartner', { p: p.name || '', h: p.transfer_hours }) : t('dcStockPartnerNoHours', { p: p.name || '' });
  }
  return line.order_days != null ? t('dcStockOrder', { n: line.order_days }) : t('dcStockOrderUnknown');
}

/** 「フェンタニル 貼付剤（1日用） 1mg: 在庫あり」, one per asked product (the print uses it too). */
export function stockLines(it) {
  return (it.opioid_stock || []).map((l) => ({
    stock: l.stock,
    text: `${l.label_ja}${l.strength ? ` ${l.strength}` : ''}: ${stockText(l)}`,
  }));
}

const visits = (it) => (it.services || []).some((s) => s.kind === 'home_medication_management' && s.status !== 'inactive');

function phonesHtml(it) {
  const phones = (it.contacts || []).filter((c) => c.kind === 'phone');
  if (!phones.length) return '';
  return `<p class="tel">${esc(t('phone'))}: ${phones.map((p) => `<a href="${telHref(p.value)}">${esc(p.value)}</a>${p.label ? `（${esc(p.label)}）` : ''}`).join('、')}</p>`;
}

function pinButton(id) {
  const on = hooks.isPinned(id);
  return `<button type="button" class="btn small" data-act="pin" aria-pressed="${on}">${esc(on ? t('unpin') : t('pin'))}</button>`;
}

function distanceHtml(it) {
  return it.distance_m != null ? `<span class="distance">${esc(formatDistance(it.distance_m, it.distance_precision_m))}</span>` : '';
}

function pharmacyHtml(it) {
  const lines = stockLines(it);
  const flags = [];
  if (visits(it)) flags.push(`<span class="dc-flag" data-flag="home_visits">${esc(t('dcHomeVisits'))}</span>`);
  if (it.after_hours === true) flags.push(`<span class="dc-flag" data-flag="after_hours">${esc(t('dcAfterHoursYes'))}</span>`);
  return `<li class="item dc-item" data-id="${esc(it.id)}" data-availability="${esc(it.availability || '')}">
    <div class="item-head">
      <h4><button type="button" class="linkish name" data-act="detail">${esc(it.everyday_name || it.name)}</button>${sampleTag(it.sample)}</h4>
      ${distanceHtml(it)}
    </div>
    <p class="addr">${esc((it.address && it.address.text) || '')}</p>
    <ul class="dc-stock">${lines.map((l) => `<li data-stock="${esc(l.stock)}">${esc(l.text)}</li>`).join('')}</ul>
    ${flags.length ? `<p class="dc-flags">${flags.join('')}</p>` : ''}
    ${phonesHtml(it)}
    <div class="item-actions">${pinButton(it.id)}</div>
  </li>`;
}

function dentalHtml(it) {
  const svc = (it.services || []).find((s) => s.kind === 'home_visit_dental');
  const tier = svc && svc.dental_tier ? (svc.dental_tier_label || svc.dental_tier) : '';
  return `<li class="item dc-item" data-id="${esc(it.id)}">
    <div class="item-head">
      <h4><button type="button" class="linkish name" data-act="detail">${esc(it.everyday_name || it.name)}</button>${sampleTag(it.sample)}</h4>
      ${distanceHtml(it)}
    </div>
    <p class="addr">${esc((it.address && it.address.text) || '')}</p>
    ${tier ? `<p class="dc-flags"><span class="dc-flag" data-dental-tier="${esc(svc.dental_tier)}">${esc(tier)}</span></p>` : ''}
    ${phonesHtml(it)}
    <div class="item-actions">${pinButton(it.id)}</div>
  </li>`;
}

function render() {
  const msg = $('#dc-msg');
  if (!msg) return;
  msg.hidden = !st.error;
  msg.textContent = st.error;
  $('#dc-origin').textContent = st.origin ? t('dcFrom', { a: st.origin.address }) : '';

  const ph = $('#dc-pharmacies');
  const pmsg = $('#dc-pharmacy-msg');
  pmsg.hidden = !st.pharmacyError;
  pmsg.textContent = st.pharmacyError;
  const items = (st.pharmacies && st.pharmacies.items) || [];
  $('#dc-pharmacy-count').textContent = st.pharmacies ? (items.length ? t('dcPharmacyCount', { n: items.length }) : t('dcPharmacyNone')) : '';
  // Under a heading per availability, in the server's order within each.
  ph.innerHTML = AVAILABILITY.map((a) => {
    const group = items.filter((it) => it.availability === a);
    if (!group.length) return '';
    return `<section class="dc-group" data-availability="${a}" aria-labelledby="dc-h-${a}">
        <h4 id="dc-h-${a}" class="dc-group-h">${esc(t(`dc_avail_${a}`))}（${group.length}）</h4>
        <ol class="result-list">${group.map(pharmacyHtml).join('')}</ol>
      </section>`;
  }).join('');

  const dl = $('#dc-dental-list');
  const dents = (st.dental && st.dental.items) || [];
  $('#dc-dental-count').textContent = st.dental ? (dents.length ? t('dcDentalCount', { n: dents.length }) : t('dcDentalNone')) : '';
  dl.innerHTML = dents.map(dentalHtml).join('');
  $('#dc-results').hidden = !st.origin;
  $('#dc-sample-note').hidden = !items.concat(dents).some((it) => it.sample);
}

function problemText(r) {
  const p = r.body || {};
  return serverText(p.detail) || `HTTP ${r.status}`;
}

async function search() {
  const box = $('#dc-address');
  box.removeAttribute('aria-invalid');
  const address = box.value.trim();
  st.error = '';
  st.pharmacyError = '';
  if (!address) {
    st.error = t('dcNoAddress');
    render();
    box.setAttribute('aria-invalid', 'true');
    box.focus();
    return;
  }
  if (!session().signed_in) { st.error = t('dcSignIn'); render(); return; }
  const seq = ++st.seq;
  hooks.busy(1);
  $('#dc-results').setAttribute('aria-busy', 'true');
  try {
    let origin = st.origin && st.origin.address === address ? st.origin : null;
    if (!origin) {
      const g = await request('GET', `/geocode${toQuery({ address })}`);
      if (seq !== st.seq) return;
      if (!g.ok || !g.body) {
        st.origin = null;
        st.pharmacies = null;
        st.dental = null;
        st.error = t('dcGeocodeFailed', { a: address, d: problemText(g) });
        box.setAttribute('aria-invalid', 'true');
        render();
        return;
      }
      origin = { lat: g.body.lat, lng: g.body.lng, address };
    }
    st.origin = origin;
    const at = `${+origin.lat.toFixed(6)},${+origin.lng.toFixed(6)}`;
    const products = picker.drugs().map((d) => d.product);
    const pq = {
      kind: 'pharmacy', near: at, opioid: products, limit: 20,
      stock: $('#dc-stock-always').checked ? 'always' : undefined,
      after_hours: $('#dc-after-hours').checked ? 'true' : undefined,
    };
    const dq = { kind: 'dental_clinic', service: 'home_visit_dental', reaches: at, sort: 'distance', limit: 10 };
    const [pr, dr] = await Promise.all([
      products.length ? request('GET', `/facilities${toQuery(pq)}`) : Promise.resolve(null),
      request('GET', `/facilities${toQuery(dq)}`),
    ]);
    if (seq !== st.seq) return;
    if (!pr) {
      st.pharmacies = null;
      st.pharmacyError = t('dcNoDrug');
    } else if (pr.ok) {
      st.pharmacies = pr.body;
    } else {
      st.pharmacies = null;
      st.pharmacyError = pr.status === 401 ? t('dcSignIn') : t('dcFailed', { d: problemText(pr) });
    }
    if (dr.ok) st.dental = dr.body;
    else {
      st.dental = null;
      st.error = t('dcFailed', { d: problemText(dr) });
    }
    render();
    drawMap(true);
  } finally {
    $('#dc-results').removeAttribute('aria-busy');
    hooks.busy(-1);
  }
}

/** Short words for a marker: how a pharmacy has the drugs, or that a dentist visits. */
function markerBadge(it) {
  if (it.kind !== 'pharmacy') return t('dcMarkDental');
  return t(`dcMark_${it.availability}`);
}

/**
 * The results on the map, drawn as the backup screen draws its hospitals (status colour, a
 * badge): in stock green, through a partner amber, on order grey; the patient's home with them.
 */
function drawMap(frame) {
  const map = hooks.getMap();
  if (!map || !st.active || !st.origin) return;
  const status = { always: 'accepting', partner: 'limited' };
  const items = ((st.pharmacies && st.pharmacies.items) || []).concat((st.dental && st.dental.items) || []);
  const points = items.filter((it) => it.location).map((it) => ({
    id: it.id,
    kind: it.kind,
    name: it.everyday_name || it.name,
    location: it.location,
    status: (it.kind === 'pharmacy' && status[it.availability]) || 'unknown',
    badge: markerBadge(it),
  }));
  map.showBackup(points, st.origin, { frame });
}

/** The screen became visible or hidden (its tab). */
export function setDischargeActive(on) {
  const was = st.active;
  st.active = on;
  document.body.classList.toggle('tab-discharge', on);
  if (on && !was) drawMap(true);
  else if (!on && was) {
    const map = hooks.getMap();
    if (map) map.hideBackup();
  }
}

/** Search again with what is on the form (after the data changed elsewhere). */
export function refreshDischarge() {
  if (st.origin) return search();
  return Promise.resolve();
}

function clear() {
  st.seq++;
  picker.clear();
  st.origin = null;
  st.pharmacies = null;
  st.dental = null;
  st.error = '';
  st.pharmacyError = '';
  const box = $('#dc-address');
  if (box) box.value = '';
  render();
}

/** The facility object behind a list row (pinning keeps what the list showed). */
function itemById(id) {
  const all = ((st.pharmacies && st.pharmacies.items) || []).concat((st.dental && st.dental.items) || []);
  return all.find((x) => x.id === id) || null;
}

export function initDischarge(h) {
  hooks = { ...hooks, ...h };
  picker = createDrugPicker({
    field: $('#dc-drug-field'), prefix: 'dc',
  });
  $('#dc-form').addEventListener('submit', (ev) => { ev.preventDefault(); search(); });
  for (const id of ['#dc-stock-always', '#dc-after-hours']) $(id).addEventListener('change', () => { if (st.origin) search(); });
  $('#dc-results').addEventListener('click', (ev) => {
    const b = ev.target.closest('button[data-act]');
    if (!b) return;
    const li = b.closest('[data-id]');
    if (!li) return;
    if (b.dataset.act === 'detail') hooks.openDetail(li.dataset.id, 'list');
    else if (b.dataset.act === 'pin') {
      const f = itemById(li.dataset.id);
      if (f) hooks.pin(f, st.origin ? { lat: st.origin.lat, lng: st.origin.lng, label: st.origin.address } : null);
    }
  });
  onSessionChange((s) => { if (!s.signed_in) clear(); });
  onLangChange(() => { picker.render(); render(); drawMap(false); });
  render();
}

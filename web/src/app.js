// pallimap front end: search form, results list, map, detail panel,
// discharge shortlist and print views. State lives in the URL.

import './app.css';
import { getJson, getConfig, toQuery, onApiHealth, ApiError, ApiDown } from './api.js';
import {
  t, pick, initLang, getLang, setLang, onLangChange, applyStatic, formatDistance,
  SHORT_LABELS, MAIN_CHIPS, KIND_LETTER, addStrings,
} from './i18n.js';
import { stateFromUrl, stateToUrl, apiFilters, emptyState } from './state.js';
import { createMap } from './map.js';
import * as SL from './shortlist.js';
import { applyDataStyles } from './styles.js';
import { initAccount, onSessionChange, session } from './account.js';
import { initEditing, decorateDetail } from './edit.js';
import { initBackup, setActive as setBackupActive, renderPrintBackup, backupActive, refreshBackup } from './backup.js';
import { initBedTools, bedsHtml } from './bedtools.js';
import { initReview, setReviewActive, startReview, mayReview } from './review.js';
import { initDischarge, setDischargeActive, stockLines, refreshDischarge } from './discharge.js';
import { setOpioidVocabulary } from './drugpicker.js';
import { initCareTeam, setCareTeamActive, careTeamActive, renderPrintTeam, teamFromShortlist } from './careteam.js';
import { statusBadge } from './capacity.js';
import { initCoverage, setActive as setCoverageActive } from './coverage.js';
import { correctionHtml, initCorrections } from './correction.js';
import { initDesk, setDeskActive, mayUseDesk } from './desk.js';
import { initCalendar, setCalendarActive } from './calendar.js';
import { consultationsHtml, gatheringHtml, groupNextLine } from './people.js';

const $ = (sel, root = document) => root.querySelector(sel);
const PAGE = 50;

const app = {
  state: emptyState(),
  vocab: { kinds: [], services: [] },
  areas: [],
  items: [], // the facilities listed so far
  byId: new Map(), // every facility object seen (list + detail)
  total: 0,
  next: null,
  facets: null,
  map: null,
  busy: 0,
  seq: 0,
  lastSearchMs: null,
  apiUp: true,
  geocodeNote: '',
  tab: 'results',
  formatDistance, // the e2e tests check its table of cases in the page itself
};
window.__pallimap = app;

// ---------- small helpers ----------

function esc(s) {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

function busy(delta) {
  app.busy = Math.max(0, app.busy + delta);
  document.body.dataset.busy = String(app.busy);
}

function kindLabel(code, fallback) {
  const k = app.vocab.kinds.find((x) => x.code === code);
  return pick((k && k.label) || fallback || SHORT_LABELS.kind[code]) || code;
}

function chipLabel(group, code) {
  const short = SHORT_LABELS[group][code];
  if (short) return pick(short);
  const list = group === 'kind' ? app.vocab.kinds : app.vocab.services;
  const v = list.find((x) => x.code === code);
  return v ? pick(v.label) : code;
}

function serviceLabel(s) {
  return pick(s.label) || chipLabel('service', s.kind);
}

function kindLetter(kind) {
  return pick(KIND_LETTER[kind] || KIND_LETTER.other);
}

function kindClass(kind) {
  return `pm-k-${KIND_LETTER[kind] ? kind : 'other'}`;
}

function telHref(v) {
  return `tel:${String(v).replace(/[^0-9+]/g, '')}`;
}

function provenance(f) {
  if (SL.isSynthetic(f)) return 'synthetic';
  if (f.sample || (f.services || []).some((s) => s.sample)) return 'sample';
  return '';
}

function provenanceBadge(kind) {
  if (kind === 'synthetic') return `<span class="badge warn">${esc(t('syntheticBadge'))}</span>`;
  if (kind === 'sample') return `<span class="badge warn">${esc(t('sampleBadge'))}</span>`;
  return '';
}

/** A facility's distance from the search point, as honest as its placement allows. */
function distanceText(f) {
  return formatDistance(f.distance_m, f.distance_precision_m);
}

/** Phone cell of a printed row: the numbers, or a plain statement that there are none. */
function printTel(phones, faxes) {
  const lines = phones.length ? phones.map((p) => `${esc(t('phone'))} ${esc(p)}`) : [`<span data-no-phone>${esc(t('noPhone'))}</span>`];
  return lines.concat(faxes.map((p) => `${esc(t('fax'))} ${esc(p)}`)).join('<br>');
}

function postal(p) {
  return String(p).replace(/^(\d{3})(\d{4})$/, '$1-$2');
}

function today() {
  const d = new Date();
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

// ---------- banner (API down) ----------

function setApiUp(up) {
  app.apiUp = up;
  const b = $('#banner');
  b.hidden = up;
  if (!up) $('#banner-text').textContent = t('apiDown');
  document.body.classList.toggle('api-down', !up);
}

// ---------- form <-> state ----------

function fillForm() {
  const s = app.state;
  $('#q').value = s.q;
  $('#address').value = s.address;
  $('#area').value = s.area;
  if ($('#area').value !== s.area) {
    // Unknown area code (areas not loaded yet): keep it selectable.
    const o = document.createElement('option');
    o.value = s.area;
    o.textContent = s.area;
    $('#area').append(o);
    $('#area').value = s.area;
  }
  $('#sort').value = s.sort;
  $('#radius').value = s.radius_km;
  $('#reaches').checked = s.reaches;
  $('#bbox-mode').checked = !!s.bbox;
  document.body.classList.toggle('has-near', !!s.near);
  renderChips();
  setView(s.view || 'list', false);
}

function renderChips() {
  const s = app.state;
  const chip = (group, code) => {
    const on = (group === 'kind' ? s.kind : s.service).includes(code);
    const letter = group === 'kind' ? `<span class="chip-letter ${kindClass(code)}" aria-hidden="true">${esc(kindLetter(code))}</span>` : '';
    return `<button type="button" class="chip" data-group="${group}" data-code="${esc(code)}" aria-pressed="${on}">${letter}${esc(chipLabel(group, code))}</button>`;
  };
  $('#main-chip-row').innerHTML = MAIN_CHIPS.map(([g, c]) => chip(g, c)).join('');
  const kinds = app.vocab.kinds.length ? app.vocab.kinds.map((k) => k.code) : Object.keys(KIND_LETTER);
  const services = app.vocab.services.map((x) => x.code);
  $('#kind-chip-row').innerHTML = kinds.map((c) => chip('kind', c)).join('');
  $('#service-chip-row').innerHTML = services.map((c) => chip('service', c)).join('');
}

function renderAreas() {
  const sel = $('#area');
  const cur = app.state.area;
  sel.innerHTML = `<option value="">${esc(t('areaAll'))}</option>` + app.areas
    .map((a) => `<option value="${esc(a.code)}">${esc(a.name)}（${esc(a.code)}）</option>`)
    .join('');
  sel.value = cur;
}

// ---------- URL ----------

function writeUrl(push) {
  const url = stateToUrl(app.state);
  const cur = location.search || location.pathname;
  if (url === cur) return;
  if (push) history.pushState(null, '', url);
  else history.replaceState(null, '', url);
}

// ---------- search ----------

function listQuery(extra = {}) {
  const f = apiFilters(app.state);
  if (app.state.bbox) f.bbox = app.state.bbox.join(',');
  return toQuery({ ...f, ...extra });
}

function frameFor() {
  const s = app.state;
  if (s.bbox) return 'keep';
  if (s.near) return 'home';
  return 'results';
}

/** Run the current state's search: list and map together. */
async function runSearch({ frame = frameFor(), mapToo = true } = {}) {
  const seq = ++app.seq;
  const t0 = performance.now();
  busy(1);
  $('#search-error').hidden = true;
  $('#count').textContent = t('loading');
  $('#result-list').setAttribute('aria-busy', 'true');
  app.map && app.map.setHome(app.state.near);
  app.map && app.map.setSelectedArea(app.state.area);

  const listP = getJson(`/facilities${listQuery({ limit: PAGE, facets: 'kind' })}`);
  let mapP = Promise.resolve();
  const filters = apiFilters(app.state);
  if (mapToo && app.map && frame !== 'home') mapP = app.map.setFilters(filters, frame);

  try {
    const res = await listP;
    if (seq !== app.seq) return;
    app.items = res.items || [];
    app.total = res.total || 0;
    app.next = res.next || null;
    app.facets = res.facets || null;
    app.match = res.match || null;
    app.dropped = res.dropped || [];
    for (const f of app.items) app.byId.set(f.id, f);
    renderList();
    if (mapToo && app.map && frame === 'home') {
      mapP = app.map.setFilters(filters, { home: app.state.near, items: app.items });
    }
  } catch (e) {
    if (seq !== app.seq) return;
    showSearchError(e);
  } finally {
    $('#result-list').removeAttribute('aria-busy');
  }
  try { await mapP; } catch { /* map reports its own errors */ }
  busy(-1);
  if (seq === app.seq) {
    app.lastSearchMs = performance.now() - t0;
    document.body.dataset.lastSearchMs = app.lastSearchMs.toFixed(1);
  }
}

function showSearchError(e) {
  app.items = [];
  app.total = 0;
  app.match = null;
  app.next = null;
  renderList();
  const el = $('#search-error');
  if (e instanceof ApiDown) {
    el.hidden = true;
    $('#count').textContent = '';
    return;
  }
  el.hidden = false;
  el.textContent = t('apiError', { d: (e instanceof ApiError && e.problem.detail) || e.message });
}

async function loadMore() {
  if (!app.next) return;
  busy(1);
  try {
    const res = await getJson(`/facilities${listQuery({ limit: PAGE, cursor: app.next })}`);
    const start = app.items.length;
    app.items = app.items.concat(res.items || []);
    app.next = res.next || null;
    for (const f of res.items || []) app.byId.set(f.id, f);
    renderList();
    const first = $('#result-list').children[start];
    if (first) $('button.name', first).focus();
  } catch (e) {
    showSearchError(e);
  } finally {
    busy(-1);
  }
}

// ---------- results list ----------

function itemHtml(f, { pinned }) {
  const prov = provenance(f);
  const phones = (f.contacts || []).filter((c) => c.kind === 'phone');
  const svcs = (f.services || []).filter((s) => s.status !== 'inactive').map(serviceLabel);
  const dist = f.distance_m != null
    ? `<span class="distance" data-distance-m="${f.distance_m}"${f.distance_precision_m != null ? ` data-precision-m="${f.distance_precision_m}"` : ''}>${esc(distanceText(f))}</span>`
    : '';
  const selected = f.id === app.state.id ? ' selected' : '';
  return `<li class="item${selected}" data-id="${esc(f.id)}">
    <article aria-labelledby="r-${esc(f.id)}">
      <div class="item-head">
        <span class="kind-badge ${kindClass(f.kind)}" aria-hidden="true">${esc(kindLetter(f.kind))}</span>
        <h3 id="r-${esc(f.id)}"><button type="button" class="linkish name" data-act="detail">${esc(f.everyday_name || f.name)}</button>${f.match === 'relaxed' ? `<span class="near-badge">${esc(t('nearMatch'))}</span>` : ''}</h3>
        ${dist}
      </div>
      ${f.everyday_name && f.everyday_name !== f.name ? `<p class="official"><span class="visually-hidden">${esc(t('officialName'))}: </span>${esc(f.name)}</p>` : ''}
      <p class="meta"><span class="kind-text">${esc(pick(f.kind_label) || kindLabel(f.kind))}</span>${f.area && f.area.name ? ` ・ ${esc(f.area.name)}` : ''} ${provenanceBadge(prov)}</p>
      ${f.kind === 'patient_group' && groupNextLine(f) ? `<p class="next-line" data-next-date="${esc(f.next_date || '')}">${esc(groupNextLine(f))}</p>` : ''}
      <p class="addr">${esc((f.address && f.address.text) || '')}${f.location ? '' : ` <span class="badge">${esc(t('noLocation'))}</span>`}</p>
      ${phones.length ? `<p class="tel">${esc(t('phone'))}: ${phones.map((p) => `<a href="${telHref(p.value)}">${esc(p.value)}</a>`).join('、')}</p>` : ''}
      ${svcs.length ? `<p class="svc">${svcs.map((s) => `<span class="svc-tag">${esc(s)}</span>`).join('')}</p>` : ''}
      ${capacityLine(f)}
      <div class="item-actions">
        <button type="button" class="btn small" data-act="detail">${esc(t('details'))}</button>
        <button type="button" class="btn small pin" data-act="pin" aria-pressed="${pinned}">${esc(pinned ? t('unpin') : t('pin'))}</button>
      </div>
    </article>
  </li>`;
}

/** Signed-in callers get each bed status with its age (the public's answers carry none). */
function capacityLine(f) {
  const caps = (f.services || []).filter((s) => s.capacity);
  if (!caps.length) return '';
  return `<p class="cap-line">${caps.map((s) => `<span class="cap-of" data-service="${esc(s.kind)}">${esc(serviceLabel(s))} ${statusBadge(s.capacity)}</span>`).join(' ')}</p>`;
}

function renderList() {
  const list = $('#result-list');
  list.innerHTML = app.items.map((f) => itemHtml(f, { pinned: SL.isPinned(f.id) })).join('');
  const n = app.total;
  const count = $('#count');
  count.dataset.total = String(n);
  if (n === 0) count.textContent = t('noResults');
  else if (app.items.length < n) count.textContent = `${t('count', { n })}（${t('countShown', { n, m: app.items.length })}）`;
  else count.textContent = t('count', { n });
  $('#more-btn').hidden = !app.next;
  const note = $('#relaxed-note');
  note.hidden = app.match !== 'relaxed' || n === 0;
  note.textContent = note.hidden ? ''
    : t('relaxedNote') + (app.dropped && app.dropped.length ? t('relaxedDropped', { w: app.dropped.join('、') }) : '');
  // Breakdown by kind (text, so it doesn't depend on colour).
  const kf = app.facets && app.facets.kind;
  if (kf && n > 0) {
    const parts = Object.entries(kf).filter(([, c]) => c > 0).sort((a, b) => b[1] - a[1])
      .map(([k, c]) => `${kindLabel(k)} ${c}`);
    $('#summary').textContent = t('summaryKinds', { s: parts.join('・') });
  } else {
    $('#summary').textContent = app.geocodeNote || '';
  }
  if (app.geocodeNote && kf && n > 0) $('#summary').textContent += ` ${app.geocodeNote}`;
  $('#sample-note').hidden = !app.items.some((f) => provenance(f));
}

// ---------- detail panel ----------

async function openDetail(id, from) {
  if (!id) return closeDetail();
  app.state.id = id;
  writeUrl(false);
  for (const li of document.querySelectorAll('#result-list .item')) li.classList.toggle('selected', li.dataset.id === id);
  let f = app.byId.get(id);
  const panel = $('#detail');
  panel.hidden = false;
  document.body.classList.add('detail-open');
  if (!f || !f.contacts) {
    panel.innerHTML = `<p>${esc(t('loading'))}</p>`;
    try {
      f = await getJson(`/facilities/${encodeURIComponent(id)}`);
      app.byId.set(id, f);
    } catch (e) {
      panel.innerHTML = `<p class="msg">${esc(t('apiError', { d: e.message }))}</p><button type="button" class="btn" data-act="close">${esc(t('close'))}</button>`;
      return;
    }
    if (app.state.id !== id) return;
  }
  renderDetail(f);
  app.map && app.map.select(id, { pan: from === 'list', location: f.location });
  if (from === 'map') {
    const li = document.querySelector(`#result-list .item[data-id="${CSS.escape(id)}"]`);
    if (li) li.scrollIntoView({ block: 'nearest' });
  }
  if (from) $('#detail-name').focus();
}

function closeDetail() {
  const had = app.state.id;
  app.state.id = '';
  $('#detail').hidden = true;
  document.body.classList.remove('detail-open');
  app.map && app.map.select('');
  writeUrl(false);
  if (had) {
    const list = { backup: '#backup-list', review: '#review-list', desk: '#desk' }[app.tab] || '#result-list';
    const btn = document.querySelector(`${list} [data-id="${CSS.escape(had)}"] button.name`);
    if (btn) btn.focus();
  }
}

function dateOr(d, key) {
  return d ? esc(d) : `<span class="muted">${esc(t(key))}</span>`;
}

function sourceText(src) {
  if (!src) return '';
  const names = {
    'mhlw-navii-hospitals': ['医療情報ネット（病院）', 'Medical information network (hospitals)'],
    'mhlw-navii-clinics': ['医療情報ネット（診療所）', 'Medical information network (clinics)'],
    'kouseikyoku-todokede': ['関東信越厚生局 施設基準の届出', 'Kanto-Shinetsu Regional Bureau notifications'],
  };
  const n = names[src.source] ? pick(names[src.source]) : src.source;
  const origin = src.origin === 'synthetic' ? ` [${t('syntheticBadge')}]` : src.origin === 'sample' ? ` [${t('sampleBadge')}]` : '';
  return `${n || ''}${src.snapshot ? `（${src.snapshot}）` : ''}${origin}`;
}

function renderDetail(f) {
  const prov = provenance(f);
  const pinned = SL.isPinned(f.id);
  const contacts = (f.contacts || []).map((c) => {
    const label = c.label ? `（${esc(c.label)}）` : '';
    const li = `<li data-contact="${esc(`${c.kind}:${c.value}`)}">`; // edit.js tags professional-only ones
    if (c.kind === 'phone') return `${li}${esc(t('phone'))}: <a href="${telHref(c.value)}">${esc(c.value)}</a>${label}</li>`;
    if (c.kind === 'fax') return `${li}${esc(t('fax'))}: ${esc(c.value)}${label}</li>`;
    if (c.kind === 'email') return `${li}${esc(t('email'))}: <a href="mailto:${esc(c.value)}">${esc(c.value)}</a>${label}</li>`;
    if (c.kind === 'web') return `${li}${esc(t('web'))}: <a href="${esc(c.value)}" target="_blank" rel="noopener">${esc(c.value)}</a>${label}</li>`;
    return `${li}${esc(c.kind)}: ${esc(c.value)}${label}</li>`;
  });
  // Say so when there is no number rather than leave a blank (pharmacies have no public source).
  if (!(f.contacts || []).some((c) => c.kind === 'phone')) contacts.unshift(`<li class="muted" data-no-phone>${esc(t('noPhone'))}</li>`);
  if (f.url && !(f.contacts || []).some((c) => c.kind === 'web' && c.value === f.url)) {
    contacts.push(`<li>${esc(t('website'))}: <a href="${esc(f.url)}" target="_blank" rel="noopener">${esc(f.url)}</a></li>`);
  }
  const services = (f.services || []).map((s) => {
    const bits = [];
    if (s.tier_label) bits.push(esc(pick(s.tier_label) || s.tier_label));
    if (s.since) bits.push(esc(t('since', { d: s.since })));
    if (s.radius_km) bits.push(esc(t('radius', { r: s.radius_km })));
    if (s.notes) bits.push(esc(s.notes));
    const sp = s.sample ? ` <span class="badge warn">${esc(t('sampleBadge'))}</span>` : '';
    const src = s.source ? `<div class="muted small">${esc(t('source'))}: ${esc(sourceText(s.source))} ・ ${esc(t('updatedAt'))}: ${dateOr(s.updated_at, 'notVerified')} ・ ${esc(t('verifiedAt'))}: ${dateOr(s.verified_at, 'notVerified')}</div>` : '';
    const inactive = s.status && s.status !== 'active' ? esc(t('statusInactive')) : '';
    return `<li><strong>${esc(serviceLabel(s))}</strong>${inactive}${sp}${bits.length ? `<div>${bits.join(' ・ ')}</div>` : ''}${src}</li>`;
  });
  const h = f.hours || {};
  const closed = (h.closed_weekdays || []).map((d) => t(`weekday_${d}`)).join('・');
  const loc = f.location;
  const mapLinks = loc ? `<p class="maplinks">${esc(t('openInMaps'))}:
      <a href="https://www.google.com/maps/search/?api=1&amp;query=${loc.lat},${loc.lng}" target="_blank" rel="noopener" data-link="google">${esc(t('googleMaps'))}</a>
      ・ <a href="geo:${loc.lat},${loc.lng}?q=${loc.lat},${loc.lng}(${encodeURIComponent(f.name)})" data-link="geo">${esc(t('geoLink'))}</a></p>`
    : `<p class="muted">${esc(t('noLocation'))}</p>`;
  const a = f.address || {};
  $('#detail').innerHTML = `
    <div class="detail-head">
      <span class="kind-badge ${kindClass(f.kind)}" aria-hidden="true">${esc(kindLetter(f.kind))}</span>
      <h2 id="detail-name" tabindex="-1">${esc(f.name)}</h2>
      <button type="button" class="btn small close" data-act="close" aria-label="${esc(t('close'))}">×</button>
    </div>
    ${f.name_kana ? `<p class="kana">${esc(f.name_kana)}</p>` : ''}
    <p class="meta">${esc(pick(f.kind_label) || kindLabel(f.kind))}${f.area && f.area.name ? ` ・ ${esc(t('areaLabel'))}: ${esc(f.area.name)}` : ''} ${provenanceBadge(prov)}</p>
    ${prov ? `<p class="note">${esc(t('sampleNote'))}</p>` : ''}
    ${f.distance_m != null ? `<p data-field="distance"><strong>${esc(t('distance'))}:</strong> ${esc(distanceText(f))}（${esc(t('distanceFrom'))}）</p>` : ''}
    <div class="item-actions"><button type="button" class="btn small pin" data-act="pin" aria-pressed="${pinned}">${esc(pinned ? t('unpin') : t('pin'))}</button></div>
    ${gatheringHtml(f)}
    ${consultationsHtml(f)}
    <h3>${esc(t('address'))}</h3>
    <p>${a.postal_code ? `〒${esc(postal(a.postal_code))} ` : ''}${esc(a.text || '')}</p>
    ${mapLinks}
    <h3>${esc(t('contacts'))}</h3>
    <ul class="plain" data-field="contacts">${contacts.join('')}</ul>
    <h3>${esc(t('hours'))}</h3>
    <p>${closed ? esc(t('closedDays', { d: closed })) : '—'}${h.note ? `<br>${esc(h.note)}` : ''}</p>
    <h3>${esc(t('services'))}</h3>
    <ul class="services">${services.join('') || '<li>—</li>'}</ul>
    ${bedsHtml(f)}
    ${f.notes ? `<h3>${esc(t('notes'))}</h3><p>${esc(f.notes)}</p>` : ''}
    ${specialistsHtml(f)}
    <h3>${esc(t('source'))}</h3>
    <dl class="dates">
      <dt>${esc(t('source'))}</dt><dd>${esc(sourceText(f.source))}</dd>
      <dt>${esc(t('sourceSnapshot'))}</dt><dd data-field="source_snapshot">${dateOr(f.source_snapshot, 'unknownDate')}</dd>
      <dt>${esc(t('updatedAt'))}</dt><dd data-field="updated_at">${dateOr(f.updated_at, 'notVerified')}</dd>
      <dt>${esc(t('lastVerified'))}</dt><dd data-field="verified_at">${dateOr(f.verified_at, 'notVerified')}</dd>
    </dl>
    ${correctionHtml(f)}`;
  decorateDetail(f);
}

/** 専門職の人数（資格ごと）and the names published, with their source and date. */
const SPECIALIST_LABELS = {
  palliative_physician: ['緩和医療専門医', 'Palliative medicine specialists'],
  palliative_certified_physician: ['緩和医療認定医', 'Palliative medicine certified physicians'],
  palliative_care_nurse: ['緩和ケア・がん性疼痛看護認定看護師', 'Certified palliative care nurses'],
  oncology_nurse_specialist: ['がん看護専門看護師', 'Oncology nurse specialists'],
  palliative_pharmacist: ['緩和薬物療法認定薬剤師', 'Palliative pharmacotherapy pharmacists'],
  home_care_physician: ['在宅医療専門医', 'Home medical care specialists'],
};
addStrings({
  specialistsHeading: ['専門職', 'Specialists'],
  specialistsSource: ['出典: {s}（{d} 時点）', 'Source: {s} (as of {d})'],
  specialistCount: ['{n} 人', '{n}'],
});
function specialistsHtml(f) {
  const sp = f.specialists;
  if (!sp || !(sp.counts || []).some((c) => c.count > 0)) return '';
  const label = (r) => (SPECIALIST_LABELS[r] || [r, r])[getLang() === 'en' ? 1 : 0];
  const rows = (sp.counts || []).filter((c) => c.count > 0).map((c) => {
    const names = (sp.named || []).filter((n) => n.role === c.role).map((n) => esc(n.name)).join('、');
    return `<li>${esc(label(c.role))}: ${esc(t('specialistCount', { n: c.count }))}${names ? `（${names}）` : ''}</li>`;
  });
  return `<h3>${esc(t('specialistsHeading'))}</h3><ul class="plain" data-field="specialists">${rows.join('')}</ul>
    <p class="muted small">${esc(t('specialistsSource', { s: sp.source, d: sp.as_of }))}</p>`;
}

// ---------- shortlist ----------

function currentHome() {
  const s = app.state;
  return s.near ? { lat: s.near.lat, lng: s.near.lng, label: s.address || `${s.near.lat},${s.near.lng}` } : null;
}

function togglePin(id) {
  if (SL.isPinned(id)) SL.unpin(id);
  else {
    const f = app.byId.get(id);
    if (f) SL.pin(f, currentHome());
  }
}

function renderShortlist() {
  const d = SL.shortlist();
  $('#tab-shortlist').textContent = t('shortlistTab', { n: d.items.length });
  $('#shortlist-home').textContent = d.home ? t('shortlistHome', { a: d.home.label }) : t('shortlistNoHome');
  const cur = currentHome();
  $('#shortlist-other').hidden = !(cur && d.home && d.items.length && (Math.abs(cur.lat - d.home.lat) > 1e-6 || Math.abs(cur.lng - d.home.lng) > 1e-6));
  $('#shortlist-empty').hidden = d.items.length > 0;
  $('#shortlist-clear').hidden = d.items.length === 0;
  $('#shortlist-to-team').hidden = d.items.length === 0 || !session().signed_in;
  $('#print-shortlist-btn').disabled = d.items.length === 0;
  $('#shortlist-list').innerHTML = d.items.map((i) => {
    const dist = SL.distanceOf(i);
    return `<li class="item" data-id="${esc(i.id)}">
      <div class="item-head">
        <span class="kind-badge ${kindClass(i.kind)}" aria-hidden="true">${esc(kindLetter(i.kind))}</span>
        <h3><button type="button" class="linkish name" data-act="detail">${esc(i.name)}</button></h3>
        ${dist != null ? `<span class="distance">${esc(formatDistance(dist, i.distance_precision_m))}</span>` : ''}
      </div>
      <p class="meta">${esc(pick(i.kind_label) || kindLabel(i.kind))} ${provenanceBadge(i.synthetic ? 'synthetic' : i.sample ? 'sample' : '')}</p>
      <p class="addr">${esc(i.address || '')}</p>
      ${i.phones.length ? `<p class="tel">${esc(t('phone'))}: ${i.phones.map((p) => `<a href="${telHref(p)}">${esc(p)}</a>`).join('、')}</p>` : ''}
      <div class="item-actions"><button type="button" class="btn small" data-act="unpin">${esc(t('unpin'))}</button></div>
    </li>`;
  }).join('');
  // Keep pin buttons in the list/detail in step.
  for (const b of document.querySelectorAll('[data-act="pin"]')) {
    const id = b.closest('[data-id]') ? b.closest('[data-id]').dataset.id : app.state.id;
    const on = SL.isPinned(id);
    b.setAttribute('aria-pressed', String(on));
    b.textContent = on ? t('unpin') : t('pin');
  }
}

const TABS = ['results', 'shortlist', 'backup', 'discharge', 'careteam', 'review', 'coverage', 'calendar', 'desk'];

function showTab(which) {
  if (!TABS.includes(which) || $(`#tab-${which}`).hidden) which = 'results';
  for (const k of TABS) {
    $(`#${k}`).hidden = k !== which;
    $(`#tab-${k}`).setAttribute('aria-pressed', String(k === which));
  }
  const was = app.tab;
  app.tab = which;
  // The screen left first: 今夜の入院先, 退院調整 and 在宅チーム編成 share the map's result layer,
  // so the one shown draws on it after the other gave it back.
  const screens = {
    backup: setBackupActive, review: setReviewActive, discharge: setDischargeActive, careteam: setCareTeamActive,
    coverage: setCoverageActive, calendar: setCalendarActive, desk: setDeskActive,
  };
  for (const [k, set] of Object.entries(screens)) if (k !== which) set(false);
  if (screens[which]) screens[which](true);
  // Back from either screen to the search: its own home marker again.
  const own = ['backup', 'discharge', 'careteam'];
  if (own.includes(was) && !own.includes(which) && app.map) app.map.setHome(app.state.near);
  // 研修・会議 widens the side column: the map is told its new size.
  if ((was === 'calendar') !== (which === 'calendar') && app.map) setTimeout(() => app.map.invalidate(), 0);
}

/**
 * The tabs a session may see: 今夜の入院先, 退院調整 and 在宅チーム編成 for anyone signed in,
 * the queue for reviewers.
 */
function applySessionTabs() {
  $('#tab-backup').hidden = !session().signed_in;
  $('#tab-discharge').hidden = !session().signed_in;
  $('#tab-careteam').hidden = !session().signed_in;
  $('#shortlist-to-team').hidden = !session().signed_in || !SL.shortlist().items.length;
  $('#shortlist-pro-row').hidden = !session().signed_in;
  if (!session().signed_in) $('#shortlist-pro-print').checked = false;
  $('#tab-review').hidden = !mayReview();
  $('#tab-desk').hidden = !mayUseDesk();
  $('#pro-view').hidden = session().signed_in;
  if ($(`#tab-${app.tab}`).hidden) showTab('results');
}

// ---------- print ----------

function servicesText(list) {
  return (list || []).map((s) => serviceLabel(s)).join('、');
}

function conditionsText() {
  const s = app.state;
  const parts = [];
  if (s.q) parts.push(`「${s.q}」`);
  for (const k of s.kind) parts.push(chipLabel('kind', k));
  for (const c of s.service) parts.push(chipLabel('service', c));
  if (s.area) {
    const a = app.areas.find((x) => x.code === s.area);
    parts.push(`${t('areaLabel')}: ${a ? a.name : s.area}`);
  }
  if (s.address) parts.push(`${t('addressLabel')}: ${s.address}`);
  if (s.radius_km && s.near) parts.push(`${t('radiusLabel')} ${s.radius_km} km`);
  return parts.join(' / ') || '—';
}

function printHead(title, extra = '') {
  return `<header class="print-head"><h1>${esc(title)}</h1><p>${esc(t('title'))} ・ ${esc(t('printDate', { d: today() }))}</p>${extra}</header>`;
}

function printFooter() {
  return `<footer class="print-foot"><p>${esc(t('printFooter'))}</p></footer>`;
}

/** The public contacts of a pinned item (older pins kept phones and faxes only). */
function pinnedContacts(i) {
  if (Array.isArray(i.contacts)) return i.contacts;
  return i.phones.map((value) => ({ kind: 'phone', value, visibility: 'public' }))
    .concat(i.faxes.map((value) => ({ kind: 'fax', value, visibility: 'professional' })));
}

/** Professional fields of a pinned item: FAX, the other non-public contacts, the drug stock. */
function printPro(i) {
  const lines = pinnedContacts(i).filter((c) => c.visibility !== 'public' || c.kind === 'fax')
    .map((c) => `${esc(t(c.kind) !== c.kind ? t(c.kind) : c.kind)} ${esc(c.value)}${c.label ? `（${esc(c.label)}）` : ''}`);
  for (const l of stockLines(i)) lines.push(`<span data-stock-line>${esc(l.text)}</span>`);
  if (i.after_hours === true) lines.push(esc(t('dcAfterHoursYes')));
  return lines.join('<br>') || '—';
}

function renderPrintShortlist() {
  const d = SL.shortlist();
  // Professional fields only when asked for (the sheet is the patient's by default).
  const pro = session().signed_in && $('#shortlist-pro-print').checked;
  const rows = d.items.map((i, n) => {
    const dist = SL.distanceOf(i);
    const pub = pinnedContacts(i).filter((c) => c.visibility === 'public');
    const tel = printTel(pub.filter((c) => c.kind === 'phone').map((c) => c.value), []);
    return `<tr>
      <td>${n + 1}</td>
      <td><strong>${esc(i.name)}</strong><br><span class="small">${esc(kindLetter(i.kind))} ${esc(pick(i.kind_label) || kindLabel(i.kind))}</span>${i.synthetic ? `<br><em>${esc(t('syntheticBadge'))}</em>` : i.sample ? `<br><em>${esc(t('sampleBadge'))}</em>` : ''}</td>
      <td class="small" data-col="services">${esc(servicesText(i.services))}</td>
      <td class="small" data-col="address">${i.postal_code ? `〒${esc(postal(i.postal_code))} ` : ''}${esc(i.address || '')}${i.url ? `<br><span class="url">${esc(i.url)}</span>` : ''}</td>
      <td class="num" data-col="distance">${dist != null ? esc(formatDistance(dist, i.distance_precision_m)) : '—'}</td>
      <td class="small" data-col="phone">${tel}</td>
      ${pro ? `<td class="small" data-col="pro">${printPro(i)}</td>` : ''}
      <td class="memo"></td>
    </tr>`;
  }).join('');
  const home = d.home ? `<p>${esc(t('shortlistHome', { a: d.home.label }))}</p>` : '';
  $('#print-area').innerHTML = `<section class="print-shortlist${pro ? ' with-pro' : ''}">
    ${printHead(t('printShortlistTitle'), home)}
    <table class="print-table">
      <colgroup>${(pro ? [7, 32, 22, 33, 16, 23, 40, 11] : [7, 40, 30, 44, 18, 27, 18]).map((mm) => `<col data-width-mm="${mm}">`).join('')}</colgroup>
      <thead><tr><th>${esc(t('colNo'))}</th><th>${esc(t('colName'))}</th><th>${esc(t('colServices'))}</th><th>${esc(t('colAddress'))}</th><th>${esc(t('colDistance'))}</th><th>${esc(t('colPhoneOnly'))}</th>${pro ? `<th>${esc(t('colProfessional'))}</th>` : ''}<th>${esc(t('colNotes'))}</th></tr></thead>
      <tbody>${rows}</tbody>
    </table>
    ${d.items.some((i) => i.sample || i.synthetic) ? `<p class="note">${esc(t('sampleNote'))}</p>` : ''}
    ${printFooter()}
  </section>`;
  applyDataStyles($('#print-area'));
}

function renderPrintList(items, total) {
  const rows = items.map((f, n) => {
    const c = f.contacts || [];
    const tel = printTel(c.filter((x) => x.kind === 'phone').map((x) => x.value), c.filter((x) => x.kind === 'fax').map((x) => x.value));
    const prov = provenance(f);
    return `<tr>
      <td>${n + 1}</td>
      <td><strong>${esc(f.everyday_name || f.name)}</strong>${prov ? `<br><em>${esc(t(prov === 'synthetic' ? 'syntheticBadge' : 'sampleBadge'))}</em>` : ''}</td>
      <td class="small">${esc(kindLetter(f.kind))} ${esc(pick(f.kind_label) || kindLabel(f.kind))}</td>
      <td class="small">${esc(servicesText((f.services || []).filter((s) => s.status !== 'inactive')))}</td>
      <td class="small">${esc((f.address && f.address.text) || '')}</td>
      ${app.state.near ? `<td class="num" data-col="distance">${f.distance_m != null ? esc(distanceText(f)) : '—'}</td>` : ''}
      <td class="small" data-col="phone">${tel}</td>
      <td class="small">${esc(f.updated_at || '')}</td>
    </tr>`;
  }).join('');
  const trunc = items.length < total ? ` ${t('printTruncated', { m: items.length, n: total })}` : '';
  $('#print-area').innerHTML = `<section class="print-list">
    ${printHead(t('printListTitle'), `<p>${esc(t('printConditions', { c: conditionsText() }))} ・ ${esc(t('count', { n: total }))}${esc(trunc)}</p>`)}
    <table class="print-table">
      <thead><tr><th>${esc(t('colNo'))}</th><th>${esc(t('colName'))}</th><th>${esc(t('colKind'))}</th><th>${esc(t('colServices'))}</th><th>${esc(t('colAddress'))}</th>${app.state.near ? `<th>${esc(t('colDistance'))}</th>` : ''}<th>${esc(t('colPhone'))}</th><th>${esc(t('colUpdated'))}</th></tr></thead>
      <tbody>${rows}</tbody>
    </table>
    ${items.some((f) => provenance(f)) ? `<p class="note">${esc(t('sampleNote'))}</p>` : ''}
    ${printFooter()}
  </section>`;
}

const PRINT_MAX = 500;

async function printList() {
  // Fetch the rest of the list (up to PRINT_MAX) so the table is complete.
  busy(1);
  try {
    let items = app.items.slice();
    let next = app.next;
    while (next && items.length < PRINT_MAX) {
      const res = await getJson(`/facilities${listQuery({ limit: 100, cursor: next })}`);
      items = items.concat(res.items || []);
      next = res.next || null;
    }
    renderPrintList(items.slice(0, PRINT_MAX), app.total);
  } catch {
    renderPrintList(app.items, app.total);
  } finally {
    busy(-1);
  }
  document.body.dataset.print = 'list';
  window.print();
}

function printShortlist() {
  renderPrintShortlist();
  document.body.dataset.print = 'shortlist';
  window.print();
}

/** Search for one name (an entry just imported) and show it in the list, on the map and in detail. */
async function findByName(name, id) {
  const keepView = app.state.view;
  app.state = emptyState();
  app.state.view = keepView;
  app.state.q = name || '';
  app.geocodeNote = '';
  fillForm();
  showTab('results');
  writeUrl(true);
  await runSearch();
  if (id) await openDetail(id, 'list');
}

// ---------- mobile list/map toggle ----------

function setView(v, write = true) {
  const map = v === 'map';
  document.body.classList.toggle('view-map', map);
  $('#show-list').setAttribute('aria-pressed', String(!map));
  $('#show-map').setAttribute('aria-pressed', String(map));
  if (app.state.view !== (map ? 'map' : '')) {
    app.state.view = map ? 'map' : '';
    if (write) writeUrl(false);
  }
  if (map && app.map) {
    busy(1);
    setTimeout(() => { app.map.invalidate().finally(() => busy(-1)); }, 0);
  }
}

// ---------- submit (with geocoding) ----------

function showAddressMessage(html) {
  const el = $('#address-msg');
  el.hidden = !html;
  el.innerHTML = html || '';
  $('#address').setAttribute('aria-invalid', html ? 'true' : 'false');
}

function levelNote(g) {
  // The API names levels like facility placements (`town`, `city`); older names kept.
  const key = { city: 'levelMunicipality', municipality: 'levelMunicipality', prefecture: 'levelPrefecture' }[g.level];
  if (!key) return '';
  return t('geocodeLevel', { a: g.normalized || '', l: t(key) });
}

/**
 * Geocode a typed address into the state (home point, level note), or show why not.
 * Shared by the address box and by links that name an address without a point.
 */
async function placeAddress(address, { focus = true } = {}) {
  const s = app.state;
  busy(1);
  try {
    const g = await getJson(`/geocode${toQuery({ address })}`);
    s.address = address;
    s.near = { lat: g.lat, lng: g.lng };
    app.geocodeNote = levelNote(g);
    return true;
  } catch (e) {
    if (e instanceof ApiError) {
      const p = e.problem || {};
      showAddressMessage(`<p><strong>${esc(t('geocodeFailed', { a: address }))}</strong></p>
        <p>${esc(t('geocodeAdvice'))}</p>
        ${p.normalized ? `<p>${esc(t('geocodeNormalized', { a: p.normalized }))}</p>` : ''}
        ${p.detail ? `<p class="small">${esc(p.detail)}</p>` : ''}`);
      if (focus) $('#address').focus();
    }
    return false;
  } finally {
    busy(-1);
  }
}

/**
 * A link naming an address but no point (/?address=春日部市): place it as the
 * address box would, so the link shows the view it names. The point joins the URL.
 */
async function placeLinkedAddress() {
  const s = app.state;
  if (!s.address || s.near) return;
  if (await placeAddress(s.address, { focus: false })) {
    document.body.classList.add('has-near');
    writeUrl(false);
  }
}

async function onSubmit(ev) {
  ev && ev.preventDefault();
  const s = app.state;
  const address = $('#address').value.trim();
  s.q = $('#q').value.trim();
  s.area = $('#area').value;
  s.sort = $('#sort').value;
  s.radius_km = $('#radius').value;
  s.reaches = $('#reaches').checked;
  showAddressMessage('');
  if (!address) {
    s.address = '';
    s.near = null;
    app.geocodeNote = '';
  } else if (address !== s.address || !s.near) {
    if (!(await placeAddress(address))) return;
  }
  document.body.classList.toggle('has-near', !!s.near);
  s.id = '';
  $('#detail').hidden = true;
  document.body.classList.remove('detail-open');
  writeUrl(true);
  renderShortlist();
  await runSearch();
}

// ---------- wiring ----------

// ---------- type-ahead ----------

const suggest = { seq: 0, timer: 0, options: [], active: -1 };

function closeSuggest() {
  const box = $('#q-suggest');
  box.hidden = true;
  box.innerHTML = '';
  suggest.options = [];
  suggest.active = -1;
  $('#q').setAttribute('aria-expanded', 'false');
  $('#q').removeAttribute('aria-activedescendant');
}

async function fetchSuggest() {
  const q = $('#q').value.trim();
  const seq = ++suggest.seq;
  if (!q || [...q].length > 20) return closeSuggest();
  let res;
  try {
    res = await getJson(`/suggest?q=${encodeURIComponent(q)}`);
  } catch {
    return closeSuggest();
  }
  if (seq !== suggest.seq || $('#q').value.trim() !== q) return;
  const termKind = { service: 'suggestService', kind: 'suggestKind', municipality: 'suggestPlace' };
  suggest.options = [
    ...(res.facilities || []).map((f) => ({ type: 'facility', id: f.id, text: f.everyday_name || f.name, meta: f.municipality || '' })),
    ...(res.terms || []).map((x) => ({ type: 'term', text: x.text, meta: t(termKind[x.param] || 'suggestService') })),
  ];
  suggest.active = -1;
  const box = $('#q-suggest');
  if (!suggest.options.length) return closeSuggest();
  box.innerHTML = suggest.options.map((o, i) => `<li id="q-opt-${i}" role="option" aria-selected="false" data-i="${i}" data-type="${o.type}"${o.id ? ` data-id="${esc(o.id)}"` : ''}>${esc(o.text)}<span class="s-meta">${esc(o.meta)}</span></li>`).join('');
  box.hidden = false;
  $('#q').setAttribute('aria-expanded', 'true');
}

function highlightSuggest(i) {
  const items = [...document.querySelectorAll('#q-suggest li')];
  if (!items.length) return;
  suggest.active = (i + items.length) % items.length;
  items.forEach((li, k) => li.setAttribute('aria-selected', String(k === suggest.active)));
  $('#q').setAttribute('aria-activedescendant', items[suggest.active].id);
  items[suggest.active].scrollIntoView({ block: 'nearest' });
}

async function chooseSuggest(i) {
  const o = suggest.options[i];
  if (!o) return;
  closeSuggest();
  $('#q').value = o.text;
  await onSubmit();
  if (o.type === 'facility') await openDetail(o.id);
}

function wireSuggest() {
  const input = $('#q');
  input.addEventListener('input', () => {
    clearTimeout(suggest.timer);
    suggest.timer = setTimeout(fetchSuggest, 120);
  });
  input.addEventListener('keydown', (ev) => {
    if ($('#q-suggest').hidden) return;
    if (ev.key === 'ArrowDown') { ev.preventDefault(); highlightSuggest(suggest.active + 1); }
    else if (ev.key === 'ArrowUp') { ev.preventDefault(); highlightSuggest(suggest.active - 1); }
    else if (ev.key === 'Escape') { ev.preventDefault(); closeSuggest(); }
    else if (ev.key === 'Enter' && suggest.active >= 0) { ev.preventDefault(); chooseSuggest(suggest.active); }
    else if (ev.key === 'Enter') closeSuggest();
  });
  input.addEventListener('blur', () => setTimeout(closeSuggest, 150));
  $('#q-suggest').addEventListener('mousedown', (ev) => {
    const li = ev.target.closest('li[data-i]');
    if (!li) return;
    ev.preventDefault();
    chooseSuggest(Number(li.dataset.i));
  });
}

function wire() {
  wireSuggest();
  $('#search-form').addEventListener('submit', onSubmit);
  $('#clear-btn').addEventListener('click', () => {
    const keepView = app.state.view;
    app.state = emptyState();
    app.state.view = keepView;
    app.geocodeNote = '';
    showAddressMessage('');
    fillForm();
    closeDetail();
    writeUrl(true);
    runSearch();
  });
  // Chips apply at once (the text boxes keep what was typed and are applied too).
  document.addEventListener('click', (ev) => {
    const chip = ev.target.closest('.chip');
    if (!chip) return;
    const list = chip.dataset.group === 'kind' ? app.state.kind : app.state.service;
    const i = list.indexOf(chip.dataset.code);
    if (i >= 0) list.splice(i, 1);
    else list.push(chip.dataset.code);
    renderChips();
    const again = document.querySelector(`.chip[data-group="${chip.dataset.group}"][data-code="${chip.dataset.code}"]`);
    if (again) again.focus();
    onSubmit();
  });
  for (const id of ['#area', '#sort', '#radius', '#reaches']) $(id).addEventListener('change', () => onSubmit());
  $('#bbox-mode').addEventListener('change', (ev) => {
    app.state.bbox = ev.target.checked && app.map ? app.map.viewBbox() : null;
    writeUrl(true);
    runSearch({ frame: 'keep', mapToo: false });
  });
  $('#more-btn').addEventListener('click', loadMore);

  const onListClick = (ev) => {
    const btn = ev.target.closest('button[data-act]');
    if (!btn) return;
    const li = btn.closest('[data-id]');
    const id = li ? li.dataset.id : app.state.id;
    const act = btn.dataset.act;
    if (act === 'detail') openDetail(id, 'list');
    else if (act === 'pin') togglePin(id);
    else if (act === 'unpin') SL.unpin(id);
    else if (act === 'close') closeDetail();
  };
  $('#result-list').addEventListener('click', onListClick);
  $('#shortlist-list').addEventListener('click', onListClick);
  $('#detail').addEventListener('click', onListClick);
  $('#detail').addEventListener('keydown', (ev) => { if (ev.key === 'Escape') closeDetail(); });

  $('#tab-results').addEventListener('click', () => showTab('results'));
  $('#tab-shortlist').addEventListener('click', () => showTab('shortlist'));
  $('#tab-backup').addEventListener('click', () => showTab('backup'));
  $('#tab-coverage').addEventListener('click', () => showTab('coverage'));
  $('#tab-review').addEventListener('click', () => showTab('review'));
  $('#tab-discharge').addEventListener('click', () => showTab('discharge'));
  $('#tab-careteam').addEventListener('click', () => showTab('careteam'));
  $('#shortlist-to-team').addEventListener('click', () => teamFromShortlist(SL.shortlist()));
  $('#tab-desk').addEventListener('click', () => showTab('desk'));
  $('#tab-calendar').addEventListener('click', () => showTab('calendar'));
  // The host of a patient group is one click away.
  $('#detail').addEventListener('click', (ev) => {
    const b = ev.target.closest('[data-open-facility]');
    if (b) openDetail(b.dataset.openFacility, 'list');
  });
  $('#shortlist-clear').addEventListener('click', () => { if (confirm(t('confirmClear'))) SL.clearShortlist(); });
  $('#shortlist-use-current').addEventListener('click', () => SL.setHome(currentHome()));
  $('#print-shortlist-btn').addEventListener('click', printShortlist);
  $('#print-list-btn').addEventListener('click', printList);
  $('#show-list').addEventListener('click', () => setView('list'));
  $('#show-map').addEventListener('click', () => setView('map'));
  $('#lang-toggle').addEventListener('click', () => setLang(getLang() === 'ja' ? 'en' : 'ja'));
  $('#banner-retry').addEventListener('click', () => location.reload());

  window.addEventListener('beforeprint', () => {
    // Ctrl+P without a print button: print the current list as it stands.
    if (!document.body.dataset.print && app.tab === 'backup' && backupActive()) {
      renderPrintBackup();
    } else if (!document.body.dataset.print && app.tab === 'careteam' && careTeamActive()) {
      renderPrintTeam();
    } else if (!document.body.dataset.print) {
      renderPrintList(app.items, app.total);
      document.body.dataset.print = 'list';
    }
  });
  window.addEventListener('afterprint', () => { delete document.body.dataset.print; });

  window.addEventListener('popstate', async () => {
    app.state = stateFromUrl();
    app.geocodeNote = '';
    showAddressMessage('');
    fillForm();
    await placeLinkedAddress();
    await runSearch();
    if (app.state.id) openDetail(app.state.id);
    else closeDetail();
  });

  SL.onShortlistChange(renderShortlist);
  onLangChange(() => {
    renderChips();
    renderAreas();
    renderList();
    renderShortlist();
    if (!$('#detail').hidden && app.byId.get(app.state.id)) renderDetail(app.byId.get(app.state.id));
    if (!app.apiUp) $('#banner-text').textContent = t('apiDown');
    app.map && app.map.relabel();
  });
}

// ---------- accounts (account.js, edit.js) ----------

function wireAccount() {
  // What a facility shows depends on who asks: after sign-in or sign-out fetch it all again.
  onSessionChange(() => {
    app.byId.clear();
    applySessionTabs();
    if (!document.body.dataset.ready) return;
    runSearch({ frame: 'keep', mapToo: false });
    if (app.state.id) openDetail(app.state.id);
  });
  // A facility the server just returned (saved, confirmed, or their version after a conflict).
  const onSaved = (f) => {
    const old = app.byId.get(f.id);
    const kept = old && old.distance_m != null ? { distance_m: old.distance_m, distance_precision_m: old.distance_precision_m } : {};
    const next = { ...f, ...kept };
    app.byId.set(f.id, next);
    const i = app.items.findIndex((x) => x.id === f.id);
    if (i >= 0) { app.items[i] = next; renderList(); }
    if (app.state.id === f.id) renderDetail(next);
    // A status or rule this page changed moves the hospital in 今夜の入院先 at once.
    refreshBackup();
  };
  initEditing({ onSaved });
  initBedTools({ onSaved, current: () => (app.state.id ? app.byId.get(app.state.id) : null) });
  initReview({
    busy,
    openDetail: (id, from) => openDetail(id, from),
    onDecided: (p) => {
      if (p && p.facility_id) app.byId.delete(p.facility_id);
      if (p && app.state.id === p.facility_id) openDetail(p.facility_id);
      // An approved survey can change a pharmacy's stock in 退院調整.
      refreshDischarge();
    },
  });
  initDischarge({
    busy,
    getMap: () => app.map,
    openDetail: (id, from) => openDetail(id, from),
    isPinned: (id) => SL.isPinned(id),
    pin: (f, home) => { if (SL.isPinned(f.id)) SL.unpin(f.id); else SL.pin(f, home); },
  });
  initCareTeam({
    busy,
    getMap: () => app.map,
    openDetail: (id, from) => openDetail(id, from),
    showTab: (which) => showTab(which),
    printHead,
    printFooter,
  });
  initCoverage({ getMap: () => app.map, printHead, printFooter });
  initCorrections();
  initDesk({
    busy,
    openDetail: (id, from) => openDetail(id, from),
    areaName: (code) => (app.areas.find((a) => a.code === code) || {}).name || code,
    allAreas: () => app.areas.map((a) => a.code),
    // An applied import: what the page shows comes from the server again (search sees it at once).
    refresh: async () => {
      app.byId.clear();
      await runSearch({ frame: 'keep' });
    },
    findByName: (name, id) => findByName(name, id),
  });
  initCalendar({
    busy,
    areas: () => app.areas,
    openFacility: (id) => openDetail(id, 'list'),
  });
  initBackup({
    getMap: () => app.map,
    home: () => (app.state.near ? { address: app.state.address, near: app.state.near } : null),
    openDetail: (id, from) => openDetail(id, from),
    busy,
    printHead,
    printFooter,
  });
}

async function main() {
  initLang();
  applyStatic();
  document.body.dataset.busy = '0';
  onApiHealth((up) => setApiUp(up));
  wire();
  wireAccount();
  app.state = stateFromUrl();
  fillForm();
  renderShortlist();
  busy(1);
  const [config, , vocab, areas] = await Promise.all([
    getConfig(),
    initAccount(),
    getJson('/vocabulary').catch(() => null),
    getJson('/areas').catch(() => null),
  ]);
  if (vocab) app.vocab = { kinds: vocab.kinds || [], services: vocab.services || [] };
  setOpioidVocabulary(vocab && vocab.opioids);
  if (areas) app.areas = areas.items || [];
  applySessionTabs();
  startReview();
  renderAreas();
  fillForm();
  app.map = createMap($('#map'), config, {
    busy,
    panelWidth: () => ($('#detail').hidden || window.innerWidth <= 700 ? 0 : $('#detail').offsetWidth),
    onSelect: (id, from) => openDetail(id, from),
    onMoveEnd: (bbox) => {
      if (app.state.bbox && bbox) {
        app.state.bbox = bbox;
        writeUrl(false);
        runSearch({ frame: 'keep', mapToo: false });
      }
    },
  });
  await app.map.loadOutlines();
  busy(-1);
  await placeLinkedAddress();
  renderShortlist();
  await runSearch();
  if (app.state.id) await openDetail(app.state.id);
  document.body.dataset.ready = '1';
}

main();

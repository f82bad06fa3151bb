// 「地域の不足」: the coverage report of the 二次医療圏 for the coordinator. A choropleth of the
// areas on the map (share of the population uncovered, or providers per 100,000) for one chosen
// service, its legend, the same figures as an accessible table, and a printable one-page (A4)
// area report for the 緩和ケア連携推進会議. Figures come from /api/v1/coverage.

import L from 'leaflet';
import './coverage.css';
import { t, addStrings, pick, onLangChange } from './i18n.js';
import { getJson, toQuery } from './api.js';
import { applyDataStyles } from './styles.js';

addStrings({
  coverageTab: ['地域の不足', 'Gaps by area'],
  coverageHeading: ['地域の不足（二次医療圏ごと）', 'Gaps by secondary medical area'],
  coverageIntro: ['2020年国勢調査の町丁・字ごとの人口で重み付けし、サービスの提供者から遠い人口の割合、または人口10万人あたりの提供者数を医療圏ごとに示します。', 'For each area: the share of the population (weighted by the 2020 census per 町丁・字) living far from the nearest provider of a service, or the providers per 100,000 population.'],
  coverageService: ['サービス', 'Service'],
  coverageMeasure: ['表示する指標', 'Measure'],
  measure_farther: ['距離 {km} km より遠い人口の割合', 'Share of the population farther than {km} km'],
  measure_outside: ['訪問範囲（16 km 等）の外の人口の割合', 'Share outside every provider\u2019s service area (16 km rule)'],
  measure_per100k: ['人口10万人あたりの提供者数', 'Providers per 100,000 population'],
  coverageKm: ['距離', 'Distance'],
  coverageLegend: ['凡例', 'Legend'],
  coverageNoData: ['データなし', 'No data'],
  coverageTableCaption: ['{s}: {m}', '{s}: {m}'],
  colArea: ['二次医療圏', 'Area'],
  colPopulation: ['人口', 'Population'],
  colProviders: ['提供者数', 'Providers'],
  colPer100k: ['10万人あたり', 'Per 100,000'],
  colFarther: ['{km} km より遠い', 'Farther than {km} km'],
  colOutside: ['訪問範囲外', 'Outside service areas'],
  colNoPop: ['人口のない町丁・字', 'Towns without population'],
  colReport: ['報告書', 'Report'],
  coverageReport: ['{a} の報告書を印刷', 'Print the report of {a}'],
  coverageCsv: ['CSV をダウンロード', 'Download CSV'],
  coverageFailed: ['読み込めませんでした: {d}', 'Could not load: {d}'],
  coverageReportTitle: ['{a} 医療圏 緩和ケア資源の充足状況', 'Palliative care resources of the {a} area'],
  coverageReportFor: ['緩和ケア連携推進会議 資料', 'For the palliative care liaison council'],
  coverageReportFacts: ['人口 {p} 人（2020年国勢調査）・町丁・字 {n}（うち人口のないもの {z}）', 'Population {p} (2020 census), {n} small areas ({z} without population)'],
  coverageReportNote: ['「遠い」は町丁・字の代表点から最寄りの提供者（医療圏外も含む）までの直線距離で判定し、人口で重み付けしています。訪問範囲は公表された範囲、なければ 16 km です。提供者数は医療圏内に所在し、サービスが有効なものです。', '“Farther” is the straight-line distance from each small area\u2019s representative point to the nearest provider (in any area), weighted by population. A service area is the published one, else 16 km. Providers are those located in the area with the service active.'],
  coverageSource: ['出典：政府統計の総合窓口(e-Stat)（令和2年国勢調査 小地域）を加工して作成', 'Source: e-Stat, 2020 census small areas (processed)'],
  coverageNotHome: ['（訪問サービスのみ）', '(home-visit services only)'],
});

const KMS = [5, 10, 20, 30];
/** Five sequential classes, light to dark (ColorBrewer YlOrRd for gaps, Blues for supply). */
const GAP_COLOURS = ['#ffffb2', '#fecc5c', '#fd8d3c', '#f03b20', '#bd0026'];
const SUPPLY_COLOURS = ['#eff3ff', '#bdd7e7', '#6baed6', '#3182bd', '#08519c'];
const GAP_BREAKS = [0.01, 0.05, 0.15, 0.3]; // shares: <1%, 1–5%, 5–15%, 15–30%, ≥30%

const $ = (sel, r = document) => r.querySelector(sel);
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

const st = {
  active: false,
  service: 'home_care_support',
  measure: 'farther', // farther | outside | per100k
  km: 10,
  data: null, // the overview answer for (service, km)
  services: [], // the vocabulary's services
  outlines: null, // areas.geojson
  layer: null,
  legend: null,
  error: '',
  seq: 0,
};

let hooks = {
  getMap: () => null,
  printHead: (title) => `<h1>${esc(title)}</h1>`,
  printFooter: () => '',
};

/** What the tests and the print view read. */
export function coverageState() { return st; }

const homeVisit = (code) => {
  const s = st.services.find((x) => x.code === code);
  return !!(s && s.home_visit);
};
const serviceLabel = (code) => {
  const s = st.services.find((x) => x.code === code);
  return s ? pick(s.label) : code;
};

function measureLabel(m = st.measure) {
  return t(`measure_${m}`, { km: st.km });
}

/** The value of the chosen measure for one area item of the answer (null: no data). */
function valueOf(item, m = st.measure) {
  const s = item && item.services && item.services[0];
  if (!s) return null;
  if (m === 'per100k') return s.per_100k ?? null;
  if (m === 'outside') return s.share_outside ?? null;
  return s.share_farther ?? null;
}

/** Class breaks of the chosen measure: fixed for shares, quantiles of the areas for per 100k. */
function breaks() {
  if (st.measure !== 'per100k') return GAP_BREAKS;
  const vals = (st.data ? st.data.items : []).map((i) => valueOf(i)).filter((v) => v != null).sort((a, b) => a - b);
  if (!vals.length) return [1, 2, 3, 4];
  const q = (p) => vals[Math.min(vals.length - 1, Math.floor(p * vals.length))];
  const b = [q(0.2), q(0.4), q(0.6), q(0.8)].map((v) => Math.round(v * 10) / 10);
  // Strictly increasing, so every class has a meaning.
  for (let i = 1; i < b.length; i++) if (b[i] <= b[i - 1]) b[i] = Math.round((b[i - 1] + 0.1) * 10) / 10;
  return b;
}

function classOf(v, b = breaks()) {
  if (v == null) return -1;
  let k = 0;
  while (k < b.length && v >= b[k]) k++;
  return k;
}

const colours = () => (st.measure === 'per100k' ? SUPPLY_COLOURS : GAP_COLOURS);

function fmt(v, m = st.measure) {
  if (v == null) return t('coverageNoData');
  if (m === 'per100k') return v.toFixed(1);
  return `${(v * 100).toFixed(1)}%`;
}

function classLabel(k, b) {
  const f = (v) => (st.measure === 'per100k' ? v.toFixed(1) : `${Math.round(v * 100)}%`);
  if (k === 0) return `< ${f(b[0])}`;
  if (k === b.length) return `≥ ${f(b[b.length - 1])}`;
  return `${f(b[k - 1])} – ${f(b[k])}`;
}

function legendHtml() {
  const b = breaks();
  const c = colours();
  const rows = c.map((col, k) => `<li><span class="cv-swatch" data-swatch="${esc(col)}"></span>${esc(classLabel(k, b))}</li>`).join('');
  return `<p class="cv-legend-title">${esc(measureLabel())}</p><ul>${rows}<li><span class="cv-swatch cv-none"></span>${esc(t('coverageNoData'))}</li></ul>`;
}

// ---------- the map layer ----------

function byArea() {
  const m = new Map();
  for (const i of (st.data ? st.data.items : [])) m.set(String(i.area), i);
  return m;
}

function drawLayer() {
  const map = hooks.getMap();
  if (!map || !st.outlines) return;
  const lmap = map.map;
  if (st.layer) { st.layer.remove(); st.layer = null; }
  if (!st.active || !st.data) return;
  const items = byArea();
  const b = breaks();
  const c = colours();
  st.layer = L.geoJSON(st.outlines, {
    style: (f) => {
      const k = classOf(valueOf(items.get(String(f.properties.code))), b);
      return { color: '#444', weight: 1.2, fillOpacity: 0.65, fillColor: k < 0 ? '#ccc' : c[k], className: `cv-area cv-class-${k}` };
    },
    onEachFeature: (f, layer) => {
      const it = items.get(String(f.properties.code));
      layer.bindTooltip(`${esc(f.properties.name)}: ${esc(fmt(valueOf(it)))}`, { sticky: true });
      layer.on('click', () => {
        const row = document.querySelector(`#cv-table tr[data-area="${f.properties.code}"]`);
        if (row) row.querySelector('th').focus();
      });
    },
  }).addTo(lmap);
  if (!st.legend) {
    st.legend = L.control({ position: 'bottomright' });
    st.legend.onAdd = () => {
      const d = L.DomUtil.create('div', 'cv-legend cv-map-legend');
      d.setAttribute('aria-hidden', 'true'); // the same legend is in the panel for screen readers
      return d;
    };
  }
  st.legend.addTo(lmap);
  st.legend.getContainer().innerHTML = legendHtml();
  applyDataStyles(st.legend.getContainer());
}

function removeLayer() {
  if (st.layer) { st.layer.remove(); st.layer = null; }
  if (st.legend) st.legend.remove();
}

// ---------- the panel ----------

function renderControls() {
  const sel = $('#cv-service');
  if (!sel) return;
  sel.innerHTML = st.services.map((s) => `<option value="${esc(s.code)}"${s.code === st.service ? ' selected' : ''}>${esc(pick(s.label))}</option>`).join('');
  const ms = ['farther', 'outside', 'per100k'];
  $('#cv-measure').innerHTML = ms.map((m) => {
    const off = m === 'outside' && !homeVisit(st.service);
    return `<label class="cv-radio"><input type="radio" name="cv-measure" value="${m}"${m === st.measure ? ' checked' : ''}${off ? ' disabled' : ''}> ${esc(measureLabel(m))}${off ? ` <span class="hint">${esc(t('coverageNotHome'))}</span>` : ''}</label>`;
  }).join('');
  $('#cv-km').innerHTML = KMS.map((k) => `<option value="${k}"${k === st.km ? ' selected' : ''}>${k} km</option>`).join('');
  $('#cv-csv').href = `/api/v1/coverage${toQuery({ service: st.service, km: st.km, format: 'csv' })}`;
}

function renderTable() {
  const box = $('#cv-body');
  if (!box) return;
  if (st.error) {
    box.innerHTML = `<p class="msg" role="alert">${esc(t('coverageFailed', { d: st.error }))}</p>`;
    return;
  }
  if (!st.data) { box.innerHTML = `<p>${esc(t('loading'))}</p>`; return; }
  const hv = homeVisit(st.service);
  const b = breaks();
  const rows = st.data.items.map((i) => {
    const s = i.services[0] || {};
    const k = classOf(valueOf(i), b);
    return `<tr data-area="${esc(i.area)}" class="cv-class-${k}">
      <th scope="row" tabindex="-1">${esc(i.name)}</th>
      <td class="num">${i.population.toLocaleString()}</td>
      <td class="num">${s.providers}</td>
      <td class="num">${esc(fmt(s.per_100k, 'per100k'))}</td>
      <td class="num">${esc(fmt(s.share_farther, 'farther'))}</td>
      ${hv ? `<td class="num">${esc(fmt(s.share_outside, 'outside'))}</td>` : ''}
      <td class="num">${i.towns_without_population}</td>
      <td><button type="button" class="btn small cv-print" data-area="${esc(i.area)}" aria-label="${esc(t('coverageReport', { a: i.name }))}">${esc(t('print'))}</button></td>
    </tr>`;
  }).join('');
  box.innerHTML = `<div class="cv-legend" id="cv-legend" role="group" aria-label="${esc(t('coverageLegend'))}">${legendHtml()}</div>
    <table class="cv-table" id="cv-table">
      <caption>${esc(t('coverageTableCaption', { s: serviceLabel(st.service), m: measureLabel() }))}</caption>
      <thead><tr>
        <th scope="col">${esc(t('colArea'))}</th><th scope="col">${esc(t('colPopulation'))}</th>
        <th scope="col">${esc(t('colProviders'))}</th><th scope="col">${esc(t('colPer100k'))}</th>
        <th scope="col">${esc(t('colFarther', { km: st.km }))}</th>
        ${hv ? `<th scope="col">${esc(t('colOutside'))}</th>` : ''}
        <th scope="col">${esc(t('colNoPop'))}</th><th scope="col">${esc(t('colReport'))}</th>
      </tr></thead>
      <tbody>${rows}</tbody>
    </table>
    <p class="hint">${esc(t('coverageSource'))}</p>`;
  applyDataStyles(box);
}

function render() {
  renderControls();
  renderTable();
  drawLayer();
}

async function load() {
  const seq = ++st.seq;
  st.data = null;
  st.error = '';
  renderTable();
  try {
    const data = await getJson(`/coverage${toQuery({ service: st.service, km: st.km })}`);
    if (seq !== st.seq) return;
    st.data = data;
  } catch (e) {
    if (seq !== st.seq) return;
    st.error = e.message || String(e);
  }
  render();
  document.body.dataset.coverage = st.error ? 'error' : 'ready';
}

async function ensureBasics() {
  if (!st.services.length) {
    const v = await getJson('/vocabulary').catch(() => null);
    st.services = (v && v.services) || [];
  }
  if (!st.outlines) st.outlines = await getJson('/areas.geojson').catch(() => null);
}

export async function setActive(on) {
  if (st.active === on) return;
  st.active = on;
  document.body.classList.toggle('tab-coverage', on);
  if (!on) { removeLayer(); return; }
  await ensureBasics();
  if (!st.active) return;
  renderControls();
  if (st.data) render(); else await load();
}

export function coverageActive() { return st.active; }

// ---------- the printed area report (one A4 page) ----------

export async function printAreaReport(code) {
  const res = await getJson(`/areas/${encodeURIComponent(code)}/coverage${toQuery({ km: st.km })}`);
  const rows = res.services.map((s) => `<tr>
      <th scope="row">${esc(pick({ ja: s.label_ja, en: s.label_en }))}</th>
      <td class="num">${s.providers}</td>
      <td class="num">${esc(fmt(s.per_100k, 'per100k'))}</td>
      <td class="num">${s.population_farther.toLocaleString()}</td>
      <td class="num">${esc(fmt(s.share_farther, 'farther'))}</td>
      <td class="num">${s.home_visit ? esc(fmt(s.share_outside, 'outside')) : '—'}</td>
    </tr>`).join('');
  const facts = t('coverageReportFacts', {
    p: res.population.toLocaleString(), n: res.small_areas, z: res.towns_without_population,
  });
  $('#print-area').innerHTML = `<section class="print-coverage" data-area="${esc(res.area)}">
    ${hooks.printHead(t('coverageReportTitle', { a: res.name }), `<p>${esc(t('coverageReportFor'))} ・ ${esc(facts)}</p>`)}
    <table class="print-table cv-print-table">
      <thead><tr>
        <th scope="col">${esc(t('coverageService'))}</th><th scope="col">${esc(t('colProviders'))}</th>
        <th scope="col">${esc(t('colPer100k'))}</th><th scope="col">${esc(t('colFarther', { km: res.km }))} (${esc(t('colPopulation'))})</th>
        <th scope="col">${esc(t('colFarther', { km: res.km }))}</th><th scope="col">${esc(t('colOutside'))}</th>
      </tr></thead>
      <tbody>${rows}</tbody>
    </table>
    <p class="cv-print-note">${esc(t('coverageReportNote'))}</p>
    <p class="cv-print-note">${esc(t('coverageSource'))}</p>
    ${hooks.printFooter()}
  </section>`;
  document.body.dataset.print = 'coverage';
  window.print();
}

// ---------- wiring ----------

export function initCoverage(h) {
  hooks = { ...hooks, ...h };
  const sec = $('#coverage');
  if (!sec) return;
  sec.innerHTML = `<div class="results-head">
      <h2 id="coverage-heading" tabindex="-1">${esc(t('coverageHeading'))}</h2>
      <a class="btn small" id="cv-csv" download>${esc(t('coverageCsv'))}</a>
    </div>
    <p class="hint" id="cv-intro">${esc(t('coverageIntro'))}</p>
    <div class="grid2 cv-controls">
      <div class="field"><label for="cv-service" id="cv-service-label">${esc(t('coverageService'))}</label><select id="cv-service"></select></div>
      <div class="field"><label for="cv-km" id="cv-km-label">${esc(t('coverageKm'))}</label><select id="cv-km"></select></div>
    </div>
    <fieldset class="cv-measures"><legend id="cv-measure-legend">${esc(t('coverageMeasure'))}</legend><div id="cv-measure"></div></fieldset>
    <div id="cv-body" aria-live="polite"></div>`;
  sec.addEventListener('change', (e) => {
    if (e.target.id === 'cv-service') {
      st.service = e.target.value;
      if (st.measure === 'outside' && !homeVisit(st.service)) st.measure = 'farther';
      renderControls();
      load();
    } else if (e.target.id === 'cv-km') {
      st.km = Number(e.target.value);
      renderControls();
      load();
    } else if (e.target.name === 'cv-measure') {
      st.measure = e.target.value;
      render();
    }
  });
  sec.addEventListener('click', (e) => {
    const b = e.target.closest('.cv-print');
    if (b) printAreaReport(b.dataset.area);
  });
  onLangChange(() => {
    $('#coverage-heading').textContent = t('coverageHeading');
    $('#cv-intro').textContent = t('coverageIntro');
    $('#cv-service-label').textContent = t('coverageService');
    $('#cv-km-label').textContent = t('coverageKm');
    $('#cv-measure-legend').textContent = t('coverageMeasure');
    $('#cv-csv').textContent = t('coverageCsv');
    if (st.active) render();
  });
}

// End-to-end tests in headless Chromium (Debian's /usr/bin/chromium).
// Against PALLIMAP_E2E_URL if set, otherwise a local static+proxy server
// in front of PALLIMAP_API_URL (default http://127.0.0.1:8090).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { setup, newPage, settled, mapCount, shot, SHOTS } from './harness.mjs';

const PCU_QUERY = '緩和ケア病棟';
const ADDRESS = 'さいたま市浦和区北浦和4-9-3';
let env;
const figures = {};

before(async () => {
  env = await setup();
  // Fail loudly and early if the API is not there.
  const r = await fetch(`${env.base}/healthz`).catch((e) => ({ ok: false, statusText: String(e) }));
  assert.ok(r.ok, `API not reachable via ${env.base}/healthz: ${r.status || ''} ${r.statusText || ''}`);
});

after(async () => {
  if (env) await env.close();
  // Figures to report (not asserted).
  const dist = new URL('../dist/', import.meta.url);
  let gz = 0;
  let raw = 0;
  for (const f of ['app.js', 'app.css']) {
    const b = readFileSync(new URL(f, dist));
    raw += b.length;
    gz += gzipSync(b, { level: 9 }).length;
  }
  figures.bundle_raw_kib = +(raw / 1024).toFixed(1);
  figures.bundle_gzip_kib = +(gz / 1024).toFixed(1);
  writeFileSync(`${SHOTS}figures.json`, `${JSON.stringify(figures, null, 2)}\n`);
  console.log(`# FIGURES ${JSON.stringify(figures)}`);
});

async function api(path) {
  const r = await fetch(`${env.base}/api/v1${path}`);
  assert.ok(r.ok, `${path}: HTTP ${r.status}`);
  return r.json();
}

async function listIds(page) {
  return page.$$eval('#result-list > li', (lis) => lis.map((li) => li.dataset.id));
}

async function submitQuery(page, q) {
  await page.fill('#q', q);
  await page.press('#q', 'Enter');
  await settled(page);
}

test('the page loads with no console errors and draws the base outlines', async () => {
  const { ctx, page, errors } = await newPage(env);
  await page.goto(`${env.base}/`);
  await settled(page);
  assert.equal(await page.textContent('h1'), '埼玉県 緩和ケア資源マップ');
  const outlines = await page.$$eval('#map .leaflet-outlines-pane path', (p) => p.length);
  assert.ok(outlines >= 10, `expected area and municipality outlines, got ${outlines}`);
  assert.ok(await page.isVisible('#pro-signin'), 'professional sign-in slot is shown');
  assert.ok(await page.isDisabled('#pro-signin'), 'professional sign-in is disabled for now');
  assert.ok(await page.isHidden('#banner'), 'no error banner');
  await shot(page, '01-home');
  assert.deepEqual(errors, [], `console errors: ${errors.join('\n')}`);
  await ctx.close();
});

test('searching 緩和ケア病棟 lists the 20 PCUs and shows them on the map', async () => {
  const { ctx, page, errors } = await newPage(env);
  await page.goto(`${env.base}/`);
  await settled(page);
  await submitQuery(page, PCU_QUERY);
  figures.search_to_draw_ms = Number(await page.evaluate(() => document.body.dataset.lastSearchMs));
  console.log(`# search-to-draw (submit → list + map drawn): ${figures.search_to_draw_ms} ms`);
  assert.equal(await page.getAttribute('#count', 'data-total'), '20');
  assert.match(await page.textContent('#count'), /20 件/);
  assert.equal((await listIds(page)).length, 20);
  const m = await mapCount(page);
  assert.equal(m.total, 20, `map shows ${JSON.stringify(m)}`);
  assert.equal(new URL(page.url()).searchParams.get('q'), PCU_QUERY, 'the query is in the URL');
  // Every listed item is a hospital with the PCU service (kind shown as text, not only colour).
  const kinds = await page.$$eval('#result-list .kind-text', (e) => [...new Set(e.map((x) => x.textContent))]);
  assert.deepEqual(kinds, ['病院']);
  await shot(page, '02-search-pcu');

  // Opening a result shows the detail panel with map-app links and dates.
  await page.click('#result-list > li:first-child button.name');
  await page.waitForSelector('#detail:not([hidden]) #detail-name');
  assert.ok(await page.$('#detail a[data-link="google"][href^="https://www.google.com/maps/search/?api=1&query="]'));
  assert.ok(await page.$('#detail a[data-link="geo"][href^="geo:"]'));
  assert.ok(await page.$('#detail dd[data-field="updated_at"]'));
  assert.ok(await page.$('#detail dd[data-field="verified_at"]'));
  assert.ok(new URL(page.url()).searchParams.get('id'), 'the open facility is in the URL');
  await settled(page);
  await shot(page, '03-detail');
  assert.deepEqual(errors, [], `console errors: ${errors.join('\n')}`);
  await ctx.close();
});

test('/?q=緩和ケア病棟 opens straight onto the results', async () => {
  const { ctx, page, errors } = await newPage(env);
  await page.goto(`${env.base}/?q=${encodeURIComponent(PCU_QUERY)}`);
  await settled(page);
  assert.equal(await page.inputValue('#q'), PCU_QUERY);
  assert.equal(await page.getAttribute('#count', 'data-total'), '20');
  assert.equal((await mapCount(page)).total, 20);
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('an area filter narrows list and map alike', async () => {
  const { ctx, page, errors } = await newPage(env);
  await page.goto(`${env.base}/?q=${encodeURIComponent(PCU_QUERY)}`);
  await settled(page);
  await page.selectOption('#area', '1104');
  await settled(page);
  const expected = await api(`/facilities?q=${encodeURIComponent(PCU_QUERY)}&area=1104&limit=100`);
  assert.ok(expected.total > 0 && expected.total < 20, `API total for area 1104: ${expected.total}`);
  assert.equal(await page.getAttribute('#count', 'data-total'), String(expected.total));
  assert.deepEqual((await listIds(page)).sort(), expected.items.map((i) => i.id).sort());
  assert.equal((await mapCount(page)).total, expected.total, 'map shows the same number');
  assert.equal(new URL(page.url()).searchParams.get('area'), '1104');
  await shot(page, '04-area-1104');
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('an address search centres the map on it and sorts by distance', async () => {
  const { ctx, page, errors } = await newPage(env);
  await page.goto(`${env.base}/`);
  await settled(page);
  await page.fill('#address', ADDRESS);
  await page.press('#address', 'Enter');
  await settled(page);
  const g = await api(`/geocode?address=${encodeURIComponent(ADDRESS)}`);
  const c = await page.evaluate(() => window.__pallimap.map.center());
  assert.ok(Math.abs(c.lat - g.lat) < 0.005 && Math.abs(c.lng - g.lng) < 0.005, `map centre ${JSON.stringify(c)} vs ${g.lat},${g.lng}`);
  assert.ok(await page.$('#map [data-home]'), 'the patient home marker is shown');
  const d = await page.$$eval('#result-list [data-distance-m]', (e) => e.map((x) => Number(x.dataset.distanceM)));
  assert.ok(d.length >= 10, `distances shown: ${d.length}`);
  for (let i = 1; i < d.length; i++) assert.ok(d[i] >= d[i - 1], `distances ascending at ${i}: ${d[i - 1]} > ${d[i]}`);
  const u = new URL(page.url()).searchParams;
  assert.equal(u.get('address'), ADDRESS);
  assert.match(u.get('near') || '', /^35\.\d+,139\.\d+$/);
  await shot(page, '05-address');
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('a reloaded permalink restores the state; back/forward restores too', async () => {
  const { ctx, page, errors } = await newPage(env);
  await page.goto(`${env.base}/`);
  await settled(page);
  await page.fill('#q', PCU_QUERY);
  await page.fill('#address', ADDRESS);
  await page.press('#q', 'Enter');
  await settled(page);
  await page.click('#main-chip-row .chip[data-code="pcu"]');
  await settled(page);
  await page.selectOption('#area', '1104');
  await settled(page);
  const url = page.url();
  const before = await listIds(page);
  assert.ok(before.length > 0);
  const p = new URL(url).searchParams;
  assert.equal(p.get('service'), 'pcu');
  assert.equal(p.get('area'), '1104');

  // A new tab with the same link.
  const page2 = await ctx.newPage();
  const errors2 = [];
  page2.on('console', (m) => { if (m.type() === 'error') errors2.push(m.text()); });
  await page2.goto(url);
  await settled(page2);
  assert.equal(await page2.inputValue('#q'), PCU_QUERY);
  assert.equal(await page2.inputValue('#address'), ADDRESS);
  assert.equal(await page2.inputValue('#area'), '1104');
  assert.equal(await page2.getAttribute('#main-chip-row .chip[data-code="pcu"]', 'aria-pressed'), 'true');
  assert.deepEqual(await listIds(page2), before);
  assert.ok(await page2.$('#map [data-home]'));

  // Reload keeps it too.
  await page2.reload();
  await settled(page2);
  assert.deepEqual(await listIds(page2), before);

  // Back: the area selection is undone (popstate).
  await page.goBack();
  await settled(page);
  assert.equal(await page.inputValue('#area'), '');
  assert.equal(await page.getAttribute('#main-chip-row .chip[data-code="pcu"]', 'aria-pressed'), 'true');
  assert.ok((await page.getAttribute('#count', 'data-total')) !== String(before.length) || before.length === 20);
  assert.deepEqual(errors, []);
  assert.deepEqual(errors2, []);
  await ctx.close();
});

test('the shortlist keeps pinned items and prints them with distances and phones', async () => {
  const { ctx, page, errors } = await newPage(env);
  await page.goto(`${env.base}/?q=${encodeURIComponent(PCU_QUERY)}&address=${encodeURIComponent(ADDRESS)}`);
  await settled(page);
  // address= without near: the box is filled; submit geocodes it.
  await page.press('#address', 'Enter');
  await settled(page);
  const names = await page.$$eval('#result-list > li h3', (e) => e.slice(0, 3).map((x) => x.textContent.trim()));
  for (let i = 1; i <= 3; i++) await page.click(`#result-list > li:nth-child(${i}) button[data-act="pin"]`);
  assert.match(await page.textContent('#tab-shortlist'), /3/);
  await page.click('#tab-shortlist');
  assert.equal(await page.$$eval('#shortlist-list > li', (e) => e.length), 3);

  // Survives a reload (sessionStorage), never leaves the browser.
  await page.reload();
  await settled(page);
  await page.click('#tab-shortlist');
  assert.equal(await page.$$eval('#shortlist-list > li', (e) => e.length), 3);
  await shot(page, '06-shortlist');

  await page.click('#print-shortlist-btn');
  assert.equal(await page.evaluate(() => window.__printCalls), 1, 'window.print() was called');
  await page.emulateMedia({ media: 'print' });
  assert.ok(await page.isHidden('#app'), 'the app is hidden in print');
  const rows = await page.$$eval('#print-area tbody tr', (trs) => trs.map((tr) => ({
    name: tr.querySelector('strong').textContent,
    distance: tr.querySelector('[data-col="distance"]').textContent.trim(),
    phone: tr.querySelector('[data-col="phone"]').textContent.trim(),
  })));
  assert.deepEqual(rows.map((r) => r.name), names);
  for (const r of rows) {
    assert.match(r.distance, /^\d+(\.\d)? k?m$/, `distance for ${r.name}`);
    assert.match(r.phone, /\d{2,4}-\d{2,4}-\d{3,4}/, `phone for ${r.name}`);
  }
  await page.setViewportSize({ width: 794, height: 1123 }); // A4 at 96 dpi
  await shot(page, '07-shortlist-print');
  await page.pdf({ path: `${SHOTS}shortlist.pdf`, format: 'A4', printBackground: true });
  await page.emulateMedia({ media: 'screen' });
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('the resource list prints as an A4 table', async () => {
  const { ctx, page, errors } = await newPage(env);
  await page.goto(`${env.base}/?q=${encodeURIComponent(PCU_QUERY)}`);
  await settled(page);
  await page.click('#print-list-btn');
  await page.waitForFunction(() => window.__printCalls === 1);
  await page.emulateMedia({ media: 'print' });
  assert.equal(await page.$$eval('#print-area tbody tr', (e) => e.length), 20);
  assert.match(await page.textContent('#print-area h1'), /資源リスト/);
  await page.setViewportSize({ width: 794, height: 1123 });
  await shot(page, '08-list-print');
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('the English toggle changes the labels and is remembered', async () => {
  const { ctx, page, errors } = await newPage(env);
  await page.goto(`${env.base}/?q=${encodeURIComponent(PCU_QUERY)}`);
  await settled(page);
  await page.click('#lang-toggle');
  assert.equal(await page.textContent('h1'), 'Saitama palliative care resource map');
  assert.equal(await page.textContent('#search-btn'), 'Search');
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.match(await page.textContent('#count'), /20 results/);
  assert.equal(await page.textContent('#main-chip-row .chip[data-code="pcu"]'), 'PCU');
  await page.reload();
  await settled(page);
  assert.equal(await page.textContent('#search-btn'), 'Search');
  await shot(page, '09-english');
  await page.click('#lang-toggle');
  assert.equal(await page.textContent('#search-btn'), '検索');
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('chips with no data say so honestly (麻薬を扱う薬局, 患者会)', async () => {
  const { ctx, page, errors } = await newPage(env);
  await page.goto(`${env.base}/`);
  await settled(page);
  for (const [group, code] of [['service', 'opioid_dispensing'], ['kind', 'patient_group']]) {
    const expected = await api(`/facilities?${group}=${code}&limit=1`);
    await page.goto(`${env.base}/`);
    await settled(page);
    await page.click(`#main-chip-row .chip[data-code="${code}"]`);
    await settled(page);
    assert.equal(await page.getAttribute(`#main-chip-row .chip[data-code="${code}"]`, 'aria-pressed'), 'true');
    assert.equal(await page.getAttribute('#count', 'data-total'), String(expected.total));
    if (expected.total === 0) {
      assert.match(await page.textContent('#count'), /該当なし/);
      assert.equal((await mapCount(page)).total, 0);
    }
  }
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('a bad address shows a Japanese message with advice', async () => {
  const { ctx, page } = await newPage(env);
  await page.goto(`${env.base}/`);
  await settled(page);
  await page.fill('#address', 'あいうえお町999');
  await page.press('#address', 'Enter');
  await page.waitForSelector('#address-msg:not([hidden])');
  const msg = await page.textContent('#address-msg');
  assert.match(msg, /場所を特定できませんでした/);
  assert.match(msg, /市区町村名/);
  assert.match(msg, /あいうえお町999/);
  assert.equal(await page.getAttribute('#address', 'aria-invalid'), 'true');
  assert.equal(new URL(page.url()).searchParams.get('near'), null, 'no point was set');
  await shot(page, '10-bad-address');
  await ctx.close();
});

test('the API being down shows a clear banner, not a blank page', async () => {
  const { ctx, page } = await newPage(env);
  await ctx.route('**/api/**', (route) => route.abort('connectionrefused'));
  await page.goto(`${env.base}/?q=${encodeURIComponent(PCU_QUERY)}`);
  await page.waitForSelector('#banner:not([hidden])', { timeout: 15000 });
  assert.match(await page.textContent('#banner'), /サーバーに接続できません/);
  assert.ok(await page.isVisible('#search-form'), 'the form is still there');
  await settled(page);
  await shot(page, '11-api-down');
  await ctx.close();
});

test('on a phone the list and the map toggle', async () => {
  const { ctx, page, errors } = await newPage(env, { viewport: { width: 390, height: 800 } });
  await page.goto(`${env.base}/?q=${encodeURIComponent(PCU_QUERY)}`);
  await settled(page);
  assert.ok(await page.isVisible('#result-list'));
  assert.ok(await page.isHidden('#map'));
  await shot(page, '12-phone-list');
  await page.click('#show-map');
  await settled(page);
  assert.ok(await page.isVisible('#map'));
  assert.ok(await page.isHidden('#result-list'));
  assert.equal(new URL(page.url()).searchParams.get('view'), 'map');
  await shot(page, '13-phone-map');
  assert.deepEqual(errors, []);
  await ctx.close();
});

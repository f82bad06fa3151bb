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

// Every shape the distance formatter may print in Japanese.
const DISTANCE_TEXT = /^(同じ町丁目付近|約 \d+\.\d km 以内|約 100 m 以内|約 [1-9]00 m|約 \d\.\d km|約 \d\d+ km)$/;

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
  assert.ok(await page.isVisible('#pro-signin'), 'professional sign-in is shown');
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
  // address= without near: the link itself is geocoded on load.
  await page.goto(`${env.base}/?q=${encodeURIComponent(PCU_QUERY)}&address=${encodeURIComponent(ADDRESS)}`);
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
    assert.match(r.distance, DISTANCE_TEXT, `distance for ${r.name}`);
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

// ---------- links that name a place ----------

/** The list as the API gives it for the same filters (first page). */
async function apiList(query) {
  return api(`/facilities?${query}&limit=50`);
}

async function listDistances(page) {
  return page.$$eval('#result-list > li', (lis) => lis.map((li) => {
    const d = li.querySelector('[data-distance-m]');
    return d ? { m: Number(d.dataset.distanceM), text: d.textContent.trim() } : null;
  }));
}

test('a shared link with address= geocodes it: home marker, nearest first, distances shown', async () => {
  const { ctx, page, errors } = await newPage(env);
  const facilityRequests = [];
  page.on('request', (r) => { if (r.url().includes('/api/v1/facilities?')) facilityRequests.push(new URL(r.url()).searchParams); });
  await page.goto(`${env.base}/?service=backup_hospital&address=${encodeURIComponent('春日部市')}`);
  await settled(page);
  assert.equal(await page.inputValue('#address'), '春日部市');
  assert.ok(await page.$('#map [data-home]'), 'the patient home marker is shown');
  // A city-level placement is said so, as after submitting the box.
  assert.match(await page.textContent('#summary'), /「春日部市」の市区町村の位置で検索しています/);
  const g = await api(`/geocode?address=${encodeURIComponent('春日部市')}`);
  const c = await page.evaluate(() => window.__pallimap.map.center());
  assert.ok(Math.abs(c.lat - g.lat) < 0.005 && Math.abs(c.lng - g.lng) < 0.005, `map centre ${JSON.stringify(c)} vs ${g.lat},${g.lng}`);

  // Exactly the API's answer for the same address, in the same (distance) order.
  const expected = await apiList(`service=backup_hospital&address=${encodeURIComponent('春日部市')}`);
  assert.ok(expected.items.length >= 2, `API items: ${expected.items.length}`);
  assert.deepEqual(await listIds(page), expected.items.map((i) => i.id));
  const d = await listDistances(page);
  assert.ok(d.every(Boolean), 'every listed item shows a distance');
  assert.deepEqual(d.map((x) => x.m), expected.items.map((i) => i.distance_m));
  for (let i = 1; i < d.length; i++) assert.ok(d[i].m >= d[i - 1].m, `distances ascending at ${i}: ${d[i - 1].m} > ${d[i].m}`);
  for (const x of d) assert.match(x.text, DISTANCE_TEXT);

  // The link now carries the point, and the API was asked with the address itself
  // (so that it can tell how precise the point is), never with a bare near=.
  const u = new URL(page.url()).searchParams;
  assert.equal(u.get('near'), `${+g.lat.toFixed(6)},${+g.lng.toFixed(6)}`);
  assert.ok(facilityRequests.length > 0);
  for (const q of facilityRequests) {
    assert.equal(q.get('address'), '春日部市');
    assert.equal(q.get('near'), null);
  }
  await shot(page, '14-link-address');
  assert.deepEqual(errors, [], `console errors: ${errors.join('\n')}`);
  await ctx.close();
});

test('a shared link with near=lat,lng shows the home and sorts by distance', async () => {
  const { ctx, page, errors } = await newPage(env);
  const near = '35.975,139.752';
  await page.goto(`${env.base}/?service=backup_hospital&near=${near}`);
  await settled(page);
  assert.equal(await page.inputValue('#address'), '');
  assert.ok(await page.$('#map [data-home]'), 'the home marker is shown');
  const c = await page.evaluate(() => window.__pallimap.map.center());
  assert.ok(Math.abs(c.lat - 35.975) < 0.005 && Math.abs(c.lng - 139.752) < 0.005, `map centre ${JSON.stringify(c)}`);
  const expected = await apiList(`service=backup_hospital&near=${near}`);
  assert.deepEqual(await listIds(page), expected.items.map((i) => i.id));
  const d = await listDistances(page);
  assert.ok(d.length >= 2 && d.every(Boolean), 'every listed item shows a distance');
  for (let i = 1; i < d.length; i++) assert.ok(d[i].m >= d[i - 1].m, `distances ascending at ${i}`);
  assert.deepEqual(errors, [], `console errors: ${errors.join('\n')}`);
  await ctx.close();
});

test('a link with an address that cannot be placed says so and lists without distances', async () => {
  const { ctx, page } = await newPage(env);
  await page.goto(`${env.base}/?service=backup_hospital&address=${encodeURIComponent('あいうえお町999')}`);
  await settled(page);
  assert.match(await page.textContent('#address-msg'), /住所「あいうえお町999」の場所を特定できませんでした/);
  assert.equal(await page.$('#map [data-home]'), null, 'no home marker');
  assert.equal(new URL(page.url()).searchParams.get('near'), null);
  assert.equal(await page.$$eval('#result-list [data-distance-m]', (e) => e.length), 0);
  assert.ok(Number(await page.getAttribute('#count', 'data-total')) > 0, 'the service filter still applies');
  await ctx.close();
});

// ---------- honest distances ----------

// [distance_m, distance_precision_m, Japanese, English]
const DISTANCE_CASES = [
  [0, 800, '同じ町丁目付近', 'same neighbourhood'],
  [0, 2500, '同じ町丁目付近', 'same neighbourhood'],
  [300, 800, '約 1.1 km 以内', 'within about 1.1 km'],
  [1, 2500, '約 2.6 km 以内', 'within about 2.6 km'],
  [2400, 2500, '約 4.9 km 以内', 'within about 4.9 km'],
  [799, 800, '約 1.6 km 以内', 'within about 1.6 km'],
  [800, 800, '約 800 m', 'about 800 m'],
  [1200, 3000, '約 1.2 km', 'about 1.2 km'], // city-level: too loose for "within"
  [0, 5000, '約 5.0 km 以内', 'within about 5.0 km'], // would read "about 0 m"
  [340, undefined, '約 300 m', 'about 300 m'], // older API: no precision field
  [350, null, '約 400 m', 'about 400 m'],
  [0, undefined, '約 100 m 以内', 'within about 100 m'],
  [49, 0, '約 100 m 以内', 'within about 100 m'],
  [949, 0, '約 900 m', 'about 900 m'],
  [950, 0, '約 1.0 km', 'about 1.0 km'],
  [1234, 0, '約 1.2 km', 'about 1.2 km'],
  [9949, 0, '約 9.9 km', 'about 9.9 km'],
  [9950, 0, '約 10 km', 'about 10 km'],
  [12345, 100, '約 12 km', 'about 12 km'],
  [12345, 2000, '約 12 km', 'about 12 km'],
  [null, 800, '', ''],
];

test('the distance formatter claims no more than the placements know (ja and en)', async () => {
  const { ctx, page, errors } = await newPage(env);
  await page.goto(`${env.base}/`);
  await settled(page);
  const run = () => page.evaluate((cases) => cases.map(([m, p]) => window.__pallimap.formatDistance(m, p)), DISTANCE_CASES);
  assert.deepEqual(await run(), DISTANCE_CASES.map((c) => c[2]));
  await page.click('#lang-toggle');
  assert.deepEqual(await run(), DISTANCE_CASES.map((c) => c[3]));
  for (const [, , ja] of DISTANCE_CASES) if (ja) assert.match(ja, DISTANCE_TEXT);
  assert.deepEqual(errors, []);
  await ctx.close();
});

// Needs the API that adds distance_precision_m next to distance_m.
test('the list shows each distance with its precision, and none reads 0 m', async () => {
  const { ctx, page, errors } = await newPage(env);
  await page.goto(`${env.base}/?address=${encodeURIComponent(ADDRESS)}`);
  await settled(page);
  const expected = await apiList(`address=${encodeURIComponent(ADDRESS)}`);
  assert.ok(expected.items.length >= 10);
  for (const i of expected.items) {
    assert.equal(typeof i.distance_precision_m, 'number', `API item ${i.id} has distance_precision_m (placement ${i.placement})`);
  }
  const want = await page.evaluate((items) => items.map((i) => window.__pallimap.formatDistance(i.distance_m, i.distance_precision_m)), expected.items);
  const shown = (await listDistances(page)).map((x) => x && x.text);
  assert.deepEqual(shown, want);
  assert.ok(!shown.some((x) => /(^|\D)0 m/.test(x)), `no "0 m": ${shown.join(' / ')}`);
  // Town-placed facilities at the address's own town point are "the same neighbourhood".
  const sameTown = expected.items.filter((i) => i.distance_m === 0);
  assert.ok(sameTown.length > 0, 'the default dataset has facilities at the address\u2019s town point');
  for (const i of sameTown) {
    assert.equal(await page.textContent(`#result-list > li[data-id="${i.id}"] .distance`), '同じ町丁目付近');
  }
  // The detail panel says the same.
  await page.click(`#result-list > li[data-id="${sameTown[0].id}"] button.name`);
  await page.waitForSelector('#detail:not([hidden]) [data-field="distance"]');
  assert.match(await page.textContent('#detail [data-field="distance"]'), /距離: 同じ町丁目付近（患者さんの住所から）/);
  await shot(page, '15-distance-precision');
  assert.deepEqual(errors, []);
  await ctx.close();
});

// ---------- no empty contact block ----------

test('a pharmacy without a phone says 電話番号は未登録です in the detail and on the printed sheet', async () => {
  const { ctx, page, errors } = await newPage(env);
  const ph = (await api('/facilities?kind=pharmacy&limit=1')).items[0];
  assert.ok(ph, 'the default dataset has pharmacies');
  assert.deepEqual(ph.contacts.filter((c) => c.kind === 'phone'), [], 'precondition: no phone for this pharmacy');
  await page.goto(`${env.base}/?kind=pharmacy&id=${encodeURIComponent(ph.id)}`);
  await settled(page);
  await page.waitForSelector('#detail:not([hidden]) #detail-name');
  assert.equal(await page.textContent('#detail-name'), ph.name);
  assert.equal(await page.textContent('#detail [data-field="contacts"] [data-no-phone]'), '電話番号は未登録です');
  assert.equal(await page.textContent('#detail [data-field="contacts"] li:first-child'), '電話番号は未登録です');
  await shot(page, '16-pharmacy-no-phone');
  await page.click('#lang-toggle');
  assert.equal(await page.textContent('#detail [data-no-phone]'), 'No phone number registered');
  await page.click('#lang-toggle');

  // Printed shortlist.
  await page.click('#detail button[data-act="pin"]');
  await page.click('#tab-shortlist');
  await page.click('#print-shortlist-btn');
  await page.emulateMedia({ media: 'print' });
  const rows = await page.$$eval('#print-area tbody tr', (trs) => trs.map((tr) => [tr.querySelector('strong').textContent, tr.querySelector('[data-col="phone"]').textContent.trim()]));
  assert.deepEqual(rows, [[ph.name, '電話番号は未登録です']]);
  await page.emulateMedia({ media: 'screen' });

  // Printed resource list: every pharmacy row says the same.
  await page.click('#tab-results');
  await page.click('#print-list-btn');
  await page.waitForFunction(() => window.__printCalls === 2);
  await page.emulateMedia({ media: 'print' });
  const phones = await page.$$eval('#print-area tbody [data-col="phone"]', (e) => [...new Set(e.map((x) => x.textContent.trim()))]);
  assert.deepEqual(phones, ['電話番号は未登録です']);
  await page.emulateMedia({ media: 'screen' });
  assert.deepEqual(errors, []);
  await ctx.close();
});

// ---------- search as people type it ----------

test('the search box suggests names and service words as one types; choosing a name opens it', async () => {
  const { ctx, page, errors } = await newPage(env);
  await page.goto(`${env.base}/`);
  await settled(page);
  await page.click('#q');
  await page.keyboard.type('戸田中央');
  await page.waitForSelector('#q-suggest:not([hidden]) li[data-id="navii-1111100026000"]');
  assert.equal(await page.getAttribute('#q', 'aria-expanded'), 'true');
  const first = await page.textContent('#q-suggest li[data-id="navii-1111100026000"]');
  assert.match(first, /^戸田中央総合病院/, 'the everyday name, without 医療法人社団東光会');
  await shot(page, '17-suggest');
  // Keyboard: down to the hospital, Enter.
  const index = await page.getAttribute('#q-suggest li[data-id="navii-1111100026000"]', 'data-i');
  for (let i = 0; i <= Number(index); i++) await page.press('#q', 'ArrowDown');
  await page.press('#q', 'Enter');
  await settled(page);
  await page.waitForSelector('#detail:not([hidden]) #detail-name');
  assert.match(await page.textContent('#detail-name'), /戸田中央総合病院/);
  assert.ok(await page.isHidden('#q-suggest'));
  // A service word is offered as such.
  await page.fill('#q', '');
  await page.click('#q');
  await page.keyboard.type('緩和病');
  await page.waitForSelector('#q-suggest:not([hidden]) li[data-type="term"]');
  assert.match(await page.textContent('#q-suggest li[data-type="term"]'), /緩和病棟/);
  await page.press('#q', 'Escape');
  assert.ok(await page.isHidden('#q-suggest'));
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('a query nothing matches exactly shows near matches with a notice, never an empty page', async () => {
  const { ctx, page, errors } = await newPage(env);
  await page.goto(`${env.base}/`);
  await settled(page);
  await submitQuery(page, '川越 緩和病棟');
  assert.ok(await page.isVisible('#relaxed-note'));
  assert.match(await page.textContent('#relaxed-note'), /完全に一致する結果はありません。近い結果を表示しています/);
  assert.match(await page.textContent('#relaxed-note'), /川越/);
  assert.ok((await listIds(page)).length > 0);
  await shot(page, '18-relaxed');
  // A strict answer hides the notice; the list shows the everyday name first.
  await submitQuery(page, '国立病院機構埼玉病院');
  assert.ok(await page.isHidden('#relaxed-note'));
  assert.equal((await listIds(page))[0], 'navii-1111100728100');
  assert.equal((await page.textContent('#result-list > li:first-child h3')).trim(), '埼玉病院');
  assert.match(await page.textContent('#result-list > li:first-child .official'), /独立行政法人国立病院機構/);
  assert.deepEqual(errors, []);
  await ctx.close();
});

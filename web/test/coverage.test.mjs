// End-to-end test of 「地域の不足」 (issue 13, coverage) in headless Chromium against the real
// binary: the choropleth of the ten 二次医療圏 with its legend, the table equivalent agreeing
// with /api/v1/coverage, switching measure and service, the printed one-page A4 area report,
// and the English labels. Public: no account needed.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, newPage, settled, shot } from './harness.mjs';

let env;
before(async () => { env = await setup(); });
after(async () => { if (env) await env.close(); });

async function coverageTab(page) {
  await page.goto(`${env.base}/`);
  await settled(page);
  await page.click('#tab-coverage');
  await page.waitForFunction(() => document.body.dataset.coverage === 'ready' && document.querySelectorAll('#cv-table tbody tr').length > 0);
}

const api = (page, path) => page.evaluate(async (p) => (await fetch(`/api/v1${p}`)).json(), path);

test('the coverage choropleth, its legend and its table agree with the API', async () => {
  const { page, errors } = await newPage(env);
  await coverageTab(page);
  assert.ok(await page.isVisible('#coverage'));
  assert.ok(!(await page.isVisible('#search-form')), 'the search form steps aside');

  // Ten areas on the map, each filled with a class colour, and the legend on the map.
  const areas = await page.$$eval('#map path.cv-area', (ps) => ps.map((p) => p.getAttribute('class')));
  assert.equal(areas.length, 10);
  assert.ok(areas.every((c) => /cv-class-\d/.test(c)), areas.join(' '));
  assert.ok(await page.isVisible('.cv-map-legend'));
  assert.equal(await page.$$eval('#cv-legend li', (l) => l.length), 6, 'five classes and “no data”');

  // The table: a row per area, the same figures as the API (home_care_support, 10 km).
  const body = await api(page, '/coverage?service=home_care_support&km=10');
  const rows = await page.$$eval('#cv-table tbody tr', (trs) => trs.map((tr) => ({
    area: tr.dataset.area,
    name: tr.querySelector('th').textContent,
    cells: [...tr.querySelectorAll('td')].map((td) => td.textContent.trim()),
  })));
  assert.equal(rows.length, 10);
  for (const item of body.items) {
    const row = rows.find((r) => r.area === item.area);
    assert.ok(row, item.area);
    const s = item.services[0];
    assert.equal(row.name, item.name);
    assert.equal(row.cells[0], item.population.toLocaleString());
    assert.equal(row.cells[1], String(s.providers));
    assert.equal(row.cells[3], `${(s.share_farther * 100).toFixed(1)}%`);
    assert.equal(row.cells[4], `${(s.share_outside * 100).toFixed(1)}%`, 'home visits: outside the 16 km circles');
  }
  assert.match(await page.textContent('#cv-table caption'), /在宅療養支援診療所・病院/);
  await shot(page, 'coverage-map');

  // Per 100,000: the legend and the classes follow; PCU has no service areas to be outside of.
  await page.check('input[name="cv-measure"][value="per100k"]');
  assert.match(await page.textContent('#cv-legend'), /人口10万人あたり/);
  await page.selectOption('#cv-service', 'pcu');
  await page.waitForFunction(() => document.body.dataset.coverage === 'ready' && /緩和ケア病棟/.test(document.querySelector('#cv-table caption')?.textContent || ''));
  assert.ok(await page.isDisabled('input[name="cv-measure"][value="outside"]'));
  const pcu = await api(page, '/coverage?service=pcu&km=10');
  const chichibu = pcu.items.find((i) => i.area === '1110').services[0];
  const cell = await page.textContent('#cv-table tr[data-area="1110"] td:nth-of-type(3)');
  assert.equal(cell.trim(), chichibu.per_100k.toFixed(1));
  assert.equal(await page.getAttribute('#cv-csv', 'href'), '/api/v1/coverage?service=pcu&km=10&format=csv');

  // A farther distance asks the API again.
  await page.check('input[name="cv-measure"][value="farther"]');
  await page.selectOption('#cv-km', '30');
  await page.waitForFunction(() => /30 km/.test(document.querySelector('#cv-table thead')?.textContent || ''));
  const far = await api(page, '/coverage?service=pcu&km=30');
  const f = far.items.find((i) => i.area === '1110').services[0];
  const shown = await page.textContent('#cv-table tr[data-area="1110"] td:nth-of-type(4)');
  assert.equal(shown.trim(), `${(f.share_farther * 100).toFixed(1)}%`);
  assert.deepEqual(errors, []);
});

test('the area report prints on one A4 page, every service listed', async () => {
  const { page, errors } = await newPage(env);
  await coverageTab(page);
  await page.click('#cv-table tr[data-area="1110"] .cv-print');
  await page.waitForFunction(() => window.__printCalls === 1);
  const report = await page.$('#print-area .print-coverage[data-area="1110"]');
  assert.ok(report, 'the report of 秩父');
  const vocab = await api(page, '/vocabulary');
  assert.equal(await page.$$eval('#print-area tbody tr', (r) => r.length), vocab.services.length);
  assert.match(await page.textContent('#print-area h1'), /秩父/);
  assert.match(await page.textContent('#print-area'), /e-Stat/);
  await page.emulateMedia({ media: 'print' });
  // A4 less the 12 mm margins is 273 mm tall: nothing may be cut off below it.
  const { height, full } = await page.$eval('#print-area .print-coverage', (el) => ({ height: el.clientHeight, full: el.scrollHeight }));
  const a4 = (273 / 25.4) * 96;
  assert.ok(full <= a4 + 1, `the report is ${full}px tall, one page holds ${a4.toFixed(0)}px`);
  assert.ok(height > 200);
  await shot(page, 'coverage-report');
  await page.emulateMedia({ media: 'screen' });
  assert.deepEqual(errors, []);
});

test('in English the panel and the legend speak English', async () => {
  const { page, errors } = await newPage(env);
  await coverageTab(page);
  await page.click('#lang-toggle');
  await page.waitForFunction(() => /Gaps by secondary medical area/.test(document.querySelector('#coverage-heading').textContent));
  assert.match(await page.textContent('#cv-legend'), /Share of the population farther than 10 km/);
  assert.match(await page.textContent('#cv-table thead'), /Population/);
  assert.deepEqual(errors, []);
});

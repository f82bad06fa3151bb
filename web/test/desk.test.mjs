// End-to-end test of 「調整員の机」 (issue 13) in headless Chromium against the real binary:
// a coordinator of さいたま (PALLIMAP_E2E_COORDINATOR, area 1104) uploads a Shift_JIS CSV made
// here with one bad phone, sees that row rejected naming 電話番号 with 反映 disabled, uploads the
// fixed file, applies it and finds the new clinics in the list and on the map; the queue of
// entries due for checking gives a CSV of update links; a citizen reports a correction from a
// detail panel (the honeypot out of reach) and the coordinator closes it in 修正依頼.
// It writes to the shared database: two clinics of さいたま, one closed report and a few update
// links; no other test counts those.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { setup, newPage, settled, mapCount, shot } from './harness.mjs';

const ACC = {
  coordinator: process.env.PALLIMAP_E2E_COORDINATOR, // area 1104 さいたま
  password: process.env.PALLIMAP_E2E_PASSWORD,
};
const missing = Object.entries(ACC).filter(([, v]) => !v).map(([k]) => k);
const onCi = ['true', '1'].includes(process.env.CI || '');
if (missing.length && onCi) throw new Error(`CI=true but the desk e2e tests have no accounts: missing ${missing.join(', ')}`);
const skip = missing.length ? `SKIPPED: no test accounts (PALLIMAP_E2E_* missing: ${missing.join(', ')})` : false;
if (skip) console.log(`# ${skip}`);

let env;
before(async () => { if (!skip) env = await setup(); });
after(async () => { if (env) await env.close(); });

// ---------- Shift_JIS, as Excel saves a CSV ----------

/** The reverse of the WHATWG Shift_JIS decoder: every character it decodes, to its bytes. */
function sjisTable() {
  const dec = new TextDecoder('shift_jis', { fatal: true });
  const table = new Map();
  const leads = [];
  for (let b = 0x81; b <= 0x9f; b += 1) leads.push(b);
  for (let b = 0xe0; b <= 0xfc; b += 1) leads.push(b);
  for (const lead of leads) {
    for (let trail = 0x40; trail <= 0xfc; trail += 1) {
      if (trail === 0x7f) continue;
      let ch;
      try { ch = dec.decode(Uint8Array.of(lead, trail)); } catch { continue; }
      // Keep the first (JIS X 0208) code of characters NEC / IBM extensions repeat.
      if ([...ch].length === 1 && !table.has(ch)) table.set(ch, [lead, trail]);
    }
  }
  for (let b = 0xa1; b <= 0xdf; b += 1) table.set(dec.decode(Uint8Array.of(b)), [b]);
  return table;
}

let SJIS = null;
function sjis(text) {
  SJIS ||= sjisTable();
  const out = [];
  for (const ch of text) {
    const c = ch.codePointAt(0);
    if (c < 0x80) { out.push(c); continue; }
    const bytes = SJIS.get(ch);
    if (!bytes) throw new Error(`no Shift_JIS code for ${ch}`);
    out.push(...bytes);
  }
  return Buffer.from(out);
}

const HEADER = '施設ID,種別,名称,フリガナ,所在地,緯度,経度,電話番号,サービス,最終確認日';
const NEW = [
  { name: '見沼ほたる在宅クリニック', kana: 'ミヌマホタルザイタククリニック', address: '埼玉県さいたま市浦和区北浦和4-5-1', lat: '', lng: '', phone: '048-000-1401', services: 'home_care_support;訪問診療' },
  { name: '大宮すずかけ診療所', kana: '', address: '埼玉県さいたま市大宮区桜木町1-7-5', lat: '35.9063', lng: '139.6238', phone: '048-000-1402', services: '' },
];
const csvRow = (c, phone = c.phone) => [',診療所', c.name, c.kana, c.address, c.lat, c.lng, phone, c.services, '令和6年4月1日'].join(',');
const BAD_CSV = [HEADER, csvRow(NEW[0]), csvRow(NEW[1], '048-12')].join('\r\n') + '\r\n';
const GOOD_CSV = [HEADER, csvRow(NEW[0]), csvRow(NEW[1])].join('\r\n') + '\r\n';

// ---------- helpers ----------

/** Console and HTTP errors except the statuses a test provokes on purpose. */
function unexpected(errors, statuses = []) {
  return errors.filter((e) => !statuses.some((s) => e.includes(`HTTP ${s} `) || e.includes(`status of ${s}`)));
}

async function signedIn(page, email = ACC.coordinator) {
  await page.goto(`${env.base}/`);
  await settled(page);
  await page.click('#pro-signin');
  await page.fill('#signin-email', email);
  await page.fill('#signin-password', ACC.password);
  await page.click('#signin-submit');
  await page.waitForSelector('#account-who');
  await settled(page);
}

async function openDesk(page, part) {
  await page.click('#tab-desk');
  await page.waitForSelector('#desk:not([hidden]) #desk-heading');
  if (part) {
    await page.click(`#desk-part-${part}`);
    assert.equal(await page.getAttribute(`#desk-part-${part}`, 'aria-pressed'), 'true');
  }
}

async function check(page, name, csv) {
  await page.setInputFiles('#imp-file', { name, mimeType: 'text/csv', buffer: sjis(csv) });
  await page.click('#imp-check');
  await page.waitForFunction((n) => (document.querySelector('#imp-summary')?.textContent || '').startsWith(n), name);
  await settled(page);
}

const summary = (page) => page.$eval('#imp-summary', (el) => ({ ...el.dataset }));
const rejected = (page) => page.$eval('#imp-preview', (el) => Number(el.dataset.rejected));

// ---------- tests ----------

test('the desk is for coordinators only', { skip }, async () => {
  const { page, errors } = await newPage(env);
  await page.goto(`${env.base}/`);
  await settled(page);
  assert.ok(await page.$eval('#tab-desk', (b) => b.hidden), 'the public has no desk');
  await page.click('#pro-signin');
  await page.fill('#signin-email', ACC.coordinator);
  await page.fill('#signin-password', ACC.password);
  await page.click('#signin-submit');
  await page.waitForSelector('#account-who');
  await settled(page);
  assert.ok(await page.isVisible('#tab-desk'));
  assert.equal(await page.textContent('#tab-desk'), '調整員の机');
  await openDesk(page);
  assert.ok(!(await page.isVisible('#search-form')), 'the search form steps aside');
  assert.equal(await page.getAttribute('#desk-part-import', 'aria-pressed'), 'true');
  assert.equal(await page.getAttribute('#imp-template-csv', 'href'), '/api/v1/import/template.csv');
  assert.equal(await page.getAttribute('#imp-template-xlsx', 'href'), '/api/v1/import/template.xlsx');
  assert.ok(await page.isDisabled('#imp-apply'), '反映 waits for a checked file');
  // 確認 without a file says so.
  await page.click('#imp-check');
  assert.equal(await page.textContent('#imp-msg'), 'ファイルを選んでください。');
  // In English the desk speaks English.
  await page.click('#lang-toggle');
  assert.equal(await page.textContent('#tab-desk'), 'Coordinator\u2019s desk');
  assert.equal(await page.textContent('#desk-part-stale'), 'Due for checking');
  assert.equal(await page.textContent('#imp-check'), 'Check');
  await page.click('#lang-toggle');
  assert.equal(await page.textContent('#imp-check'), '確認');
  // Signing out takes the desk away.
  await page.click('#sign-out');
  await page.waitForSelector('#pro-signin');
  await settled(page);
  assert.ok(await page.$eval('#tab-desk', (b) => b.hidden));
  assert.ok(await page.isVisible('#results'), 'back to the results');
  assert.deepEqual(unexpected(errors), []);
});

test('a Shift_JIS file: one row rejected naming 電話番号, fixed, applied and found on the map', { skip }, async () => {
  const { page, errors } = await newPage(env);
  await signedIn(page);
  await openDesk(page, 'import');

  // The file with a bad phone: row 3 (the header is row 1) is rejected, nothing can be applied.
  await check(page, 'desk-e2e-bad.csv', BAD_CSV);
  let s = await summary(page);
  assert.deepEqual([s.rows, s.created, s.updated, s.unchanged], ['2', '1', '0', '0']);
  assert.equal(await rejected(page), 1);
  assert.match(await page.textContent('#imp-summary'), /（CSV・Shift_JIS）/);
  assert.ok(await page.isDisabled('#imp-apply'), '反映 disabled while a row is rejected');
  assert.match(await page.textContent('#imp-note'), /反映できません/);
  const first = await page.$eval('#imp-table tbody tr', (tr) => ({
    action: tr.dataset.action,
    column: tr.dataset.column,
    cells: [...tr.querySelectorAll('td')].map((td) => td.textContent.trim()),
  }));
  assert.equal(first.action, 'reject', 'rejected rows first');
  assert.equal(first.column, 'phone');
  assert.deepEqual(first.cells.slice(0, 4), ['3', 'エラー', NEW[1].name, '電話番号']);
  assert.match(first.cells[4], /048-12/);
  const second = await page.$eval('#imp-table tbody tr:nth-child(2)', (tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent.trim()));
  assert.deepEqual(second.slice(0, 3), ['2', '新規', NEW[0].name]);
  await shot(page, 'desk-import-rejected');

  // Choosing another file drops the preview of the one before.
  await page.setInputFiles('#imp-file', { name: 'desk-e2e.csv', mimeType: 'text/csv', buffer: sjis(GOOD_CSV) });
  assert.equal(await page.$('#imp-preview'), null);
  assert.ok(await page.isDisabled('#imp-apply'));

  // The fixed file: nothing rejected, 反映 enabled; applied.
  await check(page, 'desk-e2e.csv', GOOD_CSV);
  s = await summary(page);
  assert.deepEqual([s.rows, s.created, s.updated, s.unchanged], ['2', '2', '0', '0']);
  assert.equal(await rejected(page), 0);
  assert.ok(!(await page.isDisabled('#imp-apply')));
  await page.click('#imp-apply');
  await page.waitForSelector('#imp-msg.ok-msg:not([hidden])');
  await settled(page);
  assert.equal(await page.textContent('#imp-msg'), '反映しました: 新規 2 件・更新 0 件。地図と一覧に表示されています。');
  assert.ok(await page.isDisabled('#imp-apply'), 'applied once');
  assert.equal(await page.$$eval('#imp-applied li', (l) => l.length), 2);

  // The same file again changes nothing.
  await check(page, 'desk-e2e.csv', GOOD_CSV);
  s = await summary(page);
  assert.deepEqual([s.created, s.updated, s.unchanged], ['0', '0', '2']);
  assert.ok(await page.isDisabled('#imp-apply'));
  assert.equal(await page.textContent('#imp-note'), '変更する行はありません。');

  // Both new clinics are found by name at once, in the list and on the map.
  for (const c of NEW) {
    await page.click('#tab-results');
    await page.fill('#q', c.name);
    await page.click('#search-btn');
    await settled(page);
    const ids = await page.$$eval('#result-list .item', (lis) => lis.map((li) => ({ id: li.dataset.id, name: li.querySelector('h3').textContent })));
    const hit = ids.find((x) => x.name.includes(c.name));
    assert.ok(hit, `${c.name} in the list: ${JSON.stringify(ids)}`);
    const m = await mapCount(page);
    assert.ok(m.total >= 1, `${c.name} on the map`);
    const onMap = await page.$$eval('#map .leaflet-marker-pane [data-id]', (els) => els.map((e) => e.dataset.id));
    assert.ok(onMap.includes(hit.id), `${c.name} (${hit.id}) is a marker: ${onMap.join(' ')}`);
    await page.click(`#result-list .item[data-id="${hit.id}"] button.name`);
    await page.waitForSelector('#detail:not([hidden]) #detail-name');
    assert.equal(await page.textContent('#detail-name'), c.name);
    assert.equal(await page.textContent('#detail dd[data-field="verified_at"]'), '2024-04-01');
  }
  await shot(page, 'desk-import-found');
  assert.deepEqual(unexpected(errors, [422]), []);
});

test('確認期限: the queue of entries due, and a CSV of update links for those chosen', { skip }, async () => {
  const { page, errors } = await newPage(env);
  await signedIn(page);
  await openDesk(page, 'stale');
  await page.waitForSelector('#stale-table tbody tr');
  const api = await page.evaluate(async () => (await fetch('/api/v1/review/stale?months=12')).json());
  const total = Number(await page.getAttribute('#stale-count', 'data-total'));
  assert.equal(total, api.total);
  const shown = await page.$$eval('#stale-table tbody tr', (trs) => trs.map((tr) => tr.dataset.id));
  assert.deepEqual(shown, api.items.map((i) => i.id), 'oldest first, as the API orders them');
  assert.ok(await page.isDisabled('#stale-links'), 'nothing chosen yet');

  // Another span asks again.
  await page.selectOption('#stale-months', '36');
  await settled(page);
  const api36 = await page.evaluate(async () => (await fetch('/api/v1/review/stale?months=36&area=1104')).json());
  await page.selectOption('#stale-area', '1104');
  await settled(page);
  assert.equal(await page.getAttribute('#stale-count', 'data-total'), String(api36.total));

  const two = api36.items.slice(0, 2);
  for (const i of two) await page.check(`#stale-table input[data-stale-id="${i.id}"]`);
  assert.equal(await page.textContent('#stale-selected'), '2 件を選択中');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#stale-links')]);
  assert.match(download.suggestedFilename(), /^pallimap-update-links-\d{4}-\d{2}-\d{2}\.csv$/);
  const bytes = await readFile(await download.path());
  assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'a BOM, so Excel reads UTF-8');
  const lines = bytes.subarray(3).toString('utf8').trim().split(/\r?\n/);
  assert.equal(lines[0], '施設ID,名称,電話番号,更新用リンク,有効期限');
  assert.equal(lines.length, 3);
  assert.deepEqual(lines.slice(1).map((l) => l.split(',')[0]), two.map((i) => i.id));
  for (const l of lines.slice(1)) assert.match(l, /\/update\.html#/);
  assert.match(await page.textContent('#stale-msg'), /2 件の更新用リンクを発行/);
  assert.ok(await page.isDisabled('#stale-links'), 'the selection is cleared');
  assert.deepEqual(unexpected(errors), []);
});

test('a citizen reports a correction; the coordinator sees it in 修正依頼 and closes it', { skip }, async () => {
  // A real dental clinic of さいたま (area 1104).
  const probe = await newPage(env);
  await probe.page.goto(`${env.base}/`);
  const list = await probe.page.evaluate(async () => (await fetch('/api/v1/facilities?area=1104&kind=dental_clinic&limit=1&sort=name')).json());
  const f = list.items[0];
  await probe.ctx.close();

  const { page, errors } = await newPage(env);
  await page.goto(`${env.base}/?id=${f.id}`);
  await settled(page);
  await page.waitForSelector('#detail:not([hidden]) #detail-name');
  const full = await page.evaluate(async (id) => (await fetch(`/api/v1/facilities/${id}`)).json(), f.id);
  assert.equal(await page.textContent('#detail dd[data-field="verified_at"]'), full.verified_at || '未確認');
  assert.equal(await page.textContent('#detail dd[data-field="source_snapshot"]'), full.source_snapshot || '不明');
  assert.match(await page.textContent('#detail .dates'), /最終確認日.*出典の時点|出典の時点.*最終確認日/s);

  // The form opens from its button; the honeypot is out of sight and out of reach.
  assert.equal(await page.textContent('#corr-toggle'), '情報の修正を依頼');
  assert.ok(!(await page.isVisible('#corr-form')));
  await page.click('#corr-toggle');
  assert.equal(await page.getAttribute('#corr-toggle', 'aria-expanded'), 'true');
  assert.ok(await page.isVisible('#corr-what'));
  assert.equal(await page.evaluate(() => document.activeElement.id), 'corr-what');
  const hp = await page.$eval('#corr-website', (el) => {
    const r = el.getBoundingClientRect();
    return {
      type: el.type,
      tabindex: el.getAttribute('tabindex'),
      autocomplete: el.getAttribute('autocomplete'),
      hidden: !!el.closest('[aria-hidden="true"]'),
      onScreen: r.right > 0 && r.bottom > 0 && r.left < innerWidth && r.top < innerHeight && r.width > 1,
    };
  });
  assert.deepEqual(hp, { type: 'text', tabindex: '-1', autocomplete: 'off', hidden: true, onScreen: false });
  await page.focus('#corr-contact');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'corr-send', 'Tab skips the honeypot');

  // Nothing said: the form says what is missing.
  await page.click('#corr-send');
  assert.equal(await page.textContent('#corr-what-error'), '修正してほしい内容を書いてください。');
  assert.equal(await page.getAttribute('#corr-what', 'aria-invalid'), 'true');

  // Too many reports: the wait is shown (a 429 the test makes, the server's limit is per hour).
  await page.route('**/api/v1/facilities/*/corrections', (route) => route.fulfill({
    status: 429,
    headers: { 'retry-after': '120', 'content-type': 'application/problem+json' },
    body: JSON.stringify({ status: 429, title: 'Too many requests', detail: '修正依頼が多すぎます。 / Too many reports.' }),
  }));
  const what = `電話番号が変わっています（048-000-9999）。e2e ${Date.now()}`;
  await page.fill('#corr-what', what);
  await page.click('#corr-send');
  await page.waitForSelector('#corr-msg:not([hidden])');
  assert.equal(await page.textContent('#corr-msg'), 'しばらくしてからもう一度お試しください（120 秒後）。');
  await page.unroute('**/api/v1/facilities/*/corrections');

  await page.fill('#corr-contact', 'e2e-citizen@example.jp');
  await page.click('#corr-send');
  await page.waitForSelector('#corr-thanks');
  assert.equal(await page.textContent('#corr-thanks'), 'ありがとうございます。修正の依頼を受け付けました。地域の担当者が確認します。');
  assert.ok(!(await page.$('#corr-form')), 'the form is gone; nothing else is shown');
  await shot(page, 'desk-correction-sent');
  assert.deepEqual(unexpected(errors, [429]), []);

  // The coordinator of さいたま: the report is in 修正依頼 with its contact; closed with a note.
  const c = await newPage(env);
  await signedIn(c.page);
  await openDesk(c.page, 'corrections');
  await c.page.waitForFunction(() => document.body.dataset.deskCorrections === 'ready');
  const item = c.page.locator('#corr-list .corr-item', { hasText: what });
  await item.waitFor();
  assert.equal(await item.getAttribute('data-id'), f.id);
  assert.equal(await item.getAttribute('data-status'), 'open');
  assert.equal(await item.locator('h3').textContent(), f.name);
  assert.equal(await item.locator('[data-contact]').textContent(), '連絡先: e2e-citizen@example.jp');
  assert.match(await c.page.textContent('#desk-part-corrections'), /^修正依頼（\d+）$/);
  const id = await item.getAttribute('data-correction');
  await item.locator('textarea').fill('電話番号を直しました');
  await item.locator('[data-close]').click();
  await c.page.waitForSelector('#corr-list-msg.ok-msg:not([hidden])');
  assert.equal(await c.page.textContent('#corr-list-msg'), '対応済みにしました。');
  assert.equal(await c.page.$(`#corr-list [data-correction="${id}"]`), null, 'no longer open');
  await c.page.selectOption('#corr-status', 'closed');
  const closed = c.page.locator(`#corr-list [data-correction="${id}"]`);
  await closed.waitFor();
  assert.equal(await closed.getAttribute('data-status'), 'closed');
  assert.match(await closed.locator('.decided').textContent(), /対応済み（コーディネーター（[^）]+）、[^）]+）[\s\S]*記録: 電話番号を直しました/);
  await shot(c.page, 'desk-corrections');
  assert.deepEqual(unexpected(c.errors), []);
});

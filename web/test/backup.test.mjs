// End-to-end tests of 「今夜の入院先」 (issue 11) in headless Chromium against the real binary
// started with --with-sample: the physician's ranked list, a ward nurse's update link on a
// phone, the list reordering without a reload, nothing of it for the public, and the
// coordinator's forms, links and review queue. tests/web/mod.rs makes the accounts
// (PALLIMAP_E2E_*) and the ward's one-time link (PALLIMAP_E2E_UPDATE_LINK for
// PALLIMAP_E2E_LINK_FACILITY).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, newPage, settled, shot } from './harness.mjs';

const ACC = {
  professional: process.env.PALLIMAP_E2E_PROFESSIONAL,
  coordinator: process.env.PALLIMAP_E2E_COORDINATOR, // area 1104 さいたま
  password: process.env.PALLIMAP_E2E_PASSWORD,
  link: process.env.PALLIMAP_E2E_UPDATE_LINK,
  linkFacility: process.env.PALLIMAP_E2E_LINK_FACILITY,
};
const missing = Object.entries(ACC).filter(([, v]) => !v).map(([k]) => k);
const onCi = ['true', '1'].includes(process.env.CI || '');
if (missing.length && onCi) throw new Error(`CI=true but the backup e2e tests lack: ${missing.join(', ')}`);
const skip = missing.length ? `SKIPPED: PALLIMAP_E2E_* missing: ${missing.join(', ')}` : false;
if (skip) console.log(`# ${skip}`);

const ADDRESS = '春日部市中央1-1';
const PHONE = { width: 390, height: 844 };
// さいたま市立病院 (area 1104, a PCU): the coordinator's forms and links; far from the 春日部 tests' need.
const CITY = { id: 'navii-1111103894200', name: 'さいたま市立病院', phone: '048-873-4111' };
const RANK = { accepting: 0, limited: 1, unknown: 2, not_accepting: 3 };

let env;
before(async () => { if (!skip) env = await setup(); });
after(async () => { if (env) await env.close(); });

function unexpected(errors, statuses = []) {
  return errors.filter((e) => !statuses.some((s) => e.includes(`HTTP ${s} `) || e.includes(`status of ${s}`)));
}

async function signedIn(page, email) {
  await page.click('#pro-signin');
  await page.fill('#signin-email', email);
  await page.fill('#signin-password', ACC.password);
  await page.click('#signin-submit');
  await page.waitForSelector('#account-who');
  await settled(page);
}

/** The physician's screen: sign in, open 今夜の入院先, type the address, choose 後方支援病院. */
async function backupScreen(page) {
  await page.goto(`${env.base}/`);
  await settled(page);
  await signedIn(page, ACC.professional);
  assert.ok(await page.isVisible('#tab-backup'), 'the tab shows once signed in');
  await page.click('#tab-backup');
  assert.ok(await page.isVisible('#backup'));
  await page.fill('#backup-address', ADDRESS);
  await page.click('#backup-need-row [data-need="backup"]');
  await page.waitForSelector('#backup-list > li');
  await settled(page);
}

/** What the API answers the page's own session (the oracle for the list's order and words). */
async function apiBackup(page, query) {
  return page.evaluate(async (q) => (await fetch(`/api/v1/backup?${q}`)).json(), query);
}

const listed = (page) => page.$$eval('#backup-list > li', (lis) => lis.map((li) => ({
  id: li.dataset.id,
  status: li.dataset.status,
  name: li.querySelector('h3 button.name').textContent,
  badge: li.querySelector('.bk-status .status-badge').textContent,
})));

// Independent of the page's code: the words a status must read as, for a fresh or a stale one.
const STATUS_JA = { accepting: '受入可', limited: '要相談', not_accepting: '受入不可', unknown: '不明' };
const AGE_JA = /^(たった今|[1-5]?\d分前|(1?\d|2[0-3])時間前|\d+日前)$/;
function staleText(at) {
  const p = Object.fromEntries(new Intl.DateTimeFormat('en-US', {
    timeZone: 'Asia/Tokyo', year: 'numeric', month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
  }).formatToParts(new Date(at)).map((x) => [x.type, x.value]));
  const year = new Intl.DateTimeFormat('en-US', { timeZone: 'Asia/Tokyo', year: 'numeric' }).format(new Date());
  return `不明（${p.year === year ? '' : `${p.year}/`}${p.month}/${p.day} ${p.hour}:${p.minute} 以降更新なし）`;
}
function checkBadge(text, cap, what) {
  if (!cap || !cap.updated_at) { assert.equal(text, '不明（報告なし）', what); return; }
  if (cap.stale) { assert.equal(text, staleText(cap.updated_at), what); return; }
  const [word, age] = text.split('・');
  assert.equal(word, STATUS_JA[cap.status], what);
  assert.match(age, AGE_JA, what);
}
const ROUTE_JA = { phone: '電話', fax: 'FAX', web: 'Webフォーム' };
function routeJa(r) {
  if (r.kind === 'ict') return `${r.value}（ICT）${r.label ? `（${r.label}）` : ''}`;
  return `${ROUTE_JA[r.kind]} ${r.value}${r.label ? `（${r.label}）` : ''}`;
}
const lead = (it) => it.services.find((s) => (s.capacity && !s.capacity.stale ? s.capacity.status : 'unknown') === it.status) || it.services[0];

test('a professional types a 春日部市 address and sees accepting backup hospitals first, with the request route valid now', { skip }, async () => {
  const { ctx, page, errors } = await newPage(env);
  await backupScreen(page);
  const res = await apiBackup(page, `address=${encodeURIComponent(ADDRESS)}&need=backup`);
  assert.deepEqual(res.need, ['backup_hospital']);
  assert.ok(res.items.length >= 3, `several backup hospitals near ${ADDRESS}: ${res.items.length}`);
  const rows = await listed(page);
  assert.deepEqual(rows.map((r) => r.id), res.items.map((i) => i.id), 'the list in the order the API ranks');
  assert.deepEqual(rows.map((r) => r.name), res.items.map((i) => i.everyday_name || i.name));
  // Ranked: accepting first, then limited, unknown, not accepting; the first accepts.
  const ranks = rows.map((r) => RANK[r.status]);
  assert.deepEqual(ranks, [...ranks].sort((a, b) => a - b), `ranked by status: ${rows.map((r) => r.status)}`);
  assert.equal(rows[0].status, 'accepting');
  assert.equal(await page.textContent('#backup-count'), `${res.total} 件（半径 ${res.radius_km} km）`);
  for (const [i, it] of res.items.entries()) checkBadge(rows[i].badge, lead(it).capacity, it.name);
  assert.match(rows[0].badge, /^受入可・/);

  // The first one: the route to use now, whether requests are taken now, the rules card, an action.
  const first = res.items[0];
  const svc = first.services.find((s) => s.kind === 'backup_hospital');
  assert.ok(svc.route_now, 'the first accepting hospital has a route valid now');
  const li = `#backup-list > li[data-id="${first.id}"] [data-service="backup_hospital"]`;
  const open = svc.requests_open === true ? '受付中' : svc.requests_open === false ? '受付時間外' : '受付時間不明';
  assert.equal(await page.textContent(`${li} [data-route-now]`), `今の依頼先: ${routeJa(svc.route_now)} ・ ${open}`);
  const card = (await page.textContent(`${li} .rules-card`)).trim();
  assert.ok(card.startsWith(routeJa(svc.route_now)), `the rules card starts with the route: ${card}`);
  if (svc.admission_rules && svc.admission_rules.max_stay_days) assert.ok(card.includes(`最長${svc.admission_rules.max_stay_days}日`), card);
  if (svc.route_now.kind === 'phone') {
    assert.equal(await page.getAttribute(`${li} a.call`, 'href'), `tel:${svc.route_now.value.replace(/[^0-9+]/g, '')}`);
  } else if (svc.route_now.kind === 'fax') {
    assert.equal(await page.textContent(`${li} [data-copy]`), `FAX番号をコピー ${svc.route_now.value}`);
  }
  // 事前登録要 stands out wherever a hospital needs it; サンプル wherever the data is sample.
  for (const it of res.items) {
    const row = `#backup-list > li[data-id="${it.id}"]`;
    const prereg = it.services.some((s) => s.registered_in_advance);
    assert.equal(!!(await page.$(`${row} [data-prereg-badge]`)), prereg, `${it.name}: 事前登録要 badge`);
    const sample = it.sample || it.services.some((s) => s.capacity && s.capacity.sample);
    assert.equal((await page.$$(`${row} [data-sample]`)).length > 0, sample, `${it.name}: サンプル`);
  }
  assert.ok(res.items.some((it) => it.sample), 'the sample data is loaded (--with-sample)');
  assert.ok(await page.isVisible('#backup-sample-note'));

  // The map: one marker per located hospital, each with its status and age.
  const located = res.items.filter((it) => it.location);
  const markers = await page.$$eval('#map .pm-bk', (ms) => ms.map((m) => ({
    id: m.querySelector('[data-backup-id]').dataset.backupId, badge: m.querySelector('.pm-bk-badge').textContent,
  })));
  assert.equal(markers.length, located.length);
  // Each marker sits on its hospital (its pin's centre on the projected point).
  const off = await page.evaluate((pts) => {
    const map = window.__pallimap.map.map;
    const box = document.querySelector('#map').getBoundingClientRect();
    return pts.map((it) => {
      const p = map.latLngToContainerPoint([it.location.lat, it.location.lng]);
      const r = document.querySelector(`#map [data-backup-id="${it.id}"]`).getBoundingClientRect();
      return Math.hypot(r.x + r.width / 2 - box.x - p.x, r.y + r.height / 2 - box.y - p.y);
    });
  }, located);
  assert.ok(off.every((d) => d < 2), `markers on their points (px off): ${off.map((d) => d.toFixed(1))}`);
  const firstMarker = markers.find((m) => m.id === first.id);
  assert.equal(firstMarker.badge, rows[0].badge);
  assert.ok(await page.$('#map [data-home]'), 'the patient\u2019s home is on the map');
  await shot(page, 'bk-01-physician-list');

  // Printable: a table with a row per hospital, its status with the age and the route.
  await page.click('#print-backup-btn');
  assert.equal(await page.evaluate(() => window.__printCalls), 1);
  assert.equal(await page.getAttribute('body', 'data-print'), 'backup');
  assert.equal(await page.$$eval('#print-area .print-backup tbody tr', (r) => r.length), res.items.length);
  const printed = await page.textContent('#print-area .print-backup tbody tr:first-child');
  assert.ok(printed.includes(first.everyday_name || first.name) && printed.includes(rows[0].badge) && printed.includes(routeJa(svc.route_now)), printed);
  await page.emulateMedia({ media: 'print' });
  assert.ok(await page.isVisible('#print-area .print-backup'));
  assert.ok(await page.isHidden('#app'));
  await page.emulateMedia({ media: 'screen' });
  assert.deepEqual(unexpected(errors), []);
  await ctx.close();
});

test('a ward nurse sets 受入不可 through an update link on a phone and the physician\u2019s list reorders without a reload', { skip }, async () => {
  const doc = await newPage(env);
  await backupScreen(doc.page);
  const before = await listed(doc.page);
  const mine = before.find((r) => r.id === ACC.linkFacility);
  assert.ok(mine, `${ACC.linkFacility} is in the physician's list`);
  assert.notEqual(mine.status, 'not_accepting');

  // The nurse: a phone, no account, the link as the coordinator sent it.
  const nurse = await newPage(env, { viewport: PHONE });
  const hash = new URL(ACC.link).hash;
  await nurse.page.goto(`${env.base}/update.html${hash}`);
  await nurse.page.waitForFunction(() => document.body.dataset.ready === '1');
  const view = await (await fetch(`${env.base}/api/v1/update-links/${encodeURIComponent(hash.slice(1))}`)).json();
  assert.equal(await nurse.page.textContent('#upd-name'), view.facility.name);
  assert.deepEqual(await nurse.page.$$eval('.upd-svc', (s) => s.map((x) => x.dataset.service)), view.capacity_services);
  assert.equal(await nurse.page.getAttribute('#upd-kind', 'data-kind'), 'one_time');
  const btn = '.upd-svc[data-service="backup_hospital"] [data-set="not_accepting"]';
  assert.equal(await nurse.page.textContent(btn), '受入不可');
  // Phone-sized: three buttons side by side, each big enough for a thumb, nothing wider than the screen.
  const box = await nurse.page.locator(btn).boundingBox();
  assert.ok(box.height >= 48 && box.width >= 100, `a big button: ${JSON.stringify(box)}`);
  assert.ok(await nurse.page.evaluate(() => document.documentElement.scrollWidth <= 390), 'no sideways scrolling');
  await nurse.page.click(btn);
  assert.equal(await nurse.page.getAttribute(btn, 'aria-pressed'), 'true');
  await shot(nurse.page, 'bk-02-nurse-phone');
  await nurse.page.click('#upd-send');
  await nurse.page.waitForSelector('#upd-done');
  assert.equal((await nurse.page.textContent('#upd-done')).trim(),
    '送信しました。ありがとうございました。受け入れ状況を更新しました（1件）。このリンクは使用済みになりました。次回はコーディネーターに新しいリンクを依頼してください。');
  assert.equal(await nurse.page.textContent('.upd-svc[data-service="backup_hospital"] .upd-now .status-badge'), '受入不可・たった今');
  await shot(nurse.page, 'bk-03-nurse-sent');

  // The physician's page, untouched: coming back to it (focus) refreshes the list (bounded).
  let after = before;
  for (let i = 0; i < 50; i++) {
    await doc.page.evaluate(() => window.dispatchEvent(new Event('focus')));
    await settled(doc.page);
    after = await listed(doc.page);
    if (after.find((r) => r.id === ACC.linkFacility).status === 'not_accepting') break;
    await doc.page.waitForTimeout(200);
  }
  const res = await apiBackup(doc.page, `address=${encodeURIComponent(ADDRESS)}&need=backup`);
  assert.deepEqual(after.map((r) => r.id), res.items.map((it) => it.id), 'the new order is the API\u2019s');
  const moved = after.find((r) => r.id === ACC.linkFacility);
  assert.equal(moved.status, 'not_accepting');
  assert.equal(moved.badge, '受入不可・たった今');
  const pos = after.indexOf(moved);
  assert.ok(after.slice(pos + 1).every((r) => r.status === 'not_accepting'), 'only other refusals after it');
  const ranks = after.map((r) => RANK[r.status]);
  assert.deepEqual(ranks, [...ranks].sort((a, b) => a - b), 'still ranked by status');
  assert.notDeepEqual(after.map((r) => r.id), before.map((r) => r.id), 'the list reordered');
  const marker = await doc.page.$eval(`#map [data-backup-id="${ACC.linkFacility}"]`, (m) => m.parentElement.querySelector('.pm-bk-badge').textContent);
  assert.equal(marker, '受入不可・たった今');
  await shot(doc.page, 'bk-04-physician-reordered');

  // The link is used up: the page says so with the server's reason; a forged one is invalid.
  await nurse.page.reload();
  await nurse.page.waitForFunction(() => document.body.dataset.ready === '1');
  assert.equal(await nurse.page.textContent('#upd-error'), 'このリンクは使えません（期限切れ／使用済み）');
  assert.ok((await nurse.page.textContent('#upd-error-detail')).length > 0, 'the server\u2019s words on why');
  await nurse.page.goto(`${env.base}/update.html#not-a-real-token-0000`);
  await nurse.page.waitForFunction(() => document.body.dataset.ready === '1' && document.querySelector('#upd-error'));
  assert.equal(await nurse.page.textContent('#upd-error'), 'このリンクは無効です');
  assert.deepEqual(unexpected(nurse.errors, [404, 410]), []);
  assert.deepEqual(unexpected(doc.errors), []);
  await nurse.ctx.close();
  await doc.ctx.close();
});

test('the public sees no capacity, rule, FAX or badge anywhere: list, detail, map, and no 今夜の入院先', { skip }, async () => {
  const { ctx, page, errors } = await newPage(env);
  await page.goto(`${env.base}/?service=backup_hospital&address=${encodeURIComponent(ADDRESS)}`);
  await settled(page);
  assert.ok(await page.isHidden('#tab-backup'), 'no tab');
  assert.ok(await page.isHidden('#backup'), 'no screen');
  assert.ok(await page.isHidden('#tab-review'));
  const ids = await page.$$eval('#result-list > li', (lis) => lis.map((li) => li.dataset.id));
  assert.ok(ids.includes(ACC.linkFacility), 'the hospital is listed for the public too');
  const words = /受入可|要相談|受入不可|事前登録|紹介状|最長\d+日|満床時|今の依頼先|FAX/;
  const listText = await page.textContent('#result-list');
  assert.ok(!words.test(listText), `nothing of beds or rules in the list: ${listText.match(words)}`);
  assert.equal(await page.$('#result-list .status-badge'), null);
  // Markers: the plain search markers only.
  assert.equal(await page.$('#map .pm-bk, #map [data-backup-id]'), null);
  const titles = await page.$$eval('#map .leaflet-marker-icon', (ms) => ms.map((m) => m.title || '').join(' '));
  assert.ok(!words.test(titles), titles);
  // The detail: no bed section, no FAX, no rules.
  await page.click(`#result-list li[data-id="${ACC.linkFacility}"] button.name`);
  await page.waitForSelector('#detail:not([hidden]) #detail-name');
  await settled(page);
  assert.equal(await page.$('#beds'), null);
  const detail = await page.textContent('#detail');
  assert.ok(!words.test(detail), `nothing of beds or rules in the detail: ${detail.match(words)}`);
  await shot(page, 'bk-05-public');
  // And the API itself: 401 with a sign-in message, nothing about beds in the facility.
  const r = await fetch(`${env.base}/api/v1/backup?address=${encodeURIComponent(ADDRESS)}`);
  assert.equal(r.status, 401);
  assert.ok((await r.json()).detail, 'the 401 says sign-in is needed');
  const f = await (await fetch(`${env.base}/api/v1/facilities/${ACC.linkFacility}`)).json();
  for (const sv of f.services) {
    assert.ok(!('capacity' in sv) && !('admission_rules' in sv), `no bed status or rules on ${sv.kind} for the public`);
  }
  assert.equal(f.capacity_updated_at, null);
  assert.equal(f.sample, false, 'the sample bed data is not hinted at either');
  assert.deepEqual(f.contacts.filter((c) => c.kind === 'fax'), [], 'no FAX');
  const gj = await (await fetch(`${env.base}/api/v1/facilities.geojson?service=backup_hospital`)).text();
  assert.ok(!/capacity|admission_rules|accepting/.test(gj), 'no capacity in the map layer');
  assert.deepEqual(unexpected(errors), []);
  await ctx.close();
});

test('a coordinator sets 要相談 and the admission rules in the detail, issues an update link, and decides the proposals it brings', { skip }, async () => {
  const { ctx, page, errors } = await newPage(env);
  await page.goto(`${env.base}/`);
  await settled(page);
  await signedIn(page, ACC.coordinator);
  assert.ok(await page.isVisible('#tab-review'), 'the review queue is the coordinator\u2019s');
  await page.goto(`${env.base}/?id=${CITY.id}`);
  await settled(page);
  await page.waitForSelector('#pro-tools[data-ready="1"]', { state: 'attached' });
  const pcu = '#beds [data-service="pcu"]';
  await page.waitForSelector(pcu);

  // One tap: 要相談.
  await page.click(`${pcu} [data-cap-set="limited"]`);
  await page.waitForSelector(`${pcu} .cap-msg .ok-msg`);
  const label = (await page.textContent(`${pcu} h4`)).split(' ')[0];
  assert.equal(await page.textContent(`${pcu} .cap-msg`), `${label}を「要相談」に更新しました。`);
  assert.equal(await page.textContent(`${pcu} h4 .status-badge`), '要相談・たった今');
  assert.equal(await page.getAttribute(`${pcu} [data-cap-set="limited"]`, 'aria-pressed'), 'true');
  // The report is in the history, newest first, with who made it.
  await page.click(`${pcu} [data-cap-history] summary`);
  await page.waitForSelector(`${pcu} .cap-history tbody tr`);
  const hist = await page.$$eval(`${pcu} .cap-history tbody tr`, (rows) => rows.map((r) => [...r.cells].slice(1).map((c) => c.textContent)));
  assert.deepEqual(hist[0], ['要相談', '', `コーディネーター（${ACC.coordinator}）`]);

  // Admission rules: a FAX route without a number is refused next to that field.
  await page.click(`${pcu} [data-rules-open="pcu"]`);
  await page.waitForSelector('#rules-form');
  await page.click('#rules-add-route');
  await page.selectOption('#rules-form [data-path="routes[0].kind"]', 'fax');
  await page.fill('#rules-form [data-path="routes[0].label"]', '地域連携室');
  await page.click('#rules-save');
  await page.waitForSelector('#rules-form [data-error-for="routes[0].value"]');
  assert.equal(await page.getAttribute('#rules-form [data-path="routes[0].value"]', 'aria-invalid'), 'true');
  assert.equal(await page.textContent('#rules-form [data-error-for="routes[0].value"]'), '電話・FAX番号は 0 から始まる10桁か11桁で入力してください（例: 048-123-4567）。');
  assert.equal(await page.textContent('#rules-msg'), '入力内容を確認してください。');
  await shot(page, 'bk-06-rules-error');
  await page.fill('#rules-form [data-path="routes[0].value"]', '048-873-0000');
  await page.fill('#rules-form [data-rule="documents"]', '紹介状');
  await page.check('#rules-form [data-rule-check="registered_in_advance"]');
  await page.fill('#rules-form [data-rule="registration_note"]', '在宅医が事前に登録票をFAX');
  await page.fill('#rules-form [data-rule="max_stay_days"]', '14');
  await page.fill('#rules-form [data-rule="when_full"]', '連携病院へ');
  await page.click('#rules-save');
  await page.waitForFunction((sel) => document.querySelector(sel)?.textContent === '受け入れ条件を保存しました。', `${pcu} .cap-msg`);
  assert.equal((await page.textContent(`${pcu} .rules-card`)).trim(), 'FAX 048-873-0000（地域連携室） 紹介状要・事前登録要・最長14日・満床時: 連携病院へ');
  assert.equal(await page.textContent(`${pcu} [data-prereg-note]`), '事前登録要: 在宅医が事前に登録票をFAX');

  // Two one-time links: one proposal is rejected (a reason is required), the other approved.
  const links = [];
  for (let i = 0; i < 2; i++) {
    await page.click('#link-issue');
    await page.waitForFunction((n) => document.querySelector('#link-url') && document.querySelector('#link-url').value && !n.includes(document.querySelector('#link-url').value), links);
    const url = await page.inputValue('#link-url');
    assert.match(url, /\/update\.html#[^#]+$/);
    links.push(url);
  }
  assert.match(await page.textContent('#link-expiry'), /^有効期限: /);
  const staff = await newPage(env, { viewport: PHONE });
  const propose = async (url, fill) => {
    await staff.page.goto(`${env.base}/update.html${new URL(url).hash}`);
    await staff.page.waitForFunction(() => document.body.dataset.ready === '1' && document.querySelector('#upd-name'));
    assert.equal(await staff.page.textContent('#upd-name'), CITY.name);
    await staff.page.click('#upd-propose summary');
    await fill(staff.page);
    await staff.page.click('#upd-send');
    await staff.page.waitForSelector('#upd-done');
    assert.ok((await staff.page.textContent('#upd-done')).includes('修正の提案を受け付けました。コーディネーターの確認後に反映されます。'));
  };
  await propose(links[0], async (p) => {
    // A number the server refuses: said next to the phone box, and the link is not used up by it.
    await p.fill('#upd-phone', '12');
    await p.click('#upd-send');
    await p.waitForSelector('#upd-propose [data-error-for="phone"]');
    assert.equal(await p.textContent('#upd-propose [data-error-for="phone"]'), '電話番号は 0 から始まる10桁か11桁で入力してください（例: 048-123-4567）。');
    assert.equal(await p.getAttribute('#upd-phone', 'aria-invalid'), 'true');
    await p.fill('#upd-phone', '048-873-9999');
    await p.fill('#upd-message', '代表番号が変わりました');
  });
  await propose(links[1], async (p) => { await p.fill('#upd-notes', '面会は14時から'); });
  await shot(staff.page, 'bk-07-staff-proposal');
  assert.deepEqual(unexpected(staff.errors, [400]), []);
  await staff.ctx.close();

  await page.click('#tab-review');
  await page.waitForSelector(`#review-list [data-id="${CITY.id}"]`);
  await settled(page);
  const cards = `#review-list [data-id="${CITY.id}"]`;
  assert.equal(await page.$$eval(cards, (c) => c.length), 2);
  assert.match(await page.textContent('#tab-review'), /^確認待ち（\d+）$/);
  const phoneCard = `${cards}:has([data-review-field="contacts"])`;
  assert.ok((await page.textContent(`${phoneCard} [data-review-field="contacts"] td.new`)).includes('048-873-9999'));
  assert.ok((await page.textContent(`${phoneCard} [data-review-field="contacts"] td.old`)).includes(CITY.phone));
  assert.equal(await page.textContent(`${phoneCard} .review-note`), '施設からの連絡: 代表番号が変わりました');
  await page.click(`${phoneCard} [data-review="reject"]`);
  assert.equal(await page.textContent(`${phoneCard} [data-error-for="reason"]`), '却下の理由を入力してください。');
  await page.fill(`${phoneCard} [data-reason]`, '代表番号は変わっていません（電話で確認）');
  await page.click(`${phoneCard} [data-review="reject"]`);
  await page.waitForFunction(() => document.querySelector('#review-msg').textContent === '却下しました。');
  await settled(page);
  const notesCard = `${cards}:has([data-review-field="notes"])`;
  assert.equal(await page.textContent(`${notesCard} [data-review-field="notes"] td.new`), '面会は14時から');
  await page.click(`${notesCard} [data-review="approve"]`);
  await page.waitForFunction(() => document.querySelector('#review-msg').textContent === '承認しました。施設情報に反映されました。');
  await settled(page);
  assert.equal(await page.$(cards), null, 'nothing of this facility left to review');
  await page.selectOption('#review-status', 'rejected');
  await page.waitForSelector(`${cards}[data-status="rejected"]`);
  assert.match(await page.textContent(`${cards}[data-status="rejected"] .decided`),
    new RegExp(`^却下済み（コーディネーター（${ACC.coordinator}）、\\d+/\\d+ \\d\\d:\\d\\d）理由: 代表番号は変わっていません（電話で確認）$`));
  await shot(page, 'bk-08-review');
  assert.deepEqual(unexpected(errors, [400]), []);
  await ctx.close();
});

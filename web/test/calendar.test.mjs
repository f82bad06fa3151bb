// End-to-end test of issue 14's browser side in headless Chromium against the real binary: a
// citizen finds a がんサロン near 熊谷市 with its next date (the salon made first through the API by
// the coordinator of 1104 and 1109, hosted at a real 熊谷市 hospital); the coordinator creates a
// 症例検討会 through the 研修・会議 form and finds it in the month view; a professional subscribes
// to 北部's calendar and the URL shown, fetched with no cookie, has that meeting while the public
// feed has not; a seeded core hospital's detail shows 「ここに相談できます」 with the route to use.
// It writes to the shared database: one patient group and one event of area 1109, one feed.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, newPage, settled, shot } from './harness.mjs';

const ACC = {
  coordinator: process.env.PALLIMAP_E2E_COORDINATOR, // areas 1104 さいたま and 1109 北部
  professional: process.env.PALLIMAP_E2E_PROFESSIONAL,
  password: process.env.PALLIMAP_E2E_PASSWORD,
};
const missing = Object.entries(ACC).filter(([, v]) => !v).map(([k]) => k);
const onCi = ['true', '1'].includes(process.env.CI || '');
if (missing.length && onCi) throw new Error(`CI=true but the calendar e2e tests have no accounts: missing ${missing.join(', ')}`);
const skip = missing.length ? `SKIPPED: no test accounts (PALLIMAP_E2E_* missing: ${missing.join(', ')})` : false;
if (skip) console.log(`# ${skip}`);

/** 熊谷生協病院 (熊谷市, area 1109 北部) in data/: the salon's host. */
const HOST = 'navii-1111102377500';
/** 埼玉県立がんセンター (伊奈町), a がん診療連携拠点病院 seeded with its consultation windows. */
const CANCER_CENTER = 'navii-1111108149000';
const STAMP = Date.now().toString(36);
const SALON = `くまがや がんサロン e2e ${STAMP}`;
const MEETING = `北部 在宅緩和ケア症例検討会 e2e ${STAMP}`;

let env;
before(async () => { if (!skip) env = await setup(); });
after(async () => { if (env) await env.close(); });

// ---------- dates, computed here without the app's code ----------

const pad = (n) => String(n).padStart(2, '0');
const ymd = (y, m, d) => { const u = new Date(Date.UTC(y, m - 1, d)); return `${u.getUTCFullYear()}-${pad(u.getUTCMonth() + 1)}-${pad(u.getUTCDate())}`; };
function todayJst() {
  const u = new Date(Date.now() + 9 * 3600 * 1000);
  return ymd(u.getUTCFullYear(), u.getUTCMonth() + 1, u.getUTCDate());
}
/** The second Tuesday of month m (1–12) of year y. */
function secondTuesday(y, m) {
  const w = new Date(Date.UTC(y, m - 1, 1)).getUTCDay();
  return ymd(y, m, 1 + ((2 - w + 7) % 7) + 7);
}
function monthsFrom(date, n) {
  const [y, m] = date.split('-').map(Number);
  const u = new Date(Date.UTC(y, m - 1 + n, 1));
  return [u.getUTCFullYear(), u.getUTCMonth() + 1];
}
const WD = ['日', '月', '火', '水', '木', '金', '土'];
const ja = (date) => { const [y, m, d] = date.split('-').map(Number); return `${m}月${d}日（${WD[new Date(Date.UTC(y, m - 1, d)).getUTCDay()]}）`; };

// ---------- helpers ----------

function unexpected(errors, statuses = []) {
  return errors.filter((e) => !statuses.some((s) => e.includes(`HTTP ${s} `) || e.includes(`status of ${s}`)));
}

async function signedIn(page, email) {
  await page.goto(`${env.base}/`);
  await settled(page);
  await page.click('#pro-signin');
  await page.fill('#signin-email', email);
  await page.fill('#signin-password', ACC.password);
  await page.click('#signin-submit');
  await page.waitForSelector('#account-who');
  await settled(page);
}

/** A JSON write from the signed-in page, as the app makes it (cookie + X-CSRF-Token). */
function apiWrite(page, method, path, body) {
  return page.evaluate(async ({ method, path, body }) => {
    const s = await (await fetch('/api/v1/session')).json();
    const r = await fetch(`/api/v1${path}`, {
      method,
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRF-Token': s.csrf },
      body: JSON.stringify(body),
    });
    let json = null;
    try { json = await r.json(); } catch { /* empty */ }
    return { status: r.status, body: json };
  }, { method, path, body });
}

async function openCalendar(page) {
  await page.click('#tab-calendar');
  await page.waitForSelector('#calendar:not([hidden]) #cal-heading');
  await page.waitForFunction(() => document.body.dataset.calendar === 'ready');
  await settled(page);
}

/** An iCalendar text unfolded (RFC 5545 §3.1), its VEVENTs' SUMMARY values. */
function summaries(ics) {
  const lines = ics.replace(/\r?\n[ \t]/g, '').split(/\r?\n/);
  const out = [];
  let inEvent = false;
  for (const l of lines) {
    if (l === 'BEGIN:VEVENT') inEvent = true;
    else if (l === 'END:VEVENT') inEvent = false;
    else if (inEvent && /^SUMMARY[;:]/.test(l)) out.push(l.slice(l.indexOf(':') + 1).replace(/\\([,;\\])/g, '$1'));
  }
  return out;
}

// The meeting the coordinator creates: ten days ahead, 18:30–20:00, for professionals.
const MEETING_DATE = (() => { const [y, m, d] = todayJst().split('-').map(Number); return ymd(y, m, d + 10); })();

// ---------- tests ----------

test('a citizen finds a がんサロン near 熊谷市 with its next date', { skip }, async () => {
  // The coordinator of 北部 enters the salon: 毎月第2火曜 14:00–16:00 at 熊谷生協病院.
  const c = await newPage(env);
  await signedIn(c.page, ACC.coordinator);
  const host = await c.page.evaluate(async (id) => (await fetch(`/api/v1/facilities/${id}`)).json(), HOST);
  const [py, pm] = monthsFrom(todayJst(), -1);
  const start = secondTuesday(py, pm);
  const made = await apiWrite(c.page, 'POST', '/facilities', {
    kind: 'patient_group',
    name: SALON,
    address: { municipality_code: (host.address && host.address.municipality_code) || '11202', text: host.address.text },
    location: host.location,
    gathering: {
      kind: 'cancer_salon',
      host: { facility_id: HOST, name: host.name },
      online: false,
      who: 'がんの患者さんとご家族',
      cost: '無料',
      booking: '不要（直接お越しください）',
      schedule: { start, from: '14:00', to: '16:00', rrule: 'FREQ=MONTHLY;BYDAY=2TU' },
    },
  });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const id = made.body.id;
  await c.ctx.close();

  // The next second Tuesday on or after today.
  const today = todayJst();
  let next = secondTuesday(...monthsFrom(today, 0));
  if (next < today) next = secondTuesday(...monthsFrom(today, 1));

  const { page, errors } = await newPage(env);
  await page.goto(`${env.base}/`);
  await settled(page);
  await page.fill('#address', '熊谷市');
  await page.click('.chip[data-group="kind"][data-code="patient_group"]');
  await settled(page);
  const row = page.locator(`#result-list .item[data-id="${id}"]`);
  await row.waitFor();
  assert.equal(await row.locator('h3 button.name').textContent(), SALON);
  assert.equal(await row.locator('.next-line').getAttribute('data-next-date'), next);
  assert.match(await row.locator('.next-line').textContent(), new RegExp(`^次回: ${ja(next).replace(/[()（）]/g, '\\$&')}`));
  // Its marker names the next date too.
  const marker = page.locator(`#map .leaflet-marker-pane [data-id="${id}"]`);
  if (await marker.count()) {
    const title = await marker.evaluate((el) => el.closest('[title]') && el.closest('[title]').getAttribute('title'));
    assert.ok(String(title).includes(`次回: ${ja(next)}`), `marker title: ${title}`);
  }

  await row.locator('button.name').click();
  await page.waitForSelector('#detail:not([hidden]) [data-field="gathering"]');
  assert.equal(await page.textContent('#detail-name'), SALON);
  assert.equal(await page.getAttribute('#detail .next-date', 'data-next-date'), next);
  assert.equal((await page.textContent('#detail .next-date')).trim(), `次回: ${ja(next)} 14:00`);
  assert.equal(await page.textContent('#detail [data-field="who"]'), 'がんの患者さんとご家族');
  assert.equal(await page.textContent('#detail [data-field="cost"]'), '無料');
  assert.equal(await page.textContent('#detail [data-field="booking"]'), '不要（直接お越しください）');
  assert.equal(await page.textContent('#detail [data-field="host"]'), host.name);
  assert.ok((await page.textContent('#detail [data-field="schedule_label"]')).trim().length > 0, 'the schedule in words');
  await shot(page, 'calendar-salon');
  // The host is one click away.
  await page.click('#detail [data-field="host"] button');
  await page.waitForFunction((n) => document.querySelector('#detail-name')?.textContent === n, host.name);
  assert.deepEqual(unexpected(errors), []);
});

test('a coordinator creates a 症例検討会 through the form and sees it in the month view', { skip }, async () => {
  const { page, errors } = await newPage(env);
  // Anonymous first: no professional audience to choose, no button to create.
  await page.goto(`${env.base}/`);
  await settled(page);
  await openCalendar(page);
  assert.deepEqual(await page.$$eval('#cal-audience option', (o) => o.map((x) => x.value)), ['', 'public']);
  assert.ok(await page.$eval('#cal-new', (b) => b.hidden));
  // The grid starts on Monday and marks today.
  assert.deepEqual(await page.$$eval('#cal-grid thead th', (th) => th.map((x) => x.textContent)), ['月', '火', '水', '木', '金', '土', '日']);
  assert.equal(await page.getAttribute('#cal-grid td[aria-current="date"]', 'data-date'), todayJst());

  await signedIn(page, ACC.coordinator);
  await openCalendar(page);
  assert.deepEqual(await page.$$eval('#cal-audience option', (o) => o.map((x) => x.value)), ['', 'public', 'professional']);
  await page.click('#cal-new');
  await page.waitForSelector('#cal-dialog[open] #ev-form');

  // Nothing typed: the form says what is missing, next to each field.
  await page.click('#ev-save');
  assert.equal(await page.textContent('[data-error-for="title"]'), '名称を入力してください。');
  assert.equal(await page.getAttribute('#ev-title', 'aria-invalid'), 'true');

  await page.fill('#ev-title', MEETING);
  await page.selectOption('#ev-kind', 'case_conference');
  await page.fill('#ev-org-q', '深谷赤十字');
  await page.click('[data-dlg="org-search"]');
  await page.click('#ev-org-results button:has-text("深谷赤十字病院")');
  assert.equal(await page.inputValue('#ev-org-name'), '深谷赤十字病院');
  assert.match(await page.textContent('#ev-org-chosen'), /選択中: 深谷赤十字病院/);
  await page.uncheck('#ev-area-1104');
  await page.check('#ev-area-1109');
  await page.check('#ev-vis-professional');
  await page.check('#ev-prof-physician');
  await page.check('#ev-prof-nurse');
  await page.fill('#ev-date', MEETING_DATE);
  await page.dispatchEvent('#ev-date', 'change');
  await page.fill('#ev-from', '18:30');
  await page.fill('#ev-to', '20:00');
  assert.ok((await page.$$eval('#ev-repeat option', (o) => o.map((x) => x.textContent))).some((x) => /^毎月第\d.曜日$/.test(x)), 'the repeat choices name the weekday');
  await page.fill('#ev-place-name', '深谷赤十字病院 講堂');
  await page.check('#ev-online');
  await page.fill('#ev-link', 'https://meet.example.jp/hokubu-e2e');
  await page.check('#ev-link-pro');
  await page.fill('#ev-capacity', '40');
  await page.fill('#ev-apply', '地域連携室へFAXで');
  await page.fill('#ev-credits', '日本緩和医療学会 認定更新 1単位');

  // The API refuses once, naming a field: shown next to it, and nothing typed is lost.
  await page.route('**/api/v1/events', (route) => (route.request().method() === 'POST'
    ? route.fulfill({
      status: 422,
      headers: { 'content-type': 'application/problem+json' },
      body: JSON.stringify({ status: 422, title: 'Unprocessable', detail: '入力を確認してください / Check the input', errors: [{ field: 'place.link', detail: 'リンクは https:// の URL にしてください / The link must be an https URL' }] }),
    })
    : route.continue()));
  await page.click('#ev-save');
  await page.waitForSelector('[data-error-for="place.link"]');
  assert.equal(await page.textContent('[data-error-for="place.link"]'), 'リンクは https:// の URL にしてください');
  assert.equal(await page.getAttribute('#ev-link', 'aria-invalid'), 'true');
  assert.match(await page.textContent('#ev-form-msg'), /保存できませんでした: 入力を確認してください/);
  assert.equal(await page.inputValue('#ev-title'), MEETING);
  assert.equal(await page.inputValue('#ev-capacity'), '40');
  assert.ok(await page.isChecked('#ev-prof-nurse'));
  await page.unroute('**/api/v1/events');

  await page.click('#ev-save');
  await page.waitForSelector('#cal-msg.ok-msg:not([hidden])');
  assert.equal(await page.textContent('#cal-msg'), `保存しました: ${MEETING}`);
  await page.waitForFunction(() => document.body.dataset.calendar === 'ready');
  assert.equal(await page.getAttribute('#cal-month', 'data-month'), MEETING_DATE.slice(0, 7));
  const chip = page.locator(`#cal-grid td[data-date="${MEETING_DATE}"] .ev-chip`, { hasText: MEETING });
  await chip.waitFor();
  assert.match(await chip.textContent(), /^18:30 /);
  await shot(page, 'calendar-month');

  await chip.click();
  await page.waitForSelector('#cal-dialog[open] .ev-detail');
  assert.equal(await page.textContent('#cal-dialog-title'), MEETING);
  assert.equal(await page.textContent('.ev-detail [data-field="kind"]'), '症例検討会');
  assert.equal(await page.textContent('.ev-detail [data-field="when"]'), `${MEETING_DATE.slice(0, 4)}年${ja(MEETING_DATE)} 18:30–20:00`);
  assert.equal(await page.textContent('.ev-detail [data-field="organizer"]'), '深谷赤十字病院');
  assert.match(await page.textContent('.ev-detail [data-field="place"]'), /深谷赤十字病院 講堂/);
  assert.equal(await page.textContent('.ev-detail [data-field="link"]'), 'https://meet.example.jp/hokubu-e2e');
  assert.equal(await page.textContent('.ev-detail [data-field="audience"]'), '専門職向け: 医師・看護師');
  assert.equal(await page.textContent('.ev-detail [data-field="capacity"]'), '40 名');
  assert.equal(await page.textContent('.ev-detail [data-field="credits"]'), '日本緩和医療学会 認定更新 1単位');
  await shot(page, 'calendar-event');
  await page.click('#cal-dialog [data-dlg="close"]');

  // The list view has it under its date.
  await page.click('#cal-view-list');
  const item = page.locator(`#cal-list > li[data-date="${MEETING_DATE}"] .cal-row`, { hasText: MEETING });
  assert.match(await item.textContent(), /18:30–20:00\s+症例検討会/);
  assert.deepEqual(unexpected(errors, [422]), []);
});

test('a professional subscribes to 北部\u2019s calendar; the public feed has no professional event', { skip }, async () => {
  // The public's feed of 北部 first.
  const anon = await newPage(env);
  await anon.page.goto(`${env.base}/`);
  await settled(anon.page);
  await openCalendar(anon.page);
  await anon.page.click('#cal-sub-toggle');
  await anon.page.selectOption('#sub-area', '1109');
  const publicUrl = await anon.page.inputValue('#sub-url');
  assert.equal(publicUrl, `${new URL(env.base).origin}/api/v1/events.ics?area=1109&audience=public`);
  assert.equal(await anon.page.getAttribute('#sub-url-webcal', 'href'), publicUrl.replace(/^https?:/, 'webcal:'));
  const pub = await fetch(publicUrl);
  assert.equal(pub.status, 200);
  assert.match(pub.headers.get('content-type') || '', /^text\/calendar/);
  assert.ok(!summaries(await pub.text()).includes(MEETING), 'the public feed has no professional meeting');
  assert.deepEqual(unexpected(anon.errors), []);
  await anon.ctx.close();

  const { page, errors } = await newPage(env);
  await signedIn(page, ACC.professional);
  await openCalendar(page);
  await page.click('#cal-sub-toggle');
  await page.waitForSelector('#sub-create');
  await page.selectOption('#sub-area', '1109');
  await page.selectOption('#sub-audience', 'professional');
  assert.equal(await page.inputValue('#sub-label'), '北部 の研修・会議');
  await page.click('#sub-create');
  await page.waitForSelector('#sub-result #sub-url');
  assert.equal(await page.textContent('#sub-private'), 'このURLはあなた専用です。他の人に渡さないでください。');
  const url = new URL(await page.inputValue('#sub-url'), env.base).href;
  assert.ok((await page.getAttribute('#sub-url-webcal', 'href')).startsWith('webcal://'));
  await page.waitForSelector('#sub-feeds [data-feed]');
  assert.match(await page.textContent('#sub-feeds [data-feed]'), /北部 の研修・会議/);
  await shot(page, 'calendar-subscribe');

  // The URL alone (no cookie) gives the professional meeting.
  const res = await fetch(url);
  assert.equal(res.status, 200);
  const ics = await res.text();
  assert.match(ics, /^BEGIN:VCALENDAR\r?\n/);
  assert.ok(summaries(ics).includes(MEETING), `a VEVENT for ${MEETING}: ${summaries(ics).join(' | ')}`);
  // The same feed without its token is the public's.
  const bare = new URL(url);
  bare.searchParams.delete('token');
  const anonIcs = await (await fetch(bare)).text();
  assert.ok(!summaries(anonIcs).includes(MEETING), 'no professional event without the token');

  // Deleted, it leaves the list.
  const n = await page.$$eval('#sub-feeds [data-feed]', (l) => l.length);
  await page.click('#sub-feeds [data-feed-delete]');
  await page.waitForFunction((k) => document.querySelectorAll('#sub-feeds [data-feed]').length === k - 1, n);
  assert.deepEqual(unexpected(errors), []);
});

test('a core hospital\u2019s detail shows 「ここに相談できます」 with the route to use now', { skip }, async () => {
  const { page, errors } = await newPage(env);
  await page.goto(`${env.base}/`);
  await settled(page);
  // Found by what its window answers.
  await page.fill('#q', 'セカンドオピニオン');
  await page.click('#search-btn');
  await settled(page);
  await page.locator(`#result-list .item[data-id="${CANCER_CENTER}"]`).waitFor();

  await page.click(`#result-list .item[data-id="${CANCER_CENTER}"] button.name`);
  await page.waitForSelector('#detail:not([hidden]) [data-field="consultations"]');
  const api = await page.evaluate(async (id) => (await fetch(`/api/v1/facilities/${id}`)).json(), CANCER_CENTER);
  const windows = api.consultations || [];
  assert.ok(windows.length > 0, 'seeded windows');
  assert.equal(await page.textContent('#detail [data-field="consultations"] h3'), 'ここに相談できます');
  const shown = await page.$$eval('#detail .consult h4', (h) => h.map((x) => x.textContent));
  assert.deepEqual(shown, windows.map((w) => w.name));
  for (const [i, w] of windows.entries()) {
    const li = page.locator(`#detail .consult[data-index="${i}"]`);
    if (w.route_now) {
      assert.match(await li.locator('.route-now').textContent(), new RegExp(w.route_now.value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
      assert.equal(await li.locator('.route-now .badge.open-now').count(), w.open_now ? 1 : 0, '受付中 only when open');
    }
    if (w.open_now === false) assert.match(await li.locator('.consult-closed').textContent(), /^受付時間外/);
    assert.match(await li.locator('.muted.small').last().textContent(), new RegExp(w.as_of));
  }
  await shot(page, 'calendar-consultations');
  // In English too.
  await page.click('#lang-toggle');
  assert.equal(await page.textContent('#detail [data-field="consultations"] h3'), 'Ask here');
  await page.click('#lang-toggle');
  assert.deepEqual(unexpected(errors), []);
});

// End-to-end tests of 「退院調整」 (issue 12) in headless Chromium against the real binary started
// with --with-sample (data/sample/surveys.json): the nurse's pharmacies for the drugs the patient
// goes home with, the dental clinics visiting the address, the shortlist on one A4 sheet; nothing
// of it for the public; a pharmacist's survey through a one-time update link on a phone, approved
// by the coordinator before the nurse finds the pharmacy. tests/web/mod.rs makes the accounts
// (PALLIMAP_E2E_*) and the pharmacy's link (PALLIMAP_E2E_PHARMACY_LINK for
// PALLIMAP_E2E_PHARMACY_FACILITY, a pharmacy of area 1104 with no sample answer).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, newPage, settled, shot, SHOTS, A4_PX, unexpected, signIn, inPage, printMeasured } from './harness.mjs';

const ACC = {
  professional: process.env.PALLIMAP_E2E_PROFESSIONAL,
  coordinator: process.env.PALLIMAP_E2E_COORDINATOR, // area 1104 さいたま
  password: process.env.PALLIMAP_E2E_PASSWORD,
  link: process.env.PALLIMAP_E2E_PHARMACY_LINK,
  pharmacy: process.env.PALLIMAP_E2E_PHARMACY_FACILITY,
};
const missing = Object.entries(ACC).filter(([, v]) => !v).map(([k]) => k);
const onCi = ['true', '1'].includes(process.env.CI || '');
if (missing.length && onCi) throw new Error(`CI=true but the discharge e2e tests lack: ${missing.join(', ')}`);
const skip = missing.length ? `SKIPPED: PALLIMAP_E2E_* missing: ${missing.join(', ')}` : false;
if (skip) console.log(`# ${skip}`);

const ADDRESS = '川越市脇田町';
const WAKITA = { lat: 35.908277, lng: 139.483291 }; // 脇田町 in data/towns.csv.gz
const PHONE = { width: 390, height: 844 };
const TIERS = ['always', 'partner', 'order'];
const DISTANCE_TEXT = /^(約 \d+ m|約 \d+(\.\d)? km|約 \d+\.\d km 以内|約 100 m 以内|同じ町丁目付近)$/;

let env;
before(async () => { if (!skip) env = await setup(); });
after(async () => { if (env) await env.close(); });

const signedIn = (page, email) => signIn(page, email, ACC.password);

function haversine(a, b) {
  const R = 6371008.8;
  const rad = Math.PI / 180;
  const h = Math.sin((b.lat - a.lat) * rad / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin((b.lng - a.lng) * rad / 2) ** 2;
  return 2 * R * Math.asin(Math.min(1, Math.sqrt(h)));
}

// Independent of the page's code: how a stock line must read.
function stockJa(l) {
  const what = `${l.label_ja}${l.strength ? ` ${l.strength}` : ''}`;
  if (l.stock === 'always') return `${what}: 在庫あり`;
  if (l.stock === 'partner') return `${what}: ${l.partner.name}から譲受${l.partner.transfer_hours != null ? `（約${l.partner.transfer_hours}時間）` : ''}`;
  return `${what}: ${l.order_days != null ? `取り寄せ（${l.order_days}日）` : '取り寄せ（日数不明）'}`;
}

/** The brand `name` of the vocabulary the type-ahead must offer for `typed`. */
async function pickDrug(page, typed, brand, how = 'click') {
  await page.fill('#dc-drug', '');
  await page.type('#dc-drug', typed);
  const opt = `#dc-drug-suggest li[data-name="${brand}"]`;
  await page.waitForSelector(opt);
  assert.equal(await page.getAttribute('#dc-drug', 'aria-expanded'), 'true');
  if (how === 'enter') {
    // Down to it, then Enter (it is highlighted: aria-selected).
    for (let i = 0; i < 12 && (await page.getAttribute(opt, 'aria-selected')) !== 'true'; i++) await page.press('#dc-drug', 'ArrowDown');
    assert.equal(await page.getAttribute(opt, 'aria-selected'), 'true');
    await page.press('#dc-drug', 'Enter');
  } else {
    await page.click(opt);
  }
  await page.waitForSelector('#dc-drug-suggest', { state: 'hidden' });
}

/** The nurse's screen: signed in, 退院調整, the address and the two drugs picked by brand. */
async function dischargeScreen(page, address, vocab) {
  await page.goto(`${env.base}/`);
  await settled(page);
  await signedIn(page, ACC.professional);
  assert.ok(await page.isVisible('#tab-discharge'), 'the tab shows once signed in');
  await page.click('#tab-discharge');
  assert.ok(await page.isVisible('#discharge'));
  await page.fill('#dc-address', address);
  await pickDrug(page, 'ふぇんとす', vocab.fentos.name);
  await pickDrug(page, 'ｵｷﾉｰﾑ', vocab.okinorm.name, 'enter');
  await page.click('#dc-search');
  await page.waitForSelector('#dc-results:not([hidden])');
  await settled(page);
}

const pharmacyRows = (page) => page.$$eval('#dc-pharmacies li.dc-item', (lis) => lis.map((li) => ({
  id: li.dataset.id,
  availability: li.dataset.availability,
  group: li.closest('[data-availability]').dataset.availability,
  heading: li.closest('section').querySelector('h4.dc-group-h').textContent,
  name: li.querySelector('button.name').textContent,
  distance: li.querySelector('.distance') ? li.querySelector('.distance').textContent : '',
  stock: [...li.querySelectorAll('.dc-stock li')].map((x) => x.textContent),
  flags: [...li.querySelectorAll('.dc-flag')].map((x) => x.dataset.flag),
  sample: !!li.querySelector('[data-sample]'),
})));

/** Brands in the vocabulary: the フェントス… and オキノーム… names and their products. */
async function brands(page) {
  const v = (await inPage(page, '/vocabulary')).body.opioids;
  assert.ok(v && v.products.length && v.names.length, 'the vocabulary lists opioid products and brand names');
  const fentos = v.names.find((n) => n.name.startsWith('フェントス'));
  const okinorm = v.names.find((n) => n.name.startsWith('オキノーム'));
  assert.ok(fentos && okinorm, 'フェントス… and オキノーム… are brand names of the vocabulary');
  return { v, fentos, okinorm };
}

/** Print the shortlist and measure it as laid out on an A4 sheet (`pdf`: keep the PDF there). */
function printShortlist(page, opts = {}) {
  return printMeasured(page, '#print-shortlist-btn', () => {
    const s = document.querySelector('#print-area .print-shortlist');
    return {
      height: s.getBoundingClientRect().height,
      width: document.querySelector('#print-area').scrollWidth,
      text: s.textContent,
      rows: [...s.querySelectorAll('tbody tr')].map((tr) => ({
        name: tr.querySelector('strong').textContent,
        phone: tr.querySelector('[data-col="phone"]').textContent.trim(),
        pro: tr.querySelector('[data-col="pro"]') ? tr.querySelector('[data-col="pro"]').textContent : null,
        stock: [...tr.querySelectorAll('[data-stock-line]')].map((x) => x.textContent),
      })),
      proHead: !!s.querySelector('th') && [...s.querySelectorAll('th')].some((th) => th.textContent.startsWith('専門職向け')),
    };
  }, opts);
}

test('a nurse picks フェントステープ and オキノーム by brand for a 川越市 address, sees stocking pharmacies first and visiting dentists, and prints the shortlist on one A4 sheet', { skip }, async () => {
  const { ctx, page, errors } = await newPage(env);
  await page.goto(`${env.base}/`);
  await settled(page);
  const { v, fentos, okinorm } = await brands(page);
  // The geocoder places the address at 脇田町's point.
  const g = (await inPage(page, `/geocode?address=${encodeURIComponent(ADDRESS)}`)).body;
  assert.ok(haversine(g, WAKITA) < 300, `${ADDRESS} placed at its town: ${JSON.stringify(g)}`);

  await signedIn(page, ACC.professional);
  await page.click('#tab-discharge');
  await page.fill('#dc-address', ADDRESS);
  // The type-ahead folds kana and width: katakana, hiragana and half-width all offer the brand.
  for (const typed of ['フェントス', 'ふぇんとす', 'ﾌｪﾝﾄｽ']) {
    await page.fill('#dc-drug', '');
    await page.type('#dc-drug', typed);
    await page.waitForSelector(`#dc-drug-suggest li[data-name="${fentos.name}"]`);
    assert.equal(await page.getAttribute(`#dc-drug-suggest li[data-name="${fentos.name}"]`, 'data-product'), fentos.product, typed);
  }
  for (const typed of ['オキノーム', 'おきのーむ', 'ｵｷﾉｰﾑ']) {
    await page.fill('#dc-drug', '');
    await page.type('#dc-drug', typed);
    await page.waitForSelector(`#dc-drug-suggest li[data-name="${okinorm.name}"]`);
  }
  await page.press('#dc-drug', 'Escape');
  await pickDrug(page, 'ふぇんとす', fentos.name);
  await pickDrug(page, 'ｵｷﾉｰﾑ', okinorm.name, 'enter');
  const chips = await page.$$eval('#dc-drugs li', (lis) => lis.map((li) => li.dataset.product));
  assert.deepEqual(chips, [fentos.product, okinorm.product], 'a chip holds the product code');
  assert.ok(v.products.some((p) => p.code === fentos.product) && v.products.some((p) => p.code === okinorm.product));
  await page.click('#dc-search');
  await page.waitForSelector('#dc-results:not([hidden])');
  await settled(page);

  // The list is the API's, in its order, under a heading per availability.
  const near = `${+g.lat.toFixed(6)},${+g.lng.toFixed(6)}`;
  const res = (await inPage(page, `/facilities?kind=pharmacy&near=${near}&opioid=${fentos.product},${okinorm.product}&limit=20`)).body;
  assert.ok(res.items.length >= 8, `pharmacies for both drugs near ${ADDRESS}: ${res.items.length}`);
  const rows = await pharmacyRows(page);
  assert.deepEqual(rows.map((r) => r.id), res.items.map((i) => i.id), 'same pharmacies, same order');
  assert.deepEqual(rows.map((r) => r.availability), res.items.map((i) => i.availability));
  assert.ok(rows.every((r) => r.group === r.availability), 'each under its own heading');
  // Ranked: every drug in stock, then through a partner, then on order; each tier nearest first.
  const tiers = res.items.map((i) => TIERS.indexOf(i.availability));
  assert.ok(tiers.every((x) => x >= 0), `availabilities: ${res.items.map((i) => i.availability)}`);
  assert.deepEqual(tiers, [...tiers].sort((a, b) => a - b), 'ranked by availability');
  assert.equal(res.items[0].availability, 'always');
  assert.ok(res.items.some((i) => i.availability === 'partner'), 'a sample group gives a pharmacy its partner\u2019s フェントステープ');
  for (const [n, it] of res.items.entries()) {
    // The distance is the great circle from the address (the oracle), the tier's order by it.
    assert.ok(Math.abs(it.distance_m - haversine(g, it.location)) <= 2, `${it.name}: ${it.distance_m} m`);
    const prev = res.items[n - 1];
    if (prev && prev.availability === it.availability) assert.ok(prev.distance_m <= it.distance_m, `${it.name} after ${prev.name}`);
    assert.equal(it.opioid_stock.length, 2, `${it.name}: a line per drug`);
    const weakest = TIERS[Math.max(...it.opioid_stock.map((l) => TIERS.indexOf(l.stock)))];
    assert.equal(it.availability, weakest, `${it.name}: the weakest of its lines`);
    assert.deepEqual(rows[n].stock, it.opioid_stock.map(stockJa), `${it.name}: the stock lines`);
    assert.match(rows[n].distance, DISTANCE_TEXT, `${it.name}: ${rows[n].distance}`);
    const visits = it.services.some((s) => s.kind === 'home_medication_management');
    assert.deepEqual(rows[n].flags, [visits && 'home_visits', it.after_hours === true && 'after_hours'].filter(Boolean), `${it.name}: flags`);
    assert.equal(rows[n].sample, !!it.sample, `${it.name}: サンプル`);
  }
  const partner = res.items.find((i) => i.availability === 'partner');
  const via = partner.opioid_stock.find((l) => l.stock === 'partner');
  assert.ok(via.partner && via.partner.name && via.partner.id !== partner.id, 'the partner is another pharmacy');
  assert.ok(rows.find((r) => r.id === partner.id).stock.includes(stockJa(via)));
  assert.equal(rows.find((r) => r.group === 'always').heading, `すべて在庫あり（${rows.filter((r) => r.group === 'always').length}）`);
  assert.ok(await page.isVisible('#dc-sample-note'), 'sample answers say so');
  await shot(page, 'dc-01-pharmacies');

  // 在庫あり のみ: only pharmacies with every drug on the shelf.
  await page.check('#dc-stock-always');
  await settled(page);
  const always = (await inPage(page, `/facilities?kind=pharmacy&near=${near}&opioid=${fentos.product},${okinorm.product}&limit=20&stock=always`)).body;
  assert.deepEqual((await pharmacyRows(page)).map((r) => r.id), always.items.map((i) => i.id));
  assert.ok(always.items.every((i) => i.opioid_stock.every((l) => l.stock === 'always')), 'stock=always: all in stock');
  await page.uncheck('#dc-stock-always');
  await settled(page);

  // Dental clinics that visit the address: the API's, each reaching it.
  const dres = (await inPage(page, `/facilities?kind=dental_clinic&service=home_visit_dental&reaches=${near}&sort=distance&limit=10`)).body;
  assert.ok(dres.items.length >= 3, `dental clinics visiting ${ADDRESS}: ${dres.items.length}`);
  const drows = await page.$$eval('#dc-dental-list > li', (lis) => lis.map((li) => ({
    id: li.dataset.id, tier: li.querySelector('[data-dental-tier]') ? li.querySelector('[data-dental-tier]').textContent : null,
  })));
  assert.deepEqual(drows.map((r) => r.id), dres.items.map((i) => i.id));
  for (const [n, it] of dres.items.entries()) {
    const svc = it.services.find((s) => s.kind === 'home_visit_dental');
    assert.ok(svc, `${it.name} visits homes`);
    if (svc.radius_km != null) assert.ok(it.distance_m <= svc.radius_km * 1000 + (it.distance_precision_m || 0), `${it.name} reaches the address`);
    assert.equal(drows[n].tier, svc.dental_tier ? (svc.dental_tier_label || svc.dental_tier) : null, `${it.name}: 歯援診`);
    if (n) assert.ok(dres.items[n - 1].distance_m <= it.distance_m);
  }
  assert.ok(dres.items.some((i) => i.sample), 'sample dental answers are in the list');
  // The map: a marker per pharmacy and dentist listed, and the patient's home.
  const onMap = await page.$$eval('#map [data-backup-id]', (ms) => ms.map((m) => m.dataset.backupId).sort());
  assert.deepEqual(onMap, [...new Set(res.items.concat(dres.items).filter((i) => i.location).map((i) => i.id))].sort());
  assert.ok(await page.$('#map [data-home]'), 'the patient’s home is on the map');

  // Two pharmacies on the shortlist; the sheet is the patient's: public contacts, no stock, no FAX.
  const pinned = res.items.slice(0, 2);
  for (const it of pinned) await page.click(`#dc-pharmacies li[data-id="${it.id}"] button[data-act="pin"]`);
  assert.equal(await page.getAttribute(`#dc-pharmacies li[data-id="${pinned[0].id}"] button[data-act="pin"]`, 'aria-pressed'), 'true');
  assert.match(await page.textContent('#tab-shortlist'), /（2）/);
  await page.click('#tab-shortlist');
  assert.equal(await page.$('#map [data-backup-id]'), null, 'the markers go with the screen');
  assert.deepEqual(await page.$$eval('#shortlist-list > li', (lis) => lis.map((li) => li.dataset.id)), pinned.map((i) => i.id));
  assert.ok(await page.isVisible('#shortlist-pro-print'));
  assert.equal(await page.isChecked('#shortlist-pro-print'), false);
  const plain = await printShortlist(page);
  assert.deepEqual(plain.rows.map((r) => r.name), pinned.map((i) => i.everyday_name || i.name));
  assert.ok(plain.rows.every((r) => r.pro === null && !r.stock.length), 'no professional column');
  assert.ok(!plain.proHead);
  assert.ok(!/FAX|在庫あり|取り寄せ|譲受/.test(plain.text), 'no FAX or stock on the patient\u2019s sheet');
  for (const [n, it] of pinned.entries()) {
    const pub = it.contacts.filter((c) => c.kind === 'phone' && (c.visibility || 'public') === 'public').map((c) => c.value);
    assert.equal(plain.rows[n].phone, pub.length ? pub.map((p) => `電話 ${p}`).join('') : '電話番号は未登録です');
  }
  assert.ok(plain.height <= A4_PX.height, `one A4 sheet: ${plain.height} px of ${A4_PX.height}`);
  assert.ok(plain.width <= A4_PX.width, `as wide as the sheet: ${plain.width} px`);
  if (plain.pages !== null) assert.equal(plain.pages, 1, 'the PDF has one page');

  // Six entries with the professional fields: still one sheet, the stock lines as listed.
  await page.click('#tab-discharge');
  for (const it of res.items.slice(2, 4)) await page.click(`#dc-pharmacies li[data-id="${it.id}"] button[data-act="pin"]`);
  for (const it of dres.items.slice(0, 2)) await page.click(`#dc-dental-list li[data-id="${it.id}"] button[data-act="pin"]`);
  await page.click('#tab-shortlist');
  assert.equal(await page.$$eval('#shortlist-list > li', (e) => e.length), 6);
  await page.check('#shortlist-pro-print');
  const pro = await printShortlist(page, { pdf: `${SHOTS}dc-shortlist.pdf`, png: 'dc-02-shortlist-print-pro' });
  assert.equal(pro.rows.length, 6);
  assert.ok(pro.proHead, 'a column for professionals');
  for (const [n, it] of res.items.slice(0, 4).entries()) assert.deepEqual(pro.rows[n].stock, it.opioid_stock.map(stockJa), `${it.name}: printed stock`);
  assert.ok(pro.height <= A4_PX.height, `six entries on one A4 sheet: ${pro.height} px of ${A4_PX.height}`);
  if (pro.pages !== null) assert.equal(pro.pages, 1, 'the PDF has one page');
  assert.deepEqual(unexpected(errors), []);
  await ctx.close();
});

test('the public gets no 退院調整 tab, and opioid= answers 401', { skip }, async () => {
  const { ctx, page, errors } = await newPage(env);
  await page.goto(`${env.base}/`);
  await settled(page);
  assert.ok(await page.isHidden('#tab-discharge'), 'no tab');
  assert.ok(await page.isHidden('#discharge'), 'no screen');
  assert.ok(await page.isHidden('#shortlist-pro-row'), 'no professional print option');
  const r = await inPage(page, `/facilities?kind=pharmacy&near=${WAKITA.lat},${WAKITA.lng}&opioid=fentanyl_patch`);
  assert.equal(r.status, 401);
  assert.equal(r.body.parameter, 'opioid', 'the problem names the parameter');
  assert.ok(r.body.detail.length > 0);
  // The public list of the same pharmacies carries no stock.
  const pub = (await inPage(page, `/facilities?kind=pharmacy&near=${WAKITA.lat},${WAKITA.lng}&limit=20`)).body;
  assert.ok(pub.items.every((i) => i.opioid_stock === undefined));
  assert.deepEqual(unexpected(errors, [401]), []);
  await ctx.close();
});

/** The nurse's rows for the e2e pharmacy (searched from its own address), and the API's item. */
async function nurseSees(page, facility) {
  await page.fill('#dc-address', facility.address.text);
  await page.click('#dc-search');
  await settled(page);
  const rows = await pharmacyRows(page);
  return rows.find((r) => r.id === facility.id) || null;
}

test('a pharmacist answers the pharmacy survey on a phone; after the coordinator approves it the nurse finds the pharmacy stocking both drugs', { skip }, async () => {
  const nurse = await newPage(env);
  await nurse.page.goto(`${env.base}/`);
  await settled(nurse.page);
  const vocab = await brands(nurse.page);
  const facility = (await inPage(nurse.page, `/facilities/${ACC.pharmacy}`)).body;
  assert.equal(facility.kind, 'pharmacy');
  assert.equal(facility.area.code, '1104', 'in the e2e coordinator\u2019s area');
  await dischargeScreen(nurse.page, facility.address.text, vocab);
  const before = (await pharmacyRows(nurse.page)).find((r) => r.id === facility.id);
  assert.ok(!before || before.availability !== 'always', 'not stocking before the survey');

  // The pharmacist: a phone, no account, the link as the coordinator sent it.
  const ph = await newPage(env, { viewport: PHONE });
  const hash = new URL(ACC.link).hash;
  await ph.page.goto(`${env.base}/update.html${hash}`);
  await ph.page.waitForFunction(() => document.body.dataset.ready === '1');
  const view = await (await fetch(`${env.base}/api/v1/update-links/${encodeURIComponent(hash.slice(1))}`)).json();
  assert.equal(view.may_answer_survey, true);
  assert.equal(view.survey.code, 'pharmacy');
  const survey = view.survey;
  const Q = Object.fromEntries(survey.questions.map((q) => [q.id, q]));
  assert.equal(await ph.page.textContent('#upd-name'), view.facility.name);
  assert.equal(await ph.page.textContent('#upd-survey-h'), survey.title_ja);
  // Only the unconditional questions at first.
  const shown = () => ph.page.$$eval('#upd-survey [data-question]', (q) => q.map((x) => x.dataset.question).filter((x) => x !== 'respondent'));
  assert.deepEqual(await shown(), survey.questions.filter((q) => !q.when).map((q) => q.id));
  // Each question shown says whether only professionals will see its answer.
  const marks = async () => {
    for (const id of await shown()) {
      const pro = await ph.page.$(`[data-question="${id}"] [data-professional]`);
      assert.equal(!!pro, Q[id].visibility === 'professional', `${id}: 専門職のみに公開`);
      if (pro) assert.equal(await pro.textContent(), '専門職のみに公開');
    }
  };
  await marks();
  const yes = (id, b = true) => ph.page.click(`[data-question="${id}"] [data-answer="${b}"]`);
  await yes('narcotics_licence');
  assert.ok((await shown()).includes('formulary'), 'the formulary is asked once the licence is');
  // Line 1 by brand; line 2 first by a name the server does not know, refused next to that row.
  await ph.page.fill('[data-line="0"] [data-line-field="name"]', 'フェントステープ');
  await ph.page.fill('[data-line="0"] [data-line-field="strength"]', '1mg');
  await ph.page.click('[data-add-line]');
  await ph.page.fill('[data-line="1"] [data-line-field="name"]', 'ロキソニン');
  await yes('formulary_public', false);
  await yes('home_visits');
  assert.ok((await shown()).includes('service_radius_km'));
  await ph.page.fill('[data-question="service_radius_km"] input', '8');
  await ph.page.click(`[data-question="aseptic_compounding"] [data-answer="none"]`);
  for (const id of ['pca_pump', 'subcutaneous_infusion']) await yes(id, false);
  await yes('take_back');
  await yes('after_hours');
  await ph.page.fill('[data-question="after_hours_phone"] input', '049-000-0999');
  await ph.page.fill('#sv-respondent', '薬剤師 山田');
  assert.ok((await shown()).includes('after_hours_phone') && (await shown()).includes('formulary'));
  await marks();
  assert.ok(await ph.page.evaluate(() => document.documentElement.scrollWidth <= 390), 'no sideways scrolling');
  const big = await ph.page.locator('[data-question="home_visits"] [data-answer="true"]').boundingBox();
  assert.ok(big.height >= 44, `a thumb-sized answer: ${JSON.stringify(big)}`);
  await shot(ph.page, 'dc-03-pharmacist-survey');
  await ph.page.click('#upd-send');
  await ph.page.waitForSelector('[data-line="1"] .field-error');
  assert.equal(await ph.page.getAttribute('[data-line="1"] [data-line-field="name"]', 'aria-invalid'), 'true');
  assert.ok((await ph.page.textContent('[data-line="1"] .field-error')).length > 0, 'the server\u2019s words on line 2');
  assert.equal(await ph.page.$('#upd-done'), null, 'nothing sent; the link still works');
  // オキノーム by its product instead (drug + form).
  await ph.page.fill('[data-line="1"] [data-line-field="name"]', '');
  await ph.page.selectOption('[data-line="1"] [data-line-field="product"]', vocab.okinorm.product);
  await ph.page.click('#upd-send');
  await ph.page.waitForSelector('#upd-done');
  assert.ok((await ph.page.textContent('#upd-done')).includes('回答を受け付けました。地域の調整担当者の確認後に反映されます。'));
  assert.ok(await ph.page.evaluate(() => document.documentElement.scrollWidth <= 390));
  await shot(ph.page, 'dc-04-pharmacist-sent');
  assert.deepEqual(unexpected(ph.errors, [400]), []);
  await ph.ctx.close();

  // Before approval the nurse still does not find it stocking.
  const pending = await nurseSees(nurse.page, facility);
  assert.ok(!pending || pending.availability !== 'always', 'not stocking until approved');

  // The coordinator approves it from the review queue, shown question by question.
  const co = await newPage(env);
  await co.page.goto(`${env.base}/`);
  await settled(co.page);
  await signedIn(co.page, ACC.coordinator);
  await co.page.click('#tab-review');
  const card = `#review-list [data-id="${facility.id}"]`;
  await co.page.waitForSelector(card);
  await settled(co.page);
  assert.equal(await co.page.getAttribute(`${card} [data-survey]`, 'data-survey'), 'pharmacy');
  assert.equal(await co.page.getAttribute(`${card} [data-survey]`, 'data-via'), 'update_link');
  assert.equal(await co.page.textContent(`${card} .review-respondent`), '回答者: 薬剤師 山田');
  const row = (id) => `${card} tr[data-review-question="${id}"]`;
  assert.ok((await co.page.textContent(`${row('narcotics_licence')} th`)).startsWith(Q.narcotics_licence.label_ja));
  assert.equal(await co.page.textContent(`${row('narcotics_licence')} td.new`), 'はい');
  assert.equal(await co.page.textContent(`${row('after_hours_phone')} td.new`), '049-000-0999');
  const lines = await co.page.$eval(`${row('formulary')} td.new`, (td) => td.innerText.split('\n'));
  assert.equal(lines.length, 2, lines.join(' / '));
  assert.ok(lines[0].startsWith('フェントステープ 1mg: 常時在庫'), lines[0]);
  assert.ok(lines[1].endsWith(': 常時在庫'), lines[1]);
  await shot(co.page, 'dc-05-review-survey');
  await co.page.click(`${card} [data-review="approve"]`);
  await co.page.waitForFunction(() => document.querySelector('#review-msg').textContent === '承認しました。施設情報に反映されました。');
  await settled(co.page);
  assert.equal(await co.page.$(card), null, 'nothing of this pharmacy left to review');
  assert.deepEqual(unexpected(co.errors), []);
  await co.ctx.close();

  // The nurse's search now has it among those with everything in stock.
  const now = await nurseSees(nurse.page, facility);
  assert.ok(now, 'the pharmacy is listed');
  assert.equal(now.availability, 'always');
  assert.equal(now.stock.length, 2);
  assert.ok(now.stock.every((s) => s.endsWith(': 在庫あり')), now.stock.join(' / '));
  assert.deepEqual(now.flags, ['home_visits', 'after_hours'], 'home visits and after-hours service from the survey');
  await shot(nurse.page, 'dc-06-nurse-after-approval');
  assert.deepEqual(unexpected(nurse.errors), []);
  await nurse.ctx.close();
});

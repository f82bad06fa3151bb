// End-to-end tests of accounts in headless Chromium: sign-in errors, the professional view,
// a coordinator's edit reaching the public list live, a facility editor's limits, and the
// version conflict. The accounts are made by the caller (tests/web/mod.rs) with
// `pallimap user add` and named in PALLIMAP_E2E_{PROFESSIONAL,COORDINATOR,EDITOR}, with
// PALLIMAP_E2E_PASSWORD and the editor's facility in PALLIMAP_E2E_EDITOR_FACILITY.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, newPage, settled, shot } from './harness.mjs';

const ACC = {
  professional: process.env.PALLIMAP_E2E_PROFESSIONAL,
  coordinator: process.env.PALLIMAP_E2E_COORDINATOR, // area 1104 さいたま
  editor: process.env.PALLIMAP_E2E_EDITOR,
  password: process.env.PALLIMAP_E2E_PASSWORD,
  editorFacility: process.env.PALLIMAP_E2E_EDITOR_FACILITY,
};
const missing = Object.entries(ACC).filter(([, v]) => !v).map(([k]) => k);
const onCi = ['true', '1'].includes(process.env.CI || '');
if (missing.length && onCi) throw new Error(`CI=true but the account e2e tests have no accounts: missing ${missing.join(', ')}`);
const skip = missing.length ? `SKIPPED: no test accounts (PALLIMAP_E2E_* missing: ${missing.join(', ')})` : false;
if (skip) console.log(`# ${skip}`);

// Real facilities of area 1104 (さいたま) in data/, each used by one test only.
const FAX_CLINIC = { id: 'hic-1110106302', fax: '048-863-1230', phone: '048-863-1211' }; // 長澤内科医院
const EDITED = { id: 'hic-1110106468', name: '木村医院', phone: '048-862-5500', fax: '048-865-3918' };
const CONFLICT = { id: 'hic-1110106922' }; // 馬場内科消化器科クリニック

let env;
before(async () => { if (!skip) env = await setup(); });
after(async () => { if (env) await env.close(); });

/** Console and HTTP errors except the statuses a test provokes on purpose. */
function unexpected(errors, statuses = []) {
  return errors.filter((e) => !statuses.some((s) => e.includes(`HTTP ${s} `) || e.includes(`status of ${s}`)));
}

async function signIn(page, email, password = ACC.password) {
  await page.click('#pro-signin');
  await page.fill('#signin-email', email);
  await page.fill('#signin-password', password);
  await page.click('#signin-submit');
}

async function signedIn(page, email) {
  await signIn(page, email);
  await page.waitForSelector('#account-who');
  await settled(page);
}

/** Open a facility straight from its link and wait for the signed-in tools (if any). */
async function openFacility(page, id, { tools = true } = {}) {
  await page.goto(`${env.base}/?id=${id}`);
  await settled(page);
  await page.waitForSelector('#detail:not([hidden]) #detail-name');
  if (tools) await page.waitForSelector('#pro-tools[data-ready="1"]', { state: 'attached' });
}

const contactsText = (page) => page.textContent('#detail [data-field="contacts"]');

/** A session of `email` for requests made from Node: its cookie and CSRF token. */
async function apiSession(email) {
  const r = await fetch(`${env.base}/api/v1/session`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password: ACC.password }),
  });
  assert.equal(r.status, 200, `sign-in of ${email}`);
  const cookie = r.headers.getSetCookie().find((c) => c.startsWith('pallimap_session=')).split(';')[0];
  return { cookie, csrf: (await r.json()).csrf };
}

test('a wrong password shows one generic message, then the retry time after too many', { skip }, async () => {
  const { ctx, page, errors } = await newPage(env);
  await page.goto(`${env.base}/`);
  await settled(page);
  assert.equal(await page.textContent('#pro-signin'), 'ログイン');
  // The same words for a known account with a wrong password and for an unknown account.
  await signIn(page, ACC.professional, 'not-the-password');
  await page.waitForSelector('#signin-msg:not([hidden])');
  assert.equal(await page.textContent('#signin-msg'), 'メールアドレスまたはパスワードが違います。');
  for (let i = 0; i < 5; i++) {
    await page.fill('#signin-email', 'nobody@example.jp');
    await page.fill('#signin-password', `wrong-password-${i}`);
    await page.evaluate(() => { document.querySelector('#signin-msg').textContent = ''; });
    await page.click('#signin-submit');
    await page.waitForFunction(() => document.querySelector('#signin-msg').textContent !== '');
    assert.equal(await page.textContent('#signin-msg'), 'メールアドレスまたはパスワードが違います。', `attempt ${i + 1}`);
  }
  await page.evaluate(() => { document.querySelector('#signin-msg').textContent = ''; });
  await page.click('#signin-submit');
  await page.waitForFunction(() => document.querySelector('#signin-msg').textContent !== '');
  assert.match(await page.textContent('#signin-msg'), /^ログインの失敗が続いたため、しばらくログインできません。約 1[0-5] 分後（\d\d:\d\d 以降）にもう一度お試しください。$/);
  assert.ok(await page.isHidden('#account-who'), 'nobody is signed in');
  await shot(page, 'acc-01-sign-in-locked');
  assert.deepEqual(unexpected(errors, [401, 429]), []);
  await ctx.close();
});

test('a professional sees the FAX number the public does not, labelled, and loses it on sign-out', { skip }, async () => {
  const { ctx, page, errors } = await newPage(env);
  await openFacility(page, FAX_CLINIC.id, { tools: false });
  assert.ok((await contactsText(page)).includes(FAX_CLINIC.phone), 'the public phone is shown');
  assert.ok(!(await contactsText(page)).includes(FAX_CLINIC.fax), 'the public does not see the FAX');
  assert.equal(await page.$('#pro-tools'), null, 'no professional tools for the public');

  await signedIn(page, ACC.professional);
  assert.equal(await page.textContent('#account-who .role-badge'), '医療・介護専門職');
  await page.waitForSelector('#pro-tools[data-ready="1"]', { state: 'attached' });
  const fax = await page.$eval(`#detail li[data-contact="fax:${FAX_CLINIC.fax}"]`, (li) => li.textContent);
  assert.equal(fax, `FAX: ${FAX_CLINIC.fax} 医療者向け`);
  const phone = await page.$eval(`#detail li[data-contact="phone:${FAX_CLINIC.phone}"]`, (li) => li.textContent);
  assert.equal(phone, `電話: ${FAX_CLINIC.phone}（代表）`, 'a public contact carries no tag');
  assert.equal(await page.$('#edit-open'), null, 'a professional edits nothing');
  assert.equal(await page.textContent('#no-edit'), 'この施設を編集する権限はありません（閲覧のみのアカウントです）。');
  await shot(page, 'acc-02-professional-fax');

  // English labels too.
  await page.click('#lang-toggle');
  await page.waitForSelector('#pro-tools[data-ready="1"]', { state: 'attached' });
  assert.equal(await page.textContent('#account-who .role-badge'), 'Professional');
  assert.equal(await page.$eval(`#detail li[data-contact="fax:${FAX_CLINIC.fax}"] .pro-tag`, (e) => e.textContent), 'Professionals only');
  await page.click('#lang-toggle');

  await page.click('#sign-out');
  await page.waitForSelector('#pro-signin');
  await page.waitForFunction((fax) => {
    const c = document.querySelector('#detail [data-field="contacts"]');
    return c && !c.textContent.includes(fax);
  }, FAX_CLINIC.fax);
  await settled(page);
  assert.ok(!(await contactsText(page)).includes(FAX_CLINIC.fax), 'signed out: the FAX is gone');
  assert.equal(await page.$('#pro-tools'), null);
  assert.deepEqual(unexpected(errors), []);
  await ctx.close();
});

test('a coordinator edits a phone number and the public list and detail show it without a server reload', { skip }, async () => {
  const NEW_PHONE = '048-862-5511';
  const { ctx, page, errors } = await newPage(env);
  await page.goto(`${env.base}/`);
  await settled(page);
  await signedIn(page, ACC.coordinator);
  assert.equal(await page.textContent('#account-who .role-badge'), 'コーディネーター');
  await openFacility(page, EDITED.id);
  await page.click('#edit-open');
  await page.waitForSelector('#edit-form');
  assert.equal(await page.inputValue('#edit-name'), EDITED.name);
  const phoneInput = `#edit-form input[data-path="contacts[0].value"]`;
  assert.equal(await page.inputValue(phoneInput), EDITED.phone);
  assert.equal(await page.inputValue('#edit-form select[data-path="contacts[1].visibility"]'), 'professional', 'the FAX stays for professionals');

  // A number the server refuses: the message sits next to that field.
  await page.fill(phoneInput, '12');
  await page.click('#edit-save');
  await page.waitForSelector('#edit-form [data-error-for="contacts[0].value"]');
  assert.equal(await page.textContent('#edit-form [data-error-for="contacts[0].value"]'),
    '電話・FAX番号は 0 から始まる10桁か11桁で入力してください（例: 048-123-4567）。');
  assert.equal(await page.textContent('#edit-msg'), '入力内容を確認してください。');
  assert.equal(await page.getAttribute(phoneInput, 'aria-invalid'), 'true');
  await shot(page, 'acc-03-field-error');

  await page.fill(phoneInput, NEW_PHONE);
  await page.click('#edit-save');
  await page.waitForSelector('#tools-msg .ok-msg');
  assert.equal(await page.textContent('#tools-msg'), '保存しました。');
  assert.equal(await page.$('#edit-form'), null, 'the form closes');
  assert.ok((await contactsText(page)).includes(NEW_PHONE));
  await page.waitForSelector('#pro-tools[data-ready="1"]', { state: 'attached' });
  await page.click('#history summary');
  await page.waitForSelector('#history-body tr[data-history-field="contacts"]');
  const change = await page.textContent('#history-body tr[data-history-field="contacts"] .new');
  assert.ok(change.includes(`電話 ${NEW_PHONE}`), `history shows the new number: ${change}`);
  assert.match(await page.textContent('#history-body tr[data-history-field="contacts"]'), /コーディネーター（/);

  // Confirm unchanged sets the verified date.
  assert.equal(await page.textContent('#detail dd[data-field="verified_at"]'), '未確認');
  await page.click('#verify-btn');
  await page.waitForFunction(() => /内容に変更がないことを確認しました/.test(document.querySelector('#tools-msg').textContent));
  assert.notEqual(await page.textContent('#detail dd[data-field="verified_at"]'), '未確認');
  await shot(page, 'acc-04-coordinator-saved');

  // The public, in another browser context: search until the catalog has the change (bounded).
  const pub = await newPage(env);
  await pub.page.goto(`${env.base}/?q=${encodeURIComponent(EDITED.name)}`);
  await settled(pub.page);
  const item = `#result-list li[data-id="${EDITED.id}"] .tel`;
  let shown = '';
  for (let i = 0; i < 50; i++) {
    shown = (await pub.page.textContent(item)) || '';
    if (shown.includes(NEW_PHONE)) break;
    await pub.page.waitForTimeout(200);
    await pub.page.click('#search-btn');
    await settled(pub.page);
  }
  assert.equal(shown, `電話: ${NEW_PHONE}`, 'the public list shows the new number');
  await pub.page.click(`#result-list li[data-id="${EDITED.id}"] button.name`);
  await pub.page.waitForSelector('#detail:not([hidden]) #detail-name');
  const pubContacts = await contactsText(pub.page);
  assert.ok(pubContacts.includes(NEW_PHONE) && !pubContacts.includes(EDITED.phone), pubContacts);
  assert.ok(!pubContacts.includes(EDITED.fax), 'and still no FAX for the public');
  await shot(pub.page, 'acc-05-public-sees-edit');
  assert.deepEqual(unexpected(pub.errors), []);
  await pub.ctx.close();
  assert.deepEqual(unexpected(errors, [400]), []);
  await ctx.close();
});

test('a facility editor cannot edit another facility: no form, and a forced PATCH answers 403', { skip }, async () => {
  const { ctx, page, errors } = await newPage(env);
  await page.goto(`${env.base}/`);
  await settled(page);
  await signedIn(page, ACC.editor);
  assert.equal(await page.textContent('#account-who .role-badge'), '施設担当者');
  await openFacility(page, FAX_CLINIC.id);
  assert.equal(await page.$('#edit-open'), null);
  assert.equal(await page.$('#edit-form'), null);
  assert.equal(await page.$('#verify-btn'), null);
  assert.equal(await page.textContent('#no-edit'), 'この施設を編集する権限はありません（担当施設のみ編集できます）。');
  await shot(page, 'acc-06-editor-other-facility');
  const forced = await page.evaluate(async (id) => {
    const s = await (await fetch('/api/v1/session')).json();
    const g = await fetch(`/api/v1/facilities/${id}`);
    const r = await fetch(`/api/v1/facilities/${id}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/merge-patch+json', 'X-CSRF-Token': s.csrf, 'If-Match': g.headers.get('ETag') },
      body: JSON.stringify({ notes: 'not mine' }),
    });
    return { status: r.status, body: await r.json() };
  }, FAX_CLINIC.id);
  assert.equal(forced.status, 403);
  assert.equal(forced.body.code, 'forbidden');
  assert.match(forced.body.detail, new RegExp(`^この操作の権限がありません / Facility ${FAX_CLINIC.id} is not one of yours \\(${ACC.editorFacility}\\)`));
  // Their own facility has the form.
  await openFacility(page, ACC.editorFacility);
  await page.click('#edit-open');
  await page.waitForSelector('#edit-form #edit-name');
  assert.deepEqual(unexpected(errors, [403]), []);
  await ctx.close();
});

test('a stale version shows 「他の人がこの施設を変更しました」 with their version, and re-applying saves both', { skip }, async () => {
  const THEIR_URL = 'https://example.jp/baba-clinic';
  const MY_NOTES = '在宅患者の緊急時は代表番号へ';
  const { ctx, page, errors } = await newPage(env);
  await page.goto(`${env.base}/`);
  await settled(page);
  await signedIn(page, ACC.coordinator);
  await openFacility(page, CONFLICT.id);
  await page.click('#edit-open');
  await page.waitForSelector('#edit-form');
  await page.fill('#edit-notes', MY_NOTES);

  // Meanwhile someone else (another session) changes the website.
  const other = await apiSession(ACC.coordinator);
  const g = await fetch(`${env.base}/api/v1/facilities/${CONFLICT.id}`, { headers: { cookie: other.cookie } });
  const p = await fetch(`${env.base}/api/v1/facilities/${CONFLICT.id}`, {
    method: 'PATCH',
    headers: { cookie: other.cookie, 'X-CSRF-Token': other.csrf, 'If-Match': g.headers.get('etag'), 'content-type': 'application/merge-patch+json' },
    body: JSON.stringify({ url: THEIR_URL }),
  });
  assert.equal(p.status, 200);

  await page.click('#edit-save');
  await page.waitForSelector('#edit-conflict');
  const box = (await page.textContent('#edit-conflict')).replace(/\s+/g, ' ').trim();
  assert.ok(box.startsWith('他の人がこの施設を変更しました。現在の内容:'), box);
  assert.ok(box.includes(THEIR_URL), `their version is shown: ${box}`);
  assert.ok(box.includes('あなたの変更: 備考'), box);
  assert.equal(await page.inputValue('#edit-notes'), MY_NOTES, 'what I typed is kept');
  await shot(page, 'acc-07-conflict');

  await page.click('#edit-reapply');
  await page.waitForSelector('#tools-msg .ok-msg');
  assert.equal(await page.textContent('#tools-msg'), '保存しました。');
  // The catalog follows the store within about a second: poll (bounded) for the saved version.
  let now = null;
  for (let i = 0; i < 50; i++) {
    now = await (await fetch(`${env.base}/api/v1/facilities/${CONFLICT.id}`, { headers: { cookie: other.cookie } })).json();
    if (now.notes === MY_NOTES) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.equal(now.url, THEIR_URL, 'their change is kept');
  assert.equal(now.notes, MY_NOTES, 'mine is applied');
  assert.deepEqual(unexpected(errors, [409]), []);
  await ctx.close();
});

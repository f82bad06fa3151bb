// 「情報の修正を依頼」: the public's report that something in a record is wrong, from the detail
// panel, no account needed. It goes to the area's coordinator (修正依頼 on the desk); the reporter
// sees a thank-you and nothing else. `website` is a honeypot people never see or reach.

import './correction.css';
import { t, addStrings } from './i18n.js';
import { request, serverText } from './account.js';

addStrings({
  corrOpen: ['情報の修正を依頼', 'Report wrong information'],
  corrHeading: ['情報の修正を依頼', 'Report wrong information'],
  corrIntro: ['この施設の情報に誤りや古い内容があれば教えてください。地域の担当者（コーディネーター）が確認します。', 'Tell us what is wrong or out of date in this entry. The area\u2019s coordinator will check it.'],
  corrWhat: ['修正してほしい内容（必須）', 'What is wrong (required)'],
  corrWhatHint: ['例: 電話番号が変わりました（新しい番号 048-…）。患者さんの個人情報は書かないでください。', 'e.g. the phone number has changed (new number 048-…). Do not write any patient\u2019s personal details.'],
  corrContact: ['連絡先（任意）', 'How to reach you (optional)'],
  corrContactHint: ['返事が必要な場合のみ。メールアドレスや電話番号など、書いた内容だけが保存されます。', 'Only if you want an answer. Only what you type here is kept.'],
  corrHoneypot: ['ホームページ（空欄のままにしてください）', 'Website (leave empty)'],
  corrSend: ['送信', 'Send'],
  corrSending: ['送信中…', 'Sending…'],
  corrThanks: ['ありがとうございます。修正の依頼を受け付けました。地域の担当者が確認します。', 'Thank you. Your report has been received; the area\u2019s coordinator will check it.'],
  corrWhatMissing: ['修正してほしい内容を書いてください。', 'Say what is wrong.'],
  corrTooMany: ['しばらくしてからもう一度お試しください（{s} 秒後）。', 'Please try again later (in {s} seconds).'],
  corrFailed: ['送信できませんでした: {d}', 'Could not send: {d}'],
});

const $ = (sel, r = document) => r.querySelector(sel);
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

const WHAT_MAX = 2000;
const CONTACT_MAX = 200;

/** The form's state for the facility it was opened on: kept across re-renders of the panel. */
const st = { id: null, open: false, sent: false, what: '', contact: '', website: '', error: '', field: '', busy: false };

function forFacility(id) {
  if (st.id !== id) Object.assign(st, { id, open: false, sent: false, what: '', contact: '', website: '', error: '', field: '', busy: false });
}

/** The section at the end of the public detail (the button, and the form once opened). */
export function correctionHtml(f) {
  forFacility(f.id);
  const form = st.sent ? `<p class="ok-msg" id="corr-thanks" role="status" tabindex="-1">${esc(t('corrThanks'))}</p>` : `
    <form id="corr-form" class="corr-form" novalidate ${st.open ? '' : 'hidden'} aria-labelledby="corr-heading">
      <h4 id="corr-heading">${esc(t('corrHeading'))}</h4>
      <p class="hint">${esc(t('corrIntro'))}</p>
      <div class="field"><label for="corr-what">${esc(t('corrWhat'))}</label>
        <textarea id="corr-what" name="what" rows="4" maxlength="${WHAT_MAX}" required aria-describedby="corr-what-hint corr-what-error"${st.field === 'what' ? ' aria-invalid="true"' : ''}>${esc(st.what)}</textarea>
        <p id="corr-what-hint" class="hint">${esc(t('corrWhatHint'))}</p>
        <p id="corr-what-error" class="field-error" ${st.field === 'what' ? '' : 'hidden'}>${st.field === 'what' ? esc(st.error) : ''}</p></div>
      <div class="field"><label for="corr-contact">${esc(t('corrContact'))}</label>
        <input id="corr-contact" name="contact" type="text" maxlength="${CONTACT_MAX}" autocomplete="off" aria-describedby="corr-contact-hint" value="${esc(st.contact)}">
        <p id="corr-contact-hint" class="hint">${esc(t('corrContactHint'))}</p></div>
      <div class="corr-hp" aria-hidden="true"><label for="corr-website">${esc(t('corrHoneypot'))}</label>
        <input id="corr-website" name="website" type="text" tabindex="-1" autocomplete="off" value="${esc(st.website)}"></div>
      <p id="corr-msg" class="msg" role="alert" ${st.error && st.field !== 'what' ? '' : 'hidden'}>${st.field !== 'what' ? esc(st.error) : ''}</p>
      <div class="row"><button type="submit" class="btn primary small" id="corr-send"${st.busy ? ' disabled' : ''}>${esc(t(st.busy ? 'corrSending' : 'corrSend'))}</button></div>
    </form>`;
  return `<section class="corr" id="corr" data-facility="${esc(f.id)}">
    ${st.sent ? '' : `<button type="button" class="btn small" id="corr-toggle" aria-expanded="${st.open}" aria-controls="corr-form">${esc(t('corrOpen'))}</button>`}
    ${form}
  </section>`;
}

function show(error, field = '') {
  st.error = error;
  st.field = field;
  const what = $('#corr-what');
  const whatErr = $('#corr-what-error');
  const msg = $('#corr-msg');
  if (!what || !msg) return;
  if (field === 'what') what.setAttribute('aria-invalid', 'true');
  else what.removeAttribute('aria-invalid');
  whatErr.hidden = field !== 'what';
  whatErr.textContent = field === 'what' ? error : '';
  msg.hidden = !error || field === 'what';
  msg.textContent = field === 'what' ? '' : error;
  if (field === 'what') what.focus();
}

async function send(section) {
  const id = section.dataset.facility;
  st.what = $('#corr-what').value;
  st.contact = $('#corr-contact').value;
  st.website = $('#corr-website').value;
  const what = st.what.trim();
  if (!what) return show(t('corrWhatMissing'), 'what');
  show('');
  const btn = $('#corr-send');
  st.busy = true;
  btn.disabled = true;
  btn.textContent = t('corrSending');
  const body = { what, website: st.website };
  if (st.contact.trim()) body.contact = st.contact.trim();
  const r = await request('POST', `/facilities/${encodeURIComponent(id)}/corrections`, { body });
  st.busy = false;
  if (st.id !== id || !document.contains(section)) return;
  btn.disabled = false;
  btn.textContent = t('corrSend');
  if (r.status === 202 || r.ok) {
    st.sent = true;
    section.outerHTML = correctionHtml({ id });
    const thanks = $('#corr-thanks');
    if (thanks) thanks.focus();
    return;
  }
  const p = r.body || {};
  if (r.status === 429) {
    const s = Math.max(1, Math.ceil(Number(r.retryAfter || p.retry_after) || 0));
    return show(t('corrTooMany', { s }));
  }
  const detail = serverText(p.detail) || (r.status ? `HTTP ${r.status}` : t('signInDown'));
  if (r.status === 400 && p.field === 'what') return show(detail, 'what');
  show(t('corrFailed', { d: detail }));
}

/** Wire the form inside the detail panel (its content is re-rendered; the panel stays). */
export function initCorrections(panel = $('#detail')) {
  panel.addEventListener('click', (ev) => {
    const b = ev.target.closest('#corr-toggle');
    if (!b) return;
    st.open = !st.open;
    b.setAttribute('aria-expanded', String(st.open));
    const form = $('#corr-form');
    if (form) form.hidden = !st.open;
    if (st.open) $('#corr-what').focus();
  });
  panel.addEventListener('submit', (ev) => {
    if (ev.target.id !== 'corr-form') return;
    ev.preventDefault();
    send(ev.target.closest('#corr'));
  });
  // Keep what was typed when the panel is drawn again (a language switch, a sign-in).
  panel.addEventListener('input', (ev) => {
    if (ev.target.id === 'corr-what') st.what = ev.target.value;
    else if (ev.target.id === 'corr-contact') st.contact = ev.target.value;
    else if (ev.target.id === 'corr-website') st.website = ev.target.value;
  });
}

// A facility survey (調査票): the form the update-link page renders from the survey definition
// (questions, their conditions, the opioid formulary's row editor), the answers it sends, and
// how an answer reads in words (the review queue shows them that way too).

import { t, addStrings, getLang } from './i18n.js';

addStrings({
  svYes: ['はい', 'Yes'],
  svNo: ['いいえ', 'No'],
  svProfessional: ['専門職のみに公開', 'Professionals only'],
  svInternal: ['非公開', 'Not published'],
  svRequired: ['必須', 'required'],
  svRespondent: ['回答者（職種・氏名、任意。公開されません）', 'Answered by (role, name; optional, not published)'],
  svRespondentPlaceholder: ['例: 薬剤師 山田', 'e.g. 薬剤師 山田'],
  svMissing: ['回答してください。', 'Please answer this.'],
  svFormularyName: ['販売名（入力）', 'Brand name (typed)'],
  svFormularyProduct: ['または 一般名・剤形', 'or generic name and form'],
  svFormularyPick: ['選んでください', 'Choose'],
  svFormularyStrength: ['規格（任意）', 'Strength (optional)'],
  svFormularyStock: ['在庫', 'Stock'],
  svStock_always: ['常時在庫', 'Always in stock'],
  svStock_order: ['取り寄せ', 'On order'],
  svStock_no: ['取り扱いなし', 'Not handled'],
  svOrderDays: ['取り寄せの通常日数', 'Usual days to obtain'],
  svDays: ['日', 'days'],
  svAddLine: ['薬を追加', 'Add a drug'],
  svRemoveLine: ['この行を削除', 'Remove this line'],
  svLine: ['{n}行目', 'Line {n}'],
  svLineMissing: ['販売名を入力するか、一般名・剤形を選んでください。', 'Type a brand name or choose the generic name and form.'],
  svNone: ['—', '—'],
  svIntro: ['この調査の回答は、地域の調整担当者が確認してから掲載されます。「専門職のみに公開」の項目は、ログインした医療・介護専門職にだけ表示されます。', 'A coordinator of the region checks the answers before they are shown. Items marked “Professionals only” are shown to signed-in professionals only.'],
});

/** The dosage forms a product code may end with (a product naming one form). */
const FORMS = ['oral_immediate', 'oral_sustained', 'suppository', 'injection', 'patch_1day', 'patch_3day', 'buccal', 'sublingual'];
const STOCKS = ['always', 'order', 'no'];

const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
const ja = () => getLang() !== 'en';
const lbl = (o, key = 'label') => (ja() ? o[`${key}_ja`] : (o[`${key}_en`] || o[`${key}_ja`])) || '';

/** The form a product names, if it names exactly one (`fentanyl_patch_1day` → `patch_1day`). */
export function singleForm(p) {
  // The vocabulary says it (`form`: null for a drug or a group of forms); older answers did not.
  if (p.form !== undefined) return p.form || null;
  const rest = String(p.code || '').slice(String(p.drug || '').length + 1);
  return p.code && p.code.startsWith(`${p.drug}_`) && FORMS.includes(rest) ? rest : null;
}

/** Products the row editor offers: those that name one drug in one form. */
export function formularyProducts(vocab) {
  return ((vocab && vocab.products) || []).filter((p) => singleForm(p));
}

/** Whether a question is asked given the answers so far (its `when` holds). */
export function asked(q, answers) {
  if (!q.when) return true;
  return answers[q.when.question] === q.when.equals;
}

/** A fresh form state for `survey`. */
export function newSurveyState() {
  return { answers: {}, lines: [emptyLine()], respondent: '' };
}

function emptyLine() { return { name: '', product: '', strength: '', stock: 'always', order_days: '' }; }

/** The lines typed in the formulary editor, as the API takes them (blank rows left out). */
function formularyAnswer(lines, vocab) {
  const out = [];
  for (const l of lines) {
    const name = l.name.trim();
    const p = !name && l.product ? formularyProducts(vocab).find((x) => x.code === l.product) : null;
    if (!name && !p) continue;
    const o = name ? { name } : { drug: p.drug, form: singleForm(p) };
    if (l.strength.trim()) o.strength = l.strength.trim();
    o.stock = l.stock;
    if (l.stock === 'order' && String(l.order_days).trim() !== '') o.order_days = Number(l.order_days);
    out.push(o);
  }
  return out;
}

/**
 * The answers to send: only questions asked, blank ones left out. `missing` lists the
 * required questions asked but not answered.
 */
export function collectAnswers(survey, state, vocab) {
  const answers = {};
  const missing = [];
  for (const q of survey.questions || []) {
    if (!asked(q, { ...state.answers, ...answers })) continue;
    let v;
    if (q.type === 'formulary') {
      v = formularyAnswer(state.lines, vocab);
      if (!v.length) v = undefined;
    } else {
      v = state.answers[q.id];
      if (typeof v === 'string') v = v.trim() || undefined;
      if (q.type === 'number' && v !== undefined) v = Number(v);
    }
    if (v === undefined) { if (q.required) missing.push(q.id); continue; }
    answers[q.id] = v;
  }
  return { answers, missing };
}

/** Whether anything was answered yet (the page only sends a survey someone started). */
export function surveyTouched(state) {
  return Object.keys(state.answers).length > 0 || state.lines.some((l) => l.name.trim() || l.product) || !!state.respondent.trim();
}

function errorHtml(errors, key) {
  return errors[key] ? `<p class="field-error" data-error-for="${esc(key)}">${esc(errors[key])}</p>` : '';
}

function productOptions(vocab, chosen) {
  return `<option value="">${esc(t('svFormularyPick'))}</option>${formularyProducts(vocab).map((p) => `<option value="${esc(p.code)}"${p.code === chosen ? ' selected' : ''}>${esc(lbl(p))}</option>`).join('')}`;
}

function lineHtml(l, i, { vocab, errors, disabled }) {
  const id = (f) => `sv-f-${i}-${f}`;
  const dis = disabled ? ' disabled' : '';
  const inv = (f) => (errors[`formulary.${i}.${f}`] ? ' aria-invalid="true"' : '');
  return `<fieldset class="sv-line" data-line="${i}">
      <legend>${esc(t('svLine', { n: i + 1 }))}</legend>
      <label for="${id('name')}">${esc(t('svFormularyName'))}</label>
      <input id="${id('name')}" type="text" list="sv-brands" autocomplete="off" data-line-field="name" value="${esc(l.name)}"${inv('name')}${dis}>
      <label for="${id('product')}">${esc(t('svFormularyProduct'))}</label>
      <select id="${id('product')}" data-line-field="product"${inv('drug')}${dis}>${productOptions(vocab, l.product)}</select>
      <div class="sv-pair">
        <div><label for="${id('strength')}">${esc(t('svFormularyStrength'))}</label>
          <input id="${id('strength')}" type="text" autocomplete="off" data-line-field="strength" value="${esc(l.strength)}" placeholder="2.5mg"${inv('strength')}${dis}></div>
        <div><label for="${id('stock')}">${esc(t('svFormularyStock'))}</label>
          <select id="${id('stock')}" data-line-field="stock"${inv('stock')}${dis}>${STOCKS.map((s) => `<option value="${s}"${s === l.stock ? ' selected' : ''}>${esc(t(`svStock_${s}`))}</option>`).join('')}</select></div>
      </div>
      ${l.stock === 'order' ? `<label for="${id('order_days')}">${esc(t('svOrderDays'))}</label>
        <span class="sv-unit"><input id="${id('order_days')}" type="number" inputmode="numeric" min="0" max="30" data-line-field="order_days" value="${esc(l.order_days)}"${inv('order_days')}${dis}> ${esc(t('svDays'))}</span>` : ''}
      ${Object.keys(errors).filter((k) => k.startsWith(`formulary.${i}.`)).map((k) => errorHtml(errors, k)).join('')}
      <button type="button" class="btn small" data-remove-line="${i}"${dis}>${esc(t('svRemoveLine'))}</button>
    </fieldset>`;
}

function questionInput(q, state, opts) {
  const v = state.answers[q.id];
  const dis = opts.disabled ? ' disabled' : '';
  const inv = opts.errors[q.id] ? ' aria-invalid="true"' : '';
  const id = `sv-${q.id}`;
  switch (q.type) {
    case 'yes_no':
      return `<div class="sv-choices" role="group" aria-labelledby="${id}-l">
          ${[true, false].map((b) => `<button type="button" class="big sv-choice" data-answer="${b}" aria-pressed="${v === b}"${dis}>${esc(t(b ? 'svYes' : 'svNo'))}</button>`).join('')}
        </div>`;
    case 'choice':
      return `<div class="sv-choices sv-many" role="group" aria-labelledby="${id}-l">
          ${(q.options || []).map((o) => `<button type="button" class="big sv-choice" data-answer="${esc(o.value)}" aria-pressed="${v === o.value}"${dis}>${esc(lbl(o))}</button>`).join('')}
        </div>`;
    case 'number':
      return `<span class="sv-unit"><input id="${id}" type="number" inputmode="decimal" data-answer-input${q.min != null ? ` min="${q.min}"` : ''}${q.max != null ? ` max="${q.max}"` : ''} value="${esc(v ?? '')}"${inv}${dis}>${q.unit ? ` ${esc(q.unit)}` : ''}</span>`;
    case 'phone':
      return `<input id="${id}" type="tel" inputmode="tel" autocomplete="off" data-answer-input placeholder="049-000-0000" value="${esc(v ?? '')}"${inv}${dis}>`;
    case 'formulary':
      return `<div class="sv-formulary">${state.lines.map((l, i) => lineHtml(l, i, opts)).join('')}
          <button type="button" class="btn" data-add-line${dis}>${esc(t('svAddLine'))}</button></div>`;
    default: {
      const max = q.max_chars ? ` maxlength="${q.max_chars}"` : '';
      return q.max_chars && q.max_chars <= 80
        ? `<input id="${id}" type="text" data-answer-input${max} value="${esc(v ?? '')}"${inv}${dis}>`
        : `<textarea id="${id}" rows="3" data-answer-input${max}${inv}${dis}>${esc(v ?? '')}</textarea>`;
    }
  }
}

function questionHtml(q, state, opts) {
  const labelFor = ['yes_no', 'choice', 'formulary'].includes(q.type) ? '' : ` for="sv-${q.id}"`;
  const tag = labelFor ? 'label' : 'p';
  return `<div class="sv-q" data-question="${esc(q.id)}" data-type="${esc(q.type)}">
      <${tag} class="sv-label" id="sv-${esc(q.id)}-l"${labelFor}>${esc(lbl(q))}${q.required ? ` <span class="sv-req">（${esc(t('svRequired'))}）</span>` : ''}${q.visibility === 'professional' ? ` <span class="sv-pro" data-professional>${esc(t('svProfessional'))}</span>` : q.visibility === 'internal' ? ` <span class="sv-pro sv-internal" data-internal>${esc(t('svInternal'))}</span>` : ''}</${tag}>
      ${lbl(q, 'help') ? `<p class="hint">${esc(lbl(q, 'help'))}</p>` : ''}
      ${questionInput(q, state, opts)}
      ${errorHtml(opts.errors, q.id)}
    </div>`;
}

/** The whole form; `errors`: question id (or `formulary.N.field`, `respondent`) → words. */
export function surveyFormHtml(survey, state, { vocab, errors = {}, disabled = false } = {}) {
  const opts = { vocab, errors, disabled };
  const names = ((vocab && vocab.names) || []).map((n) => `<option value="${esc(n.name)}"></option>`).join('');
  return `<section class="upd-survey" id="upd-survey" data-survey="${esc(survey.code)}" aria-labelledby="upd-survey-h">
      <h2 id="upd-survey-h">${esc(lbl(survey, 'title'))}</h2>
      <p class="hint">${esc(t('svIntro'))}</p>
      <datalist id="sv-brands">${names}</datalist>
      ${(survey.questions || []).filter((q) => asked(q, state.answers)).map((q) => questionHtml(q, state, opts)).join('')}
      <div class="sv-q" data-question="respondent">
        <label class="sv-label" for="sv-respondent">${esc(t('svRespondent'))}</label>
        <input id="sv-respondent" type="text" maxlength="100" autocomplete="off" placeholder="${esc(t('svRespondentPlaceholder'))}" value="${esc(state.respondent)}"${errors.respondent ? ' aria-invalid="true"' : ''}${disabled ? ' disabled' : ''}>
        ${errorHtml(errors, 'respondent')}
      </div>
    </section>`;
}

/**
 * Keep `state` in step with the form under `root`; `redraw()` when what is shown changes
 * (a condition, a row added or removed, a stock switched to 取り寄せ).
 */
export function wireSurvey(root, getState, redraw) {
  const question = (el) => el.closest('[data-question]') && el.closest('[data-question]').dataset.question;
  root.addEventListener('click', (ev) => {
    const b = ev.target.closest('button');
    const state = getState();
    if (!b || b.disabled || !state || !b.closest('#upd-survey')) return;
    if (b.dataset.answer !== undefined) {
      const id = question(b);
      const q = b.closest('[data-type]').dataset.type;
      const v = q === 'yes_no' ? b.dataset.answer === 'true' : b.dataset.answer;
      if (state.answers[id] === v) delete state.answers[id];
      else state.answers[id] = v;
      redraw({ focus: `[data-question="${id}"] [data-answer="${b.dataset.answer}"]` });
    } else if (b.dataset.addLine !== undefined) {
      state.lines.push(emptyLine());
      redraw({ focus: `[data-line="${state.lines.length - 1}"] [data-line-field="name"]` });
    } else if (b.dataset.removeLine !== undefined) {
      state.lines.splice(Number(b.dataset.removeLine), 1);
      if (!state.lines.length) state.lines.push(emptyLine());
      redraw({ focus: '[data-add-line]' });
    }
  });
  const onInput = (ev) => {
    const el = ev.target;
    const state = getState();
    if (!state || !el.closest || !el.closest('#upd-survey')) return;
    if (el.id === 'sv-respondent') { state.respondent = el.value; return; }
    if (el.dataset.answerInput !== undefined) {
      const id = question(el);
      if (el.value.trim() === '') delete state.answers[id];
      else state.answers[id] = el.value;
      return;
    }
    const f = el.dataset.lineField;
    if (f) {
      const i = Number(el.closest('[data-line]').dataset.line);
      state.lines[i][f] = el.value;
      if (f === 'stock' && ev.type === 'change') redraw({ focus: `[data-line="${i}"] [data-line-field="stock"]` });
    }
  };
  root.addEventListener('input', onInput);
  root.addEventListener('change', onInput);
}

/**
 * Where a refused answer's message goes: `survey.answers.formulary[1].name` →
 * `formulary.1.name` (shown in that row), `survey.answers.after_hours_phone` → the question,
 * `survey.respondent` → the respondent box. Null when the field is not the survey's.
 */
export function surveyErrorKey(field) {
  const m = /^survey\.(?:answers\.(\w+)(?:\[(\d+)\](?:\.(\w+))?)?|(respondent))$/.exec(field || '');
  if (!m) return /^survey(\.|$)/.test(field || '') ? '_survey' : null;
  if (m[4]) return 'respondent';
  if (m[2] !== undefined) return `${m[1]}.${m[2]}.${m[3] || 'name'}`;
  return m[1];
}

// ---------- answers in words (the review queue) ----------

/** 「フェントステープ 1mg: 常時在庫」, 「オキシコドン 内服（速放性） 2.5mg: 取り寄せ（2日）」. */
export function formularyLineText(l, vocab) {
  let what = l.name || '';
  if (!what) {
    const p = ((vocab && vocab.products) || []).find((x) => x.drug === l.drug && singleForm(x) === l.form);
    what = p ? lbl(p) : [l.drug, l.form].filter(Boolean).join(' ');
  }
  const stock = t(`svStock_${l.stock}`);
  const days = l.stock === 'order' && l.order_days != null ? `（${l.order_days}${t('svDays')}）` : '';
  return `${what}${l.strength ? ` ${l.strength}` : ''}: ${stock}${days}`;
}

/** An answer of `q` in words. */
export function answerText(q, v, vocab) {
  if (v === null || v === undefined || v === '' || (Array.isArray(v) && !v.length)) return t('svNone');
  const type = q ? q.type : typeof v === 'boolean' ? 'yes_no' : Array.isArray(v) ? 'formulary' : 'text';
  if (type === 'yes_no') return t(v === true ? 'svYes' : v === false ? 'svNo' : 'svNone');
  if (type === 'choice') {
    const o = ((q && q.options) || []).find((x) => x.value === v);
    return o ? lbl(o) : String(v);
  }
  if (type === 'formulary' && Array.isArray(v)) return v.map((l) => formularyLineText(l, vocab)).join('\n');
  if (type === 'number' && q && q.unit) return `${v} ${q.unit}`;
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** The label of a question in the current language. */
export function questionLabel(q) { return lbl(q); }

// The opioid type-ahead of 退院調整 and 在宅チーム編成: brand or product names (folded for kana
// and width) offered as the nurse types, the chosen drugs as removable chips under the box.

import { t, addStrings, getLang } from './i18n.js';

addStrings({
  dcDrugLabel: ['在庫が必要な薬（販売名で検索）', 'Drugs to be stocked (type a brand name)'],
  dcDrugPlaceholder: ['例: フェントステープ、オキノーム', 'e.g. フェントステープ, オキノーム'],
  dcDrugHint: ['8つまで選べます。ひらがな・半角カナでも探せます。', 'Up to 8. Hiragana and half-width kana work too.'],
  dcChosen: ['選んだ薬', 'Chosen drugs'],
  dcDrugMax: ['選べる薬は8つまでです。', 'At most 8 drugs.'],
  dcDrugNone: ['該当する薬がありません。', 'No drug by that name.'],
  dcRemove: ['{d} を外す', 'Remove {d}'],
});

const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

let vocab = { products: [], names: [] }; // GET /vocabulary → opioids

/** `opioids` of GET /vocabulary: the products and the brand names that map to them. */
export function setOpioidVocabulary(v) {
  vocab = { products: (v && v.products) || [], names: (v && v.names) || [] };
}

export function productLabel(code) {
  const p = vocab.products.find((x) => x.code === code);
  if (!p) return code;
  return getLang() === 'en' ? (p.label_en || p.label_ja) : p.label_ja;
}

/**
 * The key names and typed text are compared by: NFKC (ｵｷﾉｰﾑ → オキノーム), lower case,
 * katakana → hiragana (so ふぇんとす finds フェントス), no spaces.
 */
export function fold(s) {
  return String(s || '').normalize('NFKC').toLowerCase()
    .replace(/[\u30a1-\u30f6]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0x60))
    .replace(/\s+/g, '');
}

/** Options for what was typed: brand names first, then products by their label or code. */
function options(text) {
  const q = fold(text);
  if (!q) return [];
  const starts = [];
  const inside = [];
  const seen = new Set();
  const add = (o, key) => {
    const k = `${o.product}|${o.name || ''}`;
    if (seen.has(k)) return;
    const at = key.indexOf(q);
    if (at < 0) return;
    seen.add(k);
    (at === 0 ? starts : inside).push(o);
  };
  for (const n of vocab.names) add({ product: n.product, name: n.name, label: productLabel(n.product) }, fold(n.name));
  for (const p of vocab.products) {
    const o = { product: p.code, name: '', label: productLabel(p.code) };
    add(o, fold(p.label_ja));
    add(o, fold(p.label_en));
    add(o, fold(p.code));
  }
  return starts.concat(inside).slice(0, 12);
}

/**
 * The drug box in `field` (a container): the label, the chosen drugs as chips, the combobox and
 * its listbox, "at most 8" under it; its ids start with `prefix` (`${prefix}-drug` the input).
 * `onChange` hears every change of the chosen drugs.
 */
export function createDrugPicker({ field, prefix, max = 8, onChange = () => {} }) {
  field.innerHTML = `<label for="${prefix}-drug" data-i18n="dcDrugLabel">${esc(t('dcDrugLabel'))}</label>
    <ul id="${prefix}-drugs" class="dc-chips" data-i18n-aria="dcChosen" aria-label="${esc(t('dcChosen'))}" hidden></ul>
    <div class="combo">
      <input id="${prefix}-drug" type="text" autocomplete="off" role="combobox" aria-autocomplete="list" aria-expanded="false" aria-controls="${prefix}-drug-suggest" aria-describedby="${prefix}-drug-hint ${prefix}-drug-msg" data-i18n-placeholder="dcDrugPlaceholder" placeholder="${esc(t('dcDrugPlaceholder'))}">
      <ul id="${prefix}-drug-suggest" class="suggest" role="listbox" data-i18n-aria="suggestLabel" aria-label="${esc(t('suggestLabel'))}" hidden></ul>
    </div>
    <p id="${prefix}-drug-hint" class="hint" data-i18n="dcDrugHint">${esc(t('dcDrugHint'))}</p>
    <p id="${prefix}-drug-msg" class="msg" role="alert" hidden></p>`;
  const input = field.querySelector('input');
  const box = field.querySelector('.suggest');
  const chips = field.querySelector('.dc-chips');
  const msg = field.querySelector('.msg');
  let drugs = []; // { product, label } (label: what was picked, a brand or a product)
  let suggest = [];
  let cursor = -1;

  function renderSuggest() {
    const open = suggest.length > 0 || (input.value.trim() && document.activeElement === input);
    box.hidden = !open;
    input.setAttribute('aria-expanded', String(!!open));
    if (!open) { input.removeAttribute('aria-activedescendant'); return; }
    if (!suggest.length) {
      box.innerHTML = `<li class="s-none" role="option" aria-disabled="true">${esc(t('dcDrugNone'))}</li>`;
      return;
    }
    box.innerHTML = suggest.map((o, i) => `<li id="${prefix}-opt-${i}" role="option" data-i="${i}" data-product="${esc(o.product)}"${o.name ? ` data-name="${esc(o.name)}"` : ''} aria-selected="${i === cursor}">
        ${o.name ? `<strong>${esc(o.name)}</strong> <span class="s-meta">${esc(o.label)}</span>` : `<strong>${esc(o.label)}</strong>`}</li>`).join('');
    if (cursor >= 0) input.setAttribute('aria-activedescendant', `${prefix}-opt-${cursor}`);
    else input.removeAttribute('aria-activedescendant');
  }

  function renderChips() {
    chips.innerHTML = drugs.map((d) => `<li class="dc-chip" data-product="${esc(d.product)}">
        <span>${esc(d.label)}</span>${d.label !== productLabel(d.product) ? ` <span class="small">${esc(productLabel(d.product))}</span>` : ''}
        <button type="button" class="dc-chip-x" data-remove="${esc(d.product)}" aria-label="${esc(t('dcRemove', { d: d.label }))}">×</button></li>`).join('');
    chips.hidden = !drugs.length;
  }

  function changed() {
    renderChips();
    onChange(drugs.slice());
  }

  function choose(o) {
    msg.hidden = true;
    if (!drugs.some((d) => d.product === o.product)) {
      if (drugs.length >= max) {
        msg.hidden = false;
        msg.textContent = t('dcDrugMax');
        return;
      }
      drugs.push({ product: o.product, label: o.name || o.label });
    }
    input.value = '';
    suggest = [];
    cursor = -1;
    changed();
    renderSuggest();
    input.focus();
  }

  input.addEventListener('input', () => {
    suggest = options(input.value);
    cursor = suggest.length ? 0 : -1;
    renderSuggest();
  });
  input.addEventListener('keydown', (ev) => {
    if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
      if (!suggest.length) return;
      ev.preventDefault();
      const n = suggest.length;
      cursor = (cursor + (ev.key === 'ArrowDown' ? 1 : n - 1)) % n;
      renderSuggest();
    } else if (ev.key === 'Enter') {
      // Enter picks the highlighted drug; it never submits the form from this box.
      ev.preventDefault();
      if (cursor >= 0 && suggest[cursor]) choose(suggest[cursor]);
    } else if (ev.key === 'Escape') {
      suggest = [];
      cursor = -1;
      input.value = '';
      renderSuggest();
    } else if (ev.key === 'Backspace' && !input.value && drugs.length) {
      drugs.pop();
      changed();
    }
  });
  input.addEventListener('blur', () => setTimeout(() => {
    if (document.activeElement !== input) { suggest = []; cursor = -1; renderSuggest(); }
  }, 150));
  // mousedown: before the input's blur closes the list.
  box.addEventListener('mousedown', (ev) => {
    const li = ev.target.closest('li[data-i]');
    if (!li) return;
    ev.preventDefault();
    choose(suggest[Number(li.dataset.i)]);
  });
  chips.addEventListener('click', (ev) => {
    const b = ev.target.closest('[data-remove]');
    if (!b) return;
    drugs = drugs.filter((d) => d.product !== b.dataset.remove);
    changed();
    input.focus();
  });
  renderChips();

  return {
    drugs: () => drugs.slice(),
    /** Replace the chosen drugs (a saved team coming back). */
    set(list) { drugs = (list || []).map((d) => ({ product: d.product, label: d.label || productLabel(d.product) })); renderChips(); },
    clear() { drugs = []; renderChips(); },
    render: renderChips,
  };
}

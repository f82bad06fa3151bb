// Bed status (capacity) and admission rules as people read them: a status badge that always
// carries its age, and the one-line rules card. Shared by the main page and the update page.

import './capacity.css';
import { t, pick, addStrings } from './i18n.js';

addStrings({
  cap_accepting: ['受入可', 'Accepting'],
  cap_limited: ['要相談', 'Ask first'],
  cap_not_accepting: ['受入不可', 'Not accepting'],
  cap_unknown: ['不明', 'Unknown'],
  capAgo: ['{s}・{a}', '{s} · {a}'],
  capStale: ['不明（{d} 以降更新なし）', 'Unknown (no update since {d})'],
  capNever: ['不明（報告なし）', 'Unknown (never reported)'],
  ageNow: ['たった今', 'just now'],
  ageMinutes: ['{n}分前', '{n} min ago'],
  ageHours: ['{n}時間前', '{n} h ago'],
  ageDays: ['{n}日前', '{n} days ago'],
  capFreeBeds: ['空床 {n}', '{n} free beds'],
  capWaiting: ['待機 約{n}日', 'wait about {n} days'],
  capViaLink: ['更新用リンクから', 'via update link'],
  capBy_facility_editor: ['施設担当者', 'facility staff'],
  capBy_update_link: ['施設（更新用リンク）', 'facility (update link)'],
  capBy_coordinator: ['コーディネーター', 'coordinator'],
  capBy_admin: ['管理者', 'administrator'],
  capBy_sample: ['サンプル', 'sample'],
  capReportedBy: ['報告: {w}', 'reported by {w}'],
  sampleTag: ['サンプル', 'Sample'],
  route_phone: ['電話', 'Phone'],
  route_fax: ['FAX', 'Fax'],
  route_ict: ['ICT', 'ICT'],
  route_web: ['Webフォーム', 'Web form'],
  ruleNeeds: ['{d}要', '{d} needed'],
  rulePrereg: ['事前登録要', 'Registration in advance'],
  ruleCancerOnly: ['がん患者のみ', 'Cancer patients only'],
  ruleMinAge: ['{n}歳以上', 'Age {n}+'],
  ruleMaxStay: ['最長{n}日', 'Up to {n} days'],
  ruleTransport: ['搬送: {t}', 'Transport: {t}'],
  ruleInfoTool: ['情報共有: {t}', 'Shared via {t}'],
  ruleWhenFull: ['満床時: {t}', 'When full: {t}'],
  ruleReviewed: ['{d} 確認', 'reviewed {d}'],
  transport_hospital: ['病院が迎え', 'hospital sends'],
  transport_family: ['家族', 'family'],
  transport_ambulance: ['救急車', 'ambulance'],
  routeNow: ['今の依頼先: {r}', 'Ask now: {r}'],
  requestsOpen: ['受付中', 'taking requests now'],
  requestsClosed: ['受付時間外', 'outside request hours'],
  requestsUnknown: ['受付時間不明', 'request hours unknown'],
  noRouteNow: ['今は依頼を受け付けていません', 'Not taking requests now'],
  noRules: ['受け入れ条件は未登録です', 'No admission rules registered yet'],
  hintFreeBeds: ['空床数は 0〜2000 の数で入力してください。', ''],
  hintWaitingDays: ['待機日数は 0〜365 の数で入力してください。', ''],
  hintCapNote: ['メモは200文字までです。', ''],
});

/**
 * The words for a refused capacity figure: Japanese hints of our own (the server explains in
 * English after a generic Japanese line), the server's English in English.
 */
export function capacityFieldText(field, serverWords) {
  const key = { free_beds: 'hintFreeBeds', waiting_days: 'hintWaitingDays', note: 'hintCapNote' }[field];
  const hint = key ? t(key) : '';
  return hint || serverWords;
}

/** The services that carry a bed status (and admission rules). */
export const CAPACITY_SERVICES = ['pcu', 'backup_hospital', 'emergency_admission', 'respite_admission'];

export const STATUSES = ['accepting', 'limited', 'not_accepting'];

const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

export function statusLabel(status) {
  return t(`cap_${status || 'unknown'}`);
}

/** "3時間前": how long ago `at` was, in the largest whole unit. */
export function ageText(at, now = Date.now()) {
  const ms = now - new Date(at).getTime();
  if (!Number.isFinite(ms)) return '';
  const min = Math.floor(ms / 60000);
  if (min < 1) return t('ageNow');
  if (min < 60) return t('ageMinutes', { n: min });
  const h = Math.floor(min / 60);
  if (h < 24) return t('ageHours', { n: h });
  return t('ageDays', { n: Math.floor(h / 24) });
}

// Times are the facility's (Japan's), whatever the reader's computer says.
const TZ = 'Asia/Tokyo';

/** "12/1 10:00" (with the year when it is not this year), in Japan time. */
export function shortTime(at) {
  const d = new Date(at);
  if (Number.isNaN(d.getTime())) return String(at || '');
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-US', {
    timeZone: TZ, year: 'numeric', month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
  }).formatToParts(d).map((p) => [p.type, p.value]));
  const thisYear = new Intl.DateTimeFormat('en-US', { timeZone: TZ, year: 'numeric' }).format(new Date());
  const md = `${parts.month}/${parts.day}`;
  return `${parts.year === thisYear ? md : `${parts.year}/${md}`} ${parts.hour}:${parts.minute}`;
}

/**
 * The words of a status with its age: 「受入可・3時間前」, a stale one as
 * 「不明（12/1 10:00 以降更新なし）」 (never as current), 「不明（報告なし）」 when nobody said.
 */
export function statusText(cap, now) {
  if (!cap) return statusLabel('unknown');
  if (cap.stale && cap.updated_at) return t('capStale', { d: shortTime(cap.updated_at) });
  if (!cap.updated_at) return t('capNever');
  return t('capAgo', { s: statusLabel(cap.status), a: ageText(cap.updated_at, now) });
}

/** The effective status class of a capacity: stale counts as unknown. */
export function effectiveStatus(cap) {
  if (!cap || cap.stale) return 'unknown';
  return STATUSES.includes(cap.status) ? cap.status : 'unknown';
}

export function statusBadge(cap, { now, cls = '' } = {}) {
  const st = effectiveStatus(cap);
  return `<span class="status-badge st-${st}${cls ? ` ${cls}` : ''}" data-status="${st}"${cap && cap.stale ? ' data-stale' : ''}>${esc(statusText(cap, now))}</span>`;
}

export function sampleTag(on) {
  return on ? ` <span class="badge warn sample-tag" data-sample>${esc(t('sampleTag'))}</span>` : '';
}

/** Free beds, waiting days, note and who reported, as one line (empty when none). */
export function capacityFacts(cap) {
  if (!cap) return '';
  const bits = [];
  if (cap.free_beds != null && !cap.stale) bits.push(t('capFreeBeds', { n: cap.free_beds }));
  if (cap.waiting_days != null && !cap.stale) bits.push(t('capWaiting', { n: cap.waiting_days }));
  if (cap.note) bits.push(cap.note);
  const by = reporterText(cap);
  if (by) bits.push(t('capReportedBy', { w: by }));
  return bits.join(' ・ ');
}

/** Who reported a status: 施設（更新用リンク）, コーディネーター（…）, サンプル. */
export function reporterText(cap) {
  if (cap.via === 'update_link') return t('capBy_update_link');
  if (!cap.updated_by) return '';
  const [role, ...rest] = String(cap.updated_by).split(':');
  const key = `capBy_${role}`;
  const name = t(key) === key ? role : t(key);
  return rest.length ? `${name}（${rest.join(':')}）` : name;
}

export function routeText(r) {
  if (!r) return '';
  const kind = t(`route_${r.kind}`);
  const label = r.label ? `（${r.label}）` : '';
  if (r.kind === 'ict') return `${r.value}（${kind}）${r.label ? `（${r.label}）` : ''}`;
  return `${kind} ${r.value}${label}`;
}

/**
 * The rules card: 「FAX 048-… 紹介状要・事前登録要・最長14日・満床時: 連携病院へ」.
 * `route` is the route to show first (the one valid now, when known).
 */
export function rulesParts(rules) {
  if (!rules) return [];
  const parts = [];
  for (const d of rules.documents || []) parts.push({ text: t('ruleNeeds', { d }) });
  const el = rules.eligibility || {};
  if (el.registered_in_advance) parts.push({ text: t('rulePrereg'), prereg: true });
  if (el.cancer_only) parts.push({ text: t('ruleCancerOnly') });
  if (el.min_age != null) parts.push({ text: t('ruleMinAge', { n: el.min_age }) });
  if (rules.max_stay_days != null) parts.push({ text: t('ruleMaxStay', { n: rules.max_stay_days }) });
  if ((rules.transport || []).length) {
    parts.push({ text: t('ruleTransport', { t: rules.transport.map((x) => t(`transport_${x}`)).join('・') }) });
  }
  if (rules.info_sharing_tool) parts.push({ text: t('ruleInfoTool', { t: rules.info_sharing_tool }) });
  if (rules.when_full) parts.push({ text: t('ruleWhenFull', { t: rules.when_full }) });
  return parts;
}

export function rulesText(rules, route) {
  const r = route || (rules && (rules.routes || [])[0]);
  const parts = rulesParts(rules).map((p) => p.text).join('・');
  return [r ? routeText(r) : '', parts].filter(Boolean).join(' ');
}

/** The rules card as HTML: 事前登録要 stands out, the registration note follows it. */
export function rulesCard(rules, { route = null } = {}) {
  if (!rules) return `<p class="rules-card muted" data-rules="none">${esc(t('noRules'))}</p>`;
  const r = route || (rules.routes || [])[0];
  const parts = rulesParts(rules).map((p) => (p.prereg ? `<strong class="prereg" data-prereg>${esc(p.text)}</strong>` : esc(p.text)));
  const el = rules.eligibility || {};
  const reviewed = rules.last_reviewed ? ` <span class="muted small">（${esc(t('ruleReviewed', { d: rules.last_reviewed }))}）</span>` : '';
  return `<p class="rules-card" data-rules>${r ? `<span class="rules-route">${esc(routeText(r))}</span> ` : ''}${parts.join('・')}${reviewed}</p>
    ${el.registered_in_advance && el.registration_note ? `<p class="prereg-note" data-prereg-note><strong>${esc(t('rulePrereg'))}:</strong> ${esc(el.registration_note)}</p>` : ''}
    ${el.note ? `<p class="small">${esc(el.note)}</p>` : ''}
    ${rules.notes ? `<p class="small">${esc(rules.notes)}</p>` : ''}`;
}

/** 「今の依頼先: FAX 048-…（地域連携室） ・ 受付中」. */
export function routeNowText(s) {
  const open = s.requests_open === true ? t('requestsOpen') : s.requests_open === false ? t('requestsClosed') : t('requestsUnknown');
  if (!s.route_now) return s.requests_open === false ? t('noRouteNow') : '';
  return `${t('routeNow', { r: routeText(s.route_now) })} ・ ${open}`;
}

/** A tel: link for a phone number. */
export function telHref(v) {
  return `tel:${String(v).replace(/[^0-9+]/g, '')}`;
}

export function serviceName(s) {
  return pick(s.label) || s.kind;
}

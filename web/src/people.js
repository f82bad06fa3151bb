// The facility detail's people parts (issue 14): 「ここに相談できます」 — the consultation windows
// with the route to use now — and a patient group's gathering (次回, who may join, cost, host).

import './people.css';
import { t, addStrings, pick } from './i18n.js';
import { dayLabel, clock, momentText, nextDateText } from './dates.js';

addStrings({
  askHere: ['ここに相談できます', 'Ask here'],
  consultFor_patients: ['患者さん・ご家族向け', 'For patients and families'],
  consultFor_professionals: ['医療・介護職向け', 'For professionals'],
  consultFor_both: ['患者さん・ご家族、医療・介護職', 'For patients, families and professionals'],
  consultTopics: ['相談できること', 'Topics'],
  consultNow: ['今の連絡先', 'Use now'],
  consultOpen: ['受付中', 'Open now'],
  consultClosed: ['受付時間外 — 次は {n}', 'Closed now — next {n}'],
  consultClosedNoNext: ['受付時間外', 'Closed now'],
  consultOther: ['ほかの連絡方法', 'Other routes'],
  consultHours: ['受付時間', 'Hours'],
  consultLanguages: ['対応言語', 'Languages'],
  consultFee: ['費用', 'Fee'],
  consultAnswers: ['対応', 'Answers'],
  consultSource: ['出典: {s}（{d} 時点）', 'Source: {s} (as of {d})'],
  consultVerified: ['確認済み', 'verified'],
  consultUnverified: ['未確認', 'not verified'],
  route_phone: ['電話', 'Phone'],
  route_fax: ['FAX', 'Fax'],
  route_ict: ['ICT', 'ICT network'],
  route_web: ['ウェブ', 'Web'],
  route_email: ['メール', 'Email'],
  route_visit: ['窓口', 'In person'],
  gatheringHeading: ['集まりの案内', 'Meetings'],
  gatheringWhen: ['日程', 'When'],
  gatheringNext: ['次回以降', 'Next dates'],
  gatheringWho: ['参加できる方', 'Who may join'],
  gatheringCost: ['参加費', 'Cost'],
  gatheringBooking: ['申し込み', 'Booking'],
  gatheringHost: ['主催', 'Host'],
  gatheringOnline: ['オンライン', 'Online'],
  gatheringOnlineYes: ['オンラインで参加できます', 'You can join online'],
  gatheringNoDates: ['予定されている日はありません', 'No dates scheduled'],
  lang_ja: ['日本語', 'Japanese'], lang_en: ['英語', 'English'], lang_zh: ['中国語', 'Chinese'],
  lang_ko: ['韓国語', 'Korean'], lang_pt: ['ポルトガル語', 'Portuguese'], lang_es: ['スペイン語', 'Spanish'],
  lang_vi: ['ベトナム語', 'Vietnamese'], lang_tl: ['タガログ語', 'Tagalog'],
});

const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun', 'holiday'];

function label(key, fallback) {
  const s = t(key);
  return s === key ? fallback : s;
}

/** One route as a link where the browser can follow it. */
function routeHtml(r) {
  const v = String(r.value || '');
  let value = esc(v);
  if (r.kind === 'phone') value = `<a href="tel:${esc(v.replace(/[^0-9+]/g, ''))}">${esc(v)}</a>`;
  else if (r.kind === 'email') value = `<a href="mailto:${esc(v)}">${esc(v)}</a>`;
  else if (r.kind === 'web' && /^https?:\/\//.test(v)) value = `<a href="${esc(v)}" target="_blank" rel="noopener">${esc(v)}</a>`;
  return `<span class="route" data-route="${esc(r.kind)}"><span class="route-kind">${esc(label(`route_${r.kind}`, r.kind))}</span> ${value}${r.label ? `（${esc(r.label)}）` : ''}</span>`;
}

function daysText(days) {
  const list = Array.isArray(days) ? days : String(days || '').split(/[,\s]+/).filter(Boolean);
  // A run of weekdays reads as 「月〜金」.
  const idx = list.map((d) => DAYS.indexOf(d));
  if (idx.length > 2 && idx.every((i, k) => i >= 0 && i < 7 && (k === 0 || i === idx[k - 1] + 1))) {
    return `${t(`weekday_${list[0]}`)}〜${t(`weekday_${list[list.length - 1]}`)}`;
  }
  return list.map((d) => label(`weekday_${d}`, d)).join('・');
}

function hoursText(h) {
  if (!h) return '';
  const open = (h.open || []).map((o) => `${daysText(o.days)} ${o.from || ''}–${o.to || ''}`).join('、');
  return [open, h.note].filter(Boolean).join(' ・ ');
}

function sameRoute(a, b) {
  return a && b && a.kind === b.kind && a.value === b.value;
}

/** 「ここに相談できます」: each window with the route to use now first. */
export function consultationsHtml(f) {
  const list = f.consultations || [];
  if (!list.length) return '';
  const items = list.map((c, i) => {
    const now = c.route_now;
    let state = '';
    if (now && c.open_now) {
      state = `<p class="route-now" data-open-now="true"><span class="badge open-now">${esc(t('consultOpen'))}</span> ${routeHtml(now)}</p>`;
    } else if (now) {
      state = `<p class="route-now" data-open-now="${c.open_now === false ? 'false' : 'unknown'}"><strong>${esc(t('consultNow'))}:</strong> ${routeHtml(now)}</p>`;
    }
    if (c.open_now === false) {
      state += `<p class="consult-closed" data-next-open="${esc(c.next_open || '')}">${esc(c.next_open ? t('consultClosed', { n: momentText(c.next_open) }) : t('consultClosedNoNext'))}</p>`;
    }
    const others = (c.routes || []).filter((r) => !sameRoute(r, now));
    const topics = (c.topic_labels && c.topic_labels.length ? c.topic_labels : c.topics || []).map((x) => pick(x) || x);
    const hours = hoursText(c.hours);
    const langs = (c.languages || []).map((l) => label(`lang_${l}`, l)).join('・');
    return `<li class="consult" data-consultation="${esc(c.kind)}" data-index="${i}">
      <h4>${esc(c.name)}</h4>
      <p class="meta">${esc(pick(c.kind_label) || c.kind_label || c.kind)}${c.for ? ` ・ <span data-for="${esc(c.for)}">${esc(t(`consultFor_${c.for}`))}</span>` : ''}</p>
      ${state}
      ${topics.length ? `<p class="small"><strong>${esc(t('consultTopics'))}:</strong> ${esc(topics.join('、'))}</p>` : ''}
      ${c.answers ? `<p class="small">${esc(c.answers)}</p>` : ''}
      ${others.length ? `<p class="small consult-other"><strong>${esc(t('consultOther'))}:</strong> ${others.map(routeHtml).join(' ・ ')}</p>` : ''}
      ${hours ? `<p class="small" data-field="hours"><strong>${esc(t('consultHours'))}:</strong> ${esc(hours)}</p>` : ''}
      ${langs ? `<p class="small"><strong>${esc(t('consultLanguages'))}:</strong> ${esc(langs)}</p>` : ''}
      ${c.fee ? `<p class="small"><strong>${esc(t('consultFee'))}:</strong> ${esc(c.fee)}</p>` : ''}
      <p class="muted small">${esc(t('consultSource', { s: c.source || '—', d: c.as_of || '—' }))} ・ ${esc(t(c.verified ? 'consultVerified' : 'consultUnverified'))}</p>
    </li>`;
  });
  return `<section class="consultations" data-field="consultations" aria-labelledby="consult-h">
    <h3 id="consult-h">${esc(t('askHere'))}</h3>
    <ul class="plain">${items.join('')}</ul>
  </section>`;
}

/** A patient group's next date line for lists and markers (「次回: 12月8日（火） 14:00」). */
export function groupNextLine(f) {
  const date = f.next_date || (f.gathering && (f.gathering.next_dates || [])[0]);
  if (!date) return '';
  const from = f.gathering && f.gathering.schedule && f.gathering.schedule.from;
  return nextDateText(date, from);
}

/** The gathering block of a patient group's detail. */
export function gatheringHtml(f) {
  const g = f.gathering;
  if (!g) return '';
  const next = g.next_dates || [];
  const from = g.schedule && g.schedule.from;
  const to = g.schedule && g.schedule.to;
  const time = from ? ` ${clock(from)}${to ? `–${clock(to)}` : ''}` : '';
  const host = g.host || {};
  const hostHtml = host.facility_id && host.facility_id !== f.id
    ? `<button type="button" class="linkish" data-open-facility="${esc(host.facility_id)}">${esc(host.name || host.facility_id)}</button>`
    : esc(host.name || '');
  const link = g.link && /^https?:\/\//.test(g.link) ? ` <a href="${esc(g.link)}" target="_blank" rel="noopener">${esc(g.link)}</a>` : '';
  const row = (k, v, field) => (v ? `<dt>${esc(t(k))}</dt><dd${field ? ` data-field="${field}"` : ''}>${v}</dd>` : '');
  return `<section class="gathering" data-field="gathering" aria-labelledby="gathering-h">
    <h3 id="gathering-h">${esc(t('gatheringHeading'))}</h3>
    <p class="meta">${esc(pick(g.kind_label) || g.kind_label || g.kind)}</p>
    ${next.length ? `<p class="next-date" data-next-date="${esc(next[0])}"><strong>${esc(nextDateText(next[0], from))}</strong></p>` : `<p class="muted">${esc(t('gatheringNoDates'))}</p>`}
    <dl class="dates">
      ${row('gatheringWhen', esc(`${g.schedule_label || ''}`), 'schedule_label')}
      ${row('gatheringNext', next.slice(0, 4).map((d) => esc(`${dayLabel(d)}${time}`)).join('<br>'), 'next_dates')}
      ${row('gatheringWho', esc(g.who || ''), 'who')}
      ${row('gatheringCost', esc(g.cost || ''), 'cost')}
      ${row('gatheringBooking', esc(g.booking || ''), 'booking')}
      ${row('gatheringHost', hostHtml, 'host')}
      ${g.online ? row('gatheringOnline', `${esc(t('gatheringOnlineYes'))}${link}`, 'online') : ''}
    </dl>
  </section>`;
}

// 「研修・会議」 (issue 14): the region's training, case conferences and meetings as a month grid
// (Monday first) or a list by date, filtered by area, audience and kind; an event's detail; the
// calendar feed to subscribe to (public URL, or a personal one when signed in); and the form with
// which coordinators and facility editors create and edit events (the repeat rule becomes RRULE).

import './calendar.css';
import { t, addStrings, onLangChange } from './i18n.js';
import { request, session, serverText, onSessionChange } from './account.js';
import { dayLabel, monthLabel, clock, todayJst, weekday, addDays, isoDate, parseDate } from './dates.js';

export const EVENT_KINDS = ['training', 'case_conference', 'interprofessional_meeting', 'network_meeting', 'public_lecture'];
export const PROFESSIONS = ['physician', 'nurse', 'pharmacist', 'dentist', 'dental_hygienist', 'care_manager', 'therapist', 'social_worker', 'dietitian', 'citizen'];
const BYDAY = ['SU', 'MO', 'TU', 'WE', 'TH', 'FR', 'SA'];

addStrings({
  calTab: ['研修・会議', 'Training & meetings'],
  calHeading: ['研修・会議', 'Training and meetings'],
  calPrev: ['前の月', 'Previous month'],
  calNext: ['次の月', 'Next month'],
  calThisMonth: ['今月', 'This month'],
  calViews: ['表示', 'View'],
  calViewMonth: ['月', 'Month'],
  calViewList: ['一覧', 'List'],
  calArea: ['二次医療圏', 'Area'],
  calAreaAll: ['すべての医療圏', 'All areas'],
  calAudience: ['対象', 'Audience'],
  calAudienceAll: ['すべて', 'All'],
  audience_public: ['一般向け', 'Public'],
  audience_professional: ['専門職向け', 'Professionals'],
  calKind: ['種類', 'Kind'],
  calKindAll: ['すべての種類', 'All kinds'],
  evkind_training: ['研修会', 'Training'],
  evkind_case_conference: ['症例検討会', 'Case conference'],
  evkind_interprofessional_meeting: ['多職種連携会議', 'Interprofessional meeting'],
  evkind_network_meeting: ['緩和ケア連携推進会議', 'Palliative care network meeting'],
  evkind_public_lecture: ['市民公開講座', 'Public lecture'],
  prof_physician: ['医師', 'Physicians'],
  prof_nurse: ['看護師', 'Nurses'],
  prof_pharmacist: ['薬剤師', 'Pharmacists'],
  prof_dentist: ['歯科医師', 'Dentists'],
  prof_dental_hygienist: ['歯科衛生士', 'Dental hygienists'],
  prof_care_manager: ['ケアマネジャー', 'Care managers'],
  prof_therapist: ['リハビリ職（PT・OT・ST）', 'Therapists (PT, OT, ST)'],
  prof_social_worker: ['MSW・社会福祉士', 'Social workers'],
  prof_dietitian: ['管理栄養士', 'Dietitians'],
  prof_citizen: ['市民', 'Citizens'],
  calCount: ['{n} 件', 'Events: {n}'],
  calEmpty: ['この月の研修・会議はありません。', 'No training or meetings this month.'],
  calLoadFailed: ['読み込めませんでした: {d}', 'Could not load: {d}'],
  calCancelled: ['中止', 'Cancelled'],
  calAllDay: ['終日', 'All day'],
  calNew: ['新しい研修・会議', 'New event'],
  calOnline: ['オンライン', 'Online'],
  calProBadge: ['専門職向け', 'Professionals'],
  // detail
  evWhen: ['日時', 'When'],
  evSchedule: ['日程', 'Schedule'],
  evNextDates: ['今後の日程', 'Coming dates'],
  evOrganizer: ['主催', 'Organizer'],
  evPlace: ['場所', 'Place'],
  evOnlineLink: ['オンライン参加のリンク', 'Online link'],
  evOnlineOnly: ['オンライン開催', 'Online'],
  evAudience: ['対象', 'Audience'],
  evCapacity: ['定員', 'Capacity'],
  evCapacityN: ['{n} 名', '{n} people'],
  evApply: ['申し込み方法', 'How to apply'],
  evDeadline: ['申し込み締切', 'Deadline'],
  evCredits: ['単位・認定', 'Credits'],
  evMaterials: ['資料', 'Materials'],
  evAreas: ['二次医療圏', 'Areas'],
  evDescription: ['内容', 'About'],
  evEdit: ['編集', 'Edit'],
  evDelete: ['削除', 'Delete'],
  evConfirmDelete: ['この研修・会議を削除しますか？', 'Delete this event?'],
  evDeleted: ['削除しました。', 'Deleted.'],
  evLoadFailed: ['読み込めませんでした: {d}', 'Could not load: {d}'],
  // subscribe
  subToggle: ['カレンダーに登録', 'Subscribe'],
  subIntro: ['Outlook・Google カレンダー・iPhone のカレンダーに、この医療圏の研修・会議を表示できます（新しい予定も自動で入ります）。', 'Show this area\u2019s training and meetings in Outlook, Google Calendar or an iPhone (new ones appear by themselves).'],
  subArea: ['二次医療圏', 'Area'],
  subAudience: ['含める予定', 'Include'],
  subAudiencePublic: ['一般向けのみ', 'Public only'],
  subAudiencePro: ['専門職向けも含める', 'Professional events too'],
  subLabel: ['名前（自分用のメモ）', 'Name (a note for yourself)'],
  subLabelDefault: ['{a} の研修・会議', 'Training and meetings in {a}'],
  subPublicUrl: ['登録用URL', 'Feed URL'],
  subCopy: ['コピー', 'Copy'],
  subCopied: ['コピーしました。', 'Copied.'],
  subCopyFailed: ['コピーできませんでした。URLを選んでコピーしてください。', 'Could not copy: select the URL and copy it.'],
  subWebcal: ['カレンダーアプリで開く（webcal）', 'Open in a calendar app (webcal)'],
  subCreate: ['専用URLを発行', 'Create my feed URL'],
  subPrivate: ['このURLはあなた専用です。他の人に渡さないでください。', 'This URL is yours alone. Do not give it to anyone.'],
  subFeeds: ['発行したURL', 'Your feeds'],
  subNoFeeds: ['まだありません。', 'None yet.'],
  subFeedMeta: ['{a}・{w}・発行 {c}', '{a}, {w}, created {c}'],
  subFeedUsed: ['最終利用 {d}', 'last used {d}'],
  subFeedNever: ['未使用', 'never used'],
  subDelete: ['削除', 'Delete'],
  subFailed: ['発行できませんでした: {d}', 'Could not create it: {d}'],
  subDeleteFailed: ['削除できませんでした: {d}', 'Could not delete it: {d}'],
  // form
  evFormNew: ['研修・会議を登録', 'New event'],
  evFormEdit: ['研修・会議を編集', 'Edit event'],
  evTitle: ['名称', 'Title'],
  evKind: ['種類', 'Kind'],
  evOrgName: ['主催者名', 'Organizer name'],
  evOrgFacility: ['主催施設（地図の施設から選ぶ）', 'Organizing facility (from the map)'],
  evOrgSearch: ['探す', 'Find'],
  evOrgNone: ['施設を指定しない', 'No facility'],
  evOrgChosen: ['選択中: {n}', 'Chosen: {n}'],
  evOrgQ: ['施設名で探す', 'Find a facility by name'],
  evAreasLegend: ['対象の二次医療圏', 'Areas'],
  evVisibility: ['公開範囲', 'Who can see it'],
  evVisPublic: ['一般にも公開', 'Everyone'],
  evVisPro: ['専門職のみ（ログインした人）', 'Professionals only (signed in)'],
  evProfessions: ['対象の職種', 'Professions'],
  evDate: ['日付（初回）', 'Date (first)'],
  evFrom: ['開始', 'From'],
  evTo: ['終了', 'To'],
  evRepeat: ['繰り返し', 'Repeat'],
  rep_none: ['なし', 'None'],
  rep_weekly: ['毎週{w}曜日', 'Every {w}'],
  rep_biweekly: ['隔週{w}曜日', 'Every other {w}'],
  rep_monthly_nth: ['毎月第{n}{w}曜日', 'Monthly, {nth} {w}'],
  rep_monthly_last: ['毎月最終{w}曜日', 'Monthly, last {w}'],
  rep_custom: ['そのまま（{r}）', 'Keep ({r})'],
  evUntil: ['繰り返しの終了日（任意）', 'Repeat until (optional)'],
  evSkipHolidays: ['祝日は休み', 'Skip national holidays'],
  evCancelledDates: ['中止する日（YYYY-MM-DD、カンマ区切り）', 'Dates called off (YYYY-MM-DD, comma-separated)'],
  evPlaceName: ['会場名', 'Venue'],
  evPlaceAddress: ['会場の住所', 'Venue address'],
  evOnline: ['オンラインで参加できる', 'Can be joined online'],
  evLink: ['参加用リンク（URL）', 'Link (URL)'],
  evLinkPro: ['リンクは専門職のみ', 'Link for professionals only'],
  evStatus: ['状態', 'Status'],
  evStatusScheduled: ['予定どおり', 'Scheduled'],
  evStatusCancelled: ['中止（すべての日）', 'Cancelled (all dates)'],
  evSave: ['保存', 'Save'],
  evSaving: ['保存中…', 'Saving…'],
  evCancelForm: ['キャンセル', 'Cancel'],
  evSaved: ['保存しました: {t}', 'Saved: {t}'],
  evFix: ['入力を確認してください。', 'Please check the form.'],
  evNeedTitle: ['名称を入力してください。', 'Enter a title.'],
  evNeedDate: ['日付を入力してください。', 'Enter a date.'],
  evNeedOrg: ['主催者名を入力してください。', 'Enter the organizer.'],
  evNeedArea: ['二次医療圏を1つ以上選んでください。', 'Choose at least one area.'],
  evBadDates: ['日付は YYYY-MM-DD で書いてください: {d}', 'Write dates as YYYY-MM-DD: {d}'],
  evSaveFailed: ['保存できませんでした: {d}', 'Could not save: {d}'],
  evConflict: ['ほかの人がこの予定を更新しました。閉じて開き直してから編集してください（入力は残っています）。', 'Someone else changed this event. Close and open it again to edit (what you typed is kept).'],
  nth1: ['1', 'first'], nth2: ['2', 'second'], nth3: ['3', 'third'], nth4: ['4', 'fourth'], nth5: ['5', 'fifth'],
  wdLong0: ['日', 'Sunday'], wdLong1: ['月', 'Monday'], wdLong2: ['火', 'Tuesday'], wdLong3: ['水', 'Wednesday'],
  wdLong4: ['木', 'Thursday'], wdLong5: ['金', 'Friday'], wdLong6: ['土', 'Saturday'],
});

const $ = (sel, r = document) => r.querySelector(sel);
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

const st = {
  active: false,
  month: todayJst().slice(0, 7),
  view: 'month',
  area: '',
  audience: '',
  kind: '',
  data: null,
  message: '',
  kindOfMessage: '',
  seq: 0,
  sub: { open: false, area: '', audience: 'public', label: '', result: null, feeds: null, message: '', kind: '' },
  form: null, // {event, etag, errors, message}
};
let hooks = { busy: () => {}, areas: () => [], openFacility: () => {} };

function detailOf(r) {
  if (r.status === 0) return t('signInDown');
  return serverText(r.body && (r.body.detail || r.body.title)) || `HTTP ${r.status}`;
}

function areaName(code) {
  const a = hooks.areas().find((x) => x.code === code);
  return a ? a.name : code;
}

export function kindText(k) {
  const s = t(`evkind_${k}`);
  return s === `evkind_${k}` ? k : s;
}

/** Whether the session may create events at all (the server decides each one). */
export function mayCreateEvents(s = session()) {
  if (!s.signed_in || s.disabled) return false;
  return ['coordinator', 'admin'].includes(s.role) || (s.role === 'facility_editor' && (s.facilities || []).length > 0);
}

function mayEditEvent(ev, s = session()) {
  if (!mayCreateEvents(s) || !ev) return false;
  if (s.role === 'admin') return true;
  if (s.role === 'coordinator') return (ev.areas || []).some((a) => (s.areas || []).includes(a));
  return !!(ev.organizer && ev.organizer.facility_id && (s.facilities || []).includes(ev.organizer.facility_id));
}

function isCancelled(o) {
  return o.status === 'cancelled' || o.cancelled === true || ((o.schedule && o.schedule.cancelled) || []).includes(o.date);
}

function timeRange(o) {
  const a = clock(o.starts_at || (o.schedule && o.schedule.from));
  const b = clock(o.ends_at || (o.schedule && o.schedule.to));
  if (!a) return t('calAllDay');
  return b ? `${a}–${b}` : a;
}

// ---------- frame ----------

function optionsHtml(list, cur) {
  return list.map(([v, label]) => `<option value="${esc(v)}"${cur === v ? ' selected' : ''}>${esc(label)}</option>`).join('');
}

function audienceOptions() {
  const opts = [['', t('calAudienceAll')], ['public', t('audience_public')]];
  if (session().signed_in) opts.push(['professional', t('audience_professional')]);
  return opts;
}

function frameHtml() {
  const areas = [['', t('calAreaAll')], ...hooks.areas().map((a) => [a.code, `${a.name}（${a.code}）`])];
  const kinds = [['', t('calKindAll')], ...EVENT_KINDS.map((k) => [k, kindText(k)])];
  return `<div class="results-head"><h2 id="cal-heading" tabindex="-1">${esc(t('calHeading'))}</h2>
      <button type="button" class="btn small primary" id="cal-new" ${mayCreateEvents() ? '' : 'hidden'}>${esc(t('calNew'))}</button></div>
    <div class="cal-bar">
      <button type="button" class="btn small" id="cal-prev" aria-label="${esc(t('calPrev'))}">‹</button>
      <h3 id="cal-month" data-month="${esc(st.month)}" aria-live="polite">${esc(monthLabel(st.month))}</h3>
      <button type="button" class="btn small" id="cal-next" aria-label="${esc(t('calNext'))}">›</button>
      <button type="button" class="btn small" id="cal-this">${esc(t('calThisMonth'))}</button>
      <span class="cal-views" role="group" aria-label="${esc(t('calViews'))}">
        <button type="button" class="btn small" id="cal-view-month" aria-pressed="${st.view === 'month'}">${esc(t('calViewMonth'))}</button>
        <button type="button" class="btn small" id="cal-view-list" aria-pressed="${st.view === 'list'}">${esc(t('calViewList'))}</button>
      </span>
    </div>
    <div class="cal-filters">
      <div class="field"><label for="cal-area">${esc(t('calArea'))}</label><select id="cal-area">${optionsHtml(areas, st.area)}</select></div>
      <div class="field"><label for="cal-audience">${esc(t('calAudience'))}</label><select id="cal-audience">${optionsHtml(audienceOptions(), st.audience)}</select></div>
      <div class="field"><label for="cal-kind">${esc(t('calKind'))}</label><select id="cal-kind">${optionsHtml(kinds, st.kind)}</select></div>
    </div>
    <div class="row"><button type="button" class="btn small" id="cal-sub-toggle" aria-expanded="${st.sub.open}" aria-controls="cal-sub">${esc(t('subToggle'))}</button></div>
    <div id="cal-sub" class="cal-sub" ${st.sub.open ? '' : 'hidden'}>${subHtml()}</div>
    <p id="cal-msg" class="${st.kindOfMessage === 'ok' ? 'ok-msg' : 'msg'}" role="${st.kindOfMessage === 'ok' ? 'status' : 'alert'}" ${st.message ? '' : 'hidden'}>${esc(st.message)}</p>
    <p id="cal-count" class="count" aria-live="polite"></p>
    <div id="cal-body"></div>`;
}

function render() {
  const root = $('#calendar');
  if (!root) return;
  root.innerHTML = frameHtml();
  renderBody();
}

function renderBody() {
  const body = $('#cal-body');
  if (!body) return;
  const items = (st.data && st.data.items) || [];
  const count = $('#cal-count');
  if (count) {
    count.textContent = st.data ? t('calCount', { n: items.length }) : '';
    count.dataset.total = st.data ? String(items.length) : '';
  }
  body.innerHTML = st.view === 'list' ? listHtml(items) : gridHtml(items);
  body.dataset.month = st.month;
  body.dataset.view = st.view;
}

function byDate(items) {
  const m = new Map();
  for (const o of items) {
    if (!m.has(o.date)) m.set(o.date, []);
    m.get(o.date).push(o);
  }
  for (const list of m.values()) list.sort((a, b) => String(a.starts_at || '').localeCompare(String(b.starts_at || '')));
  return m;
}

function chipHtml(o) {
  const off = isCancelled(o);
  const time = clock(o.starts_at);
  const title = off ? `<s>${esc(o.title)}</s> <span class="ev-off">${esc(t('calCancelled'))}</span>` : esc(o.title);
  const pro = o.audience && o.audience.visibility === 'professional';
  return `<button type="button" class="ev-chip ev-${esc(o.kind)}${off ? ' cancelled' : ''}${pro ? ' pro' : ''}" data-ev="${esc(o.id)}" data-date="${esc(o.date)}"${off ? ' data-cancelled="true"' : ''} title="${esc(`${kindText(o.kind)}: ${o.title}${off ? `（${t('calCancelled')}）` : ''}`)}">${time ? `<span class="ev-time">${esc(time)}</span> ` : ''}<span class="ev-title">${title}</span></button>`;
}

function gridHtml(items) {
  const [y, m] = st.month.split('-').map(Number);
  const first = isoDate(y, m, 1);
  const last = isoDate(y, m + 1, 0);
  const start = addDays(first, -((weekday(first) + 6) % 7));
  const end = addDays(last, 6 - ((weekday(last) + 6) % 7));
  const today = todayJst();
  const dates = byDate(items);
  const heads = [1, 2, 3, 4, 5, 6, 0].map((w) => `<th scope="col" class="wd-${w}">${esc(t(`wdShort${w}`))}</th>`).join('');
  const rows = [];
  for (let d = start; d <= end;) {
    const cells = [];
    for (let i = 0; i < 7; i += 1, d = addDays(d, 1)) {
      const inMonth = d.slice(0, 7) === st.month;
      const list = inMonth ? dates.get(d) || [] : [];
      const cls = [`wd-${weekday(d)}`, inMonth ? '' : 'other', d === today ? 'today' : ''].filter(Boolean).join(' ');
      cells.push(`<td class="${cls}" data-date="${d}"${d === today ? ' aria-current="date"' : ''}>
        <span class="cal-day" aria-label="${esc(dayLabel(d))}">${Number(d.slice(8))}</span>
        ${list.map(chipHtml).join('')}</td>`);
    }
    rows.push(`<tr>${cells.join('')}</tr>`);
  }
  return `<table class="cal-grid" id="cal-grid"><caption class="visually-hidden">${esc(monthLabel(st.month))}</caption>
    <thead><tr>${heads}</tr></thead><tbody>${rows.join('')}</tbody></table>
    ${st.data && !items.length ? `<p class="hint" id="cal-empty">${esc(t('calEmpty'))}</p>` : ''}`;
}

function placeLine(o) {
  const p = o.place || {};
  const bits = [];
  if (p.name) bits.push(esc(p.name));
  if (p.online) bits.push(`<span class="badge">${esc(t('calOnline'))}</span>`);
  return bits.join(' ');
}

function listHtml(items) {
  if (st.data && !items.length) return `<p class="hint" id="cal-empty">${esc(t('calEmpty'))}</p>`;
  const dates = [...byDate(items).entries()].sort((a, b) => a[0].localeCompare(b[0]));
  return `<ol class="cal-list" id="cal-list">${dates.map(([d, list]) => `<li data-date="${esc(d)}"${d === todayJst() ? ' class="today" aria-current="date"' : ''}>
      <h4>${esc(dayLabel(d))}</h4>
      <ul class="plain">${list.map((o) => {
        const off = isCancelled(o);
        const pro = o.audience && o.audience.visibility === 'professional';
        return `<li class="cal-row${off ? ' cancelled' : ''}" data-ev="${esc(o.id)}" data-date="${esc(o.date)}">
          <span class="ev-time">${esc(timeRange(o))}</span>
          <span class="ev-kind">${esc(kindText(o.kind))}</span>${pro ? ` <span class="badge pro-tag">${esc(t('calProBadge'))}</span>` : ''}
          <button type="button" class="linkish ev-open" data-ev="${esc(o.id)}" data-date="${esc(o.date)}">${off ? `<s>${esc(o.title)}</s>` : esc(o.title)}</button>${off ? ` <span class="ev-off">${esc(t('calCancelled'))}</span>` : ''}
          ${o.schedule_label ? `<span class="muted small">${esc(o.schedule_label)}</span>` : ''}
          ${placeLine(o) ? `<span class="small ev-place">${placeLine(o)}</span>` : ''}
          ${o.organizer && o.organizer.name ? `<span class="small muted">${esc(o.organizer.name)}</span>` : ''}
        </li>`;
      }).join('')}</ul></li>`).join('')}</ol>`;
}

// ---------- loading ----------

function monthRange() {
  const [y, m] = st.month.split('-').map(Number);
  return { from: isoDate(y, m, 1), to: isoDate(y, m + 1, 0) };
}

export async function loadEvents() {
  const seq = ++st.seq;
  const { from, to } = monthRange();
  const q = new URLSearchParams({ from, to });
  if (st.area) q.set('area', st.area);
  if (st.audience) q.set('audience', st.audience);
  if (st.kind) q.set('kind', st.kind);
  hooks.busy(1);
  document.body.dataset.calendar = 'loading';
  try {
    const r = await request('GET', `/events?${q}`);
    if (seq !== st.seq) return;
    if (r.ok && r.body) {
      st.data = r.body;
      if (st.kindOfMessage !== 'ok') st.message = '';
    } else {
      st.data = { items: [] };
      st.message = t('calLoadFailed', { d: detailOf(r) });
      st.kindOfMessage = 'error';
    }
    const msg = $('#cal-msg');
    if (msg) {
      msg.hidden = !st.message;
      msg.textContent = st.message;
      msg.className = st.kindOfMessage === 'ok' ? 'ok-msg' : 'msg';
    }
    renderBody();
  } finally {
    hooks.busy(-1);
    if (seq === st.seq) document.body.dataset.calendar = 'ready';
  }
}

function setMonth(ym) {
  st.month = ym;
  st.message = '';
  const h = $('#cal-month');
  if (h) { h.textContent = monthLabel(ym); h.dataset.month = ym; }
  loadEvents();
}

function shiftMonth(n) {
  const [y, m] = st.month.split('-').map(Number);
  setMonth(isoDate(y, m + n, 1).slice(0, 7));
}

// ---------- the dialog ----------

function dialog() {
  let d = $('#cal-dialog');
  if (!d) {
    d = document.createElement('dialog');
    d.id = 'cal-dialog';
    d.className = 'cal-dialog';
    d.setAttribute('aria-labelledby', 'cal-dialog-title');
    document.body.append(d);
    d.addEventListener('click', onDialogClick);
    d.addEventListener('submit', onDialogSubmit);
    d.addEventListener('change', onDialogChange);
    d.addEventListener('close', () => { st.form = null; d.innerHTML = ''; });
  }
  return d;
}

function showDialog(html) {
  const d = dialog();
  d.innerHTML = html;
  if (!d.open) d.showModal();
  const h = $('#cal-dialog-title', d);
  if (h) h.focus();
}

function closeDialog() {
  const d = $('#cal-dialog');
  if (d && d.open) d.close();
}

function dialogHead(title, extra = '') {
  return `<div class="detail-head"><h2 id="cal-dialog-title" tabindex="-1">${esc(title)}</h2>${extra}
    <button type="button" class="btn small close" data-dlg="close" aria-label="${esc(t('close'))}">×</button></div>`;
}

function linkOrText(v) {
  const s = String(v || '');
  return /^https?:\/\//.test(s) ? `<a href="${esc(s)}" target="_blank" rel="noopener">${esc(s)}</a>` : esc(s);
}

function eventDetailHtml(ev, date) {
  const off = ev.status === 'cancelled' || ((ev.schedule && ev.schedule.cancelled) || []).includes(date);
  const p = ev.place || {};
  const row = (k, v, field) => (v ? `<dt>${esc(t(k))}</dt><dd data-field="${field}">${v}</dd>` : '');
  const time = timeRange({ schedule: ev.schedule, starts_at: ev.starts_at, ends_at: ev.ends_at });
  const when = date ? `${off ? `<s>${esc(dayLabel(date, { year: true }))} ${esc(time)}</s> <span class="ev-off">${esc(t('calCancelled'))}</span>` : `${esc(dayLabel(date, { year: true }))} ${esc(time)}`}` : '';
  const org = ev.organizer || {};
  const orgHtml = org.facility_id
    ? `<button type="button" class="linkish" data-open-facility="${esc(org.facility_id)}">${esc(org.name || org.facility_id)}</button>`
    : esc(org.name || '');
  const place = [p.name && esc(p.name), p.address && esc(p.address), p.online && !p.link ? esc(t('evOnlineOnly')) : ''].filter(Boolean).join('<br>');
  const aud = ev.audience || {};
  const audience = `${esc(t(`audience_${aud.visibility || 'public'}`))}${(aud.professions || []).length ? `: ${esc(aud.professions.map((x) => t(`prof_${x}`)).join('・'))}` : ''}`;
  const next = (ev.next_dates || []).slice(0, 6).map((d) => esc(dayLabel(d))).join('、');
  const actions = mayEditEvent(ev)
    ? `<div class="row"><button type="button" class="btn small" data-dlg="edit" data-ev="${esc(ev.id)}">${esc(t('evEdit'))}</button>
       <button type="button" class="btn small" data-dlg="delete" data-ev="${esc(ev.id)}">${esc(t('evDelete'))}</button></div>` : '';
  return `<div class="ev-detail" data-event="${esc(ev.id)}" data-status="${esc(ev.status || 'scheduled')}">
    ${dialogHead(ev.title)}
    <p class="meta"><span class="ev-kind" data-field="kind">${esc(kindText(ev.kind))}</span>${off ? ` <span class="badge warn ev-off">${esc(t('calCancelled'))}</span>` : ''}</p>
    <dl class="dates ev-fields">
      ${row('evWhen', when, 'when')}
      ${row('evSchedule', esc(ev.schedule_label || ''), 'schedule_label')}
      ${row('evNextDates', next, 'next_dates')}
      ${row('evOrganizer', orgHtml, 'organizer')}
      ${row('evPlace', place, 'place')}
      ${row('evOnlineLink', p.link ? linkOrText(p.link) : '', 'link')}
      ${row('evAudience', audience, 'audience')}
      ${row('evAreas', esc((ev.areas || []).map(areaName).join('、')), 'areas')}
      ${row('evCapacity', ev.capacity != null && ev.capacity !== '' ? esc(t('evCapacityN', { n: ev.capacity })) : '', 'capacity')}
      ${row('evApply', esc(ev.apply || ''), 'apply')}
      ${row('evDeadline', ev.deadline ? esc(/^\d{4}-\d{2}-\d{2}$/.test(ev.deadline) ? dayLabel(ev.deadline, { year: true }) : ev.deadline) : '', 'deadline')}
      ${row('evCredits', esc(ev.credits || ''), 'credits')}
      ${row('evMaterials', ev.materials ? linkOrText(ev.materials) : '', 'materials')}
    </dl>
    ${ev.description ? `<h3>${esc(t('evDescription'))}</h3><p class="ev-desc">${esc(ev.description)}</p>` : ''}
    <p id="ev-detail-msg" class="msg" role="alert" hidden></p>
    ${actions}
  </div>`;
}

async function openEvent(id, date) {
  hooks.busy(1);
  let r;
  try {
    r = await request('GET', `/events/${encodeURIComponent(id)}`);
  } finally {
    hooks.busy(-1);
  }
  if (!r.ok || !r.body) {
    showDialog(`${dialogHead(t('calHeading'))}<p class="msg" role="alert">${esc(t('evLoadFailed', { d: detailOf(r) }))}</p>`);
    return;
  }
  const ev = r.body;
  // The occurrence clicked, with its own times (the detail names the rule).
  const occ = ((st.data && st.data.items) || []).find((o) => o.id === id && o.date === date);
  const shown = { ...ev, starts_at: occ && occ.starts_at, ends_at: occ && occ.ends_at, _etag: r.etag };
  dialog().dataset.etag = r.etag || '';
  lastEvent = shown;
  showDialog(eventDetailHtml(shown, date || (ev.next_dates || [])[0] || (ev.schedule && ev.schedule.start)));
}
let lastEvent = null;

async function deleteEvent(id) {
  if (!confirm(t('evConfirmDelete'))) return;
  const etag = lastEvent && lastEvent.id === id ? lastEvent._etag : undefined;
  const r = await request('DELETE', `/events/${encodeURIComponent(id)}`, { etag });
  if (r.ok) {
    closeDialog();
    st.message = t('evDeleted');
    st.kindOfMessage = 'ok';
    render();
    loadEvents();
    return;
  }
  const el = $('#ev-detail-msg');
  if (el) { el.hidden = false; el.textContent = t('evSaveFailed', { d: detailOf(r) }); }
}

// ---------- the form ----------

/** The repeat choices a start date offers: 毎週火曜日, 毎月第2火曜日, … */
function repeatChoices(date, rrule) {
  const p = parseDate(date);
  const w = p ? weekday(date) : 2;
  const n = p ? Math.ceil(p.d / 7) : 1;
  const wd = t(`wdLong${w}`);
  const choices = [
    ['none', t('rep_none')],
    ['weekly', t('rep_weekly', { w: wd })],
    ['biweekly', t('rep_biweekly', { w: wd })],
  ];
  if (n <= 4) choices.push(['monthly_nth', t('rep_monthly_nth', { n, nth: t(`nth${n}`), w: wd })]);
  choices.push(['monthly_last', t('rep_monthly_last', { w: wd })]);
  if (rrule && repeatOf(rrule, date).repeat === 'custom') choices.push(['custom', t('rep_custom', { r: rrule })]);
  return choices;
}

/** The RRULE value of a repeat choice from `date` (and an end date), or undefined. */
export function rruleOf(repeat, date, until, custom) {
  const p = parseDate(date);
  if (!p || repeat === 'none' || !repeat) return undefined;
  if (repeat === 'custom') return custom || undefined;
  const day = BYDAY[weekday(date)];
  const end = until && parseDate(until) ? `;UNTIL=${until.replace(/-/g, '')}` : '';
  if (repeat === 'weekly') return `FREQ=WEEKLY;BYDAY=${day}${end}`;
  if (repeat === 'biweekly') return `FREQ=WEEKLY;INTERVAL=2;BYDAY=${day}${end}`;
  if (repeat === 'monthly_nth') return `FREQ=MONTHLY;BYDAY=${Math.ceil(p.d / 7)}${day}${end}`;
  if (repeat === 'monthly_last') return `FREQ=MONTHLY;BYDAY=-1${day}${end}`;
  return undefined;
}

/** The form's repeat choice and end date for a stored rule. */
function repeatOf(rrule, date) {
  if (!rrule) return { repeat: 'none', until: '' };
  const parts = Object.fromEntries(rrule.split(';').map((kv) => kv.split('=')));
  const until = parts.UNTIL ? `${parts.UNTIL.slice(0, 4)}-${parts.UNTIL.slice(4, 6)}-${parts.UNTIL.slice(6, 8)}` : '';
  const known = new Set(['FREQ', 'BYDAY', 'INTERVAL', 'UNTIL']);
  const day = BYDAY[weekday(date)];
  let repeat = 'custom';
  if (Object.keys(parts).every((k) => known.has(k))) {
    const interval = parts.INTERVAL || '1';
    if (parts.FREQ === 'WEEKLY' && parts.BYDAY === day && interval === '1') repeat = 'weekly';
    else if (parts.FREQ === 'WEEKLY' && parts.BYDAY === day && interval === '2') repeat = 'biweekly';
    else if (parts.FREQ === 'MONTHLY' && interval === '1' && parts.BYDAY === `${Math.ceil((parseDate(date) || { d: 1 }).d / 7)}${day}`) repeat = 'monthly_nth';
    else if (parts.FREQ === 'MONTHLY' && interval === '1' && parts.BYDAY === `-1${day}`) repeat = 'monthly_last';
  }
  return { repeat, until };
}

function blankEvent() {
  const s = session();
  const areas = s.role === 'coordinator' ? (s.areas || []).slice(0, 1) : st.area ? [st.area] : [];
  return {
    kind: 'training', title: '', organizer: { name: '' }, areas,
    audience: { visibility: 'public', professions: [] },
    schedule: { start: '', from: '', to: '' },
    place: { online: false, link_visibility: 'public' },
    status: 'scheduled',
  };
}

function fieldErr(f, key) {
  const e = f.errors[key];
  return e ? `<p class="field-error" data-error-for="${esc(key)}" id="ev-err-${esc(key.replace(/\W/g, '-'))}">${esc(e)}</p>` : '';
}

function inv(f, key) {
  return f.errors[key] ? ` aria-invalid="true" aria-describedby="ev-err-${esc(key.replace(/\W/g, '-'))}"` : '';
}

function formHtml(f) {
  const ev = f.event;
  const s = session();
  const sch = ev.schedule || {};
  const place = ev.place || {};
  const aud = ev.audience || {};
  const rep = f.repeat || repeatOf(sch.rrule, sch.start);
  const text = (id, key, label, value, extra = '') => `<div class="field"><label for="${id}">${esc(t(label))}</label>
      <input id="${id}" type="text" data-path="${key}" value="${esc(value ?? '')}"${inv(f, key)} ${extra}>${fieldErr(f, key)}</div>`;
  const areas = s.role === 'admin' || s.role === 'facility_editor' ? hooks.areas().map((a) => a.code) : Array.from(new Set([...(s.areas || []), ...(ev.areas || [])]));
  const orgIsEditor = s.role === 'facility_editor';
  const facilities = f.facilities || [];
  const orgPicker = orgIsEditor
    ? `<div class="field"><label for="ev-org-facility">${esc(t('evOrgFacility'))}</label>
        <select id="ev-org-facility" data-path="organizer.facility_id"${inv(f, 'organizer.facility_id')}>${(s.facilities || []).map((id) => {
          const name = (facilities.find((x) => x.id === id) || {}).name || id;
          return `<option value="${esc(id)}" data-name="${esc(name)}"${(ev.organizer || {}).facility_id === id ? ' selected' : ''}>${esc(name)}</option>`;
        }).join('')}</select>${fieldErr(f, 'organizer.facility_id')}</div>`
    : `<div class="field"><label for="ev-org-q">${esc(t('evOrgQ'))}</label>
        <div class="row"><input id="ev-org-q" type="search" autocomplete="off" value="${esc(f.orgQ || '')}"><button type="button" class="btn small" data-dlg="org-search">${esc(t('evOrgSearch'))}</button></div>
        <input type="hidden" id="ev-org-facility" data-path="organizer.facility_id" value="${esc((ev.organizer || {}).facility_id || '')}">
        <p class="small" id="ev-org-chosen">${(ev.organizer || {}).facility_id ? `${esc(t('evOrgChosen', { n: (ev.organizer || {}).name || ev.organizer.facility_id }))} <button type="button" class="btn small" data-dlg="org-none">${esc(t('evOrgNone'))}</button>` : ''}</p>
        <ul class="plain ev-org-results" id="ev-org-results">${(f.orgResults || []).map((x) => `<li><button type="button" class="linkish" data-dlg="org-pick" data-id="${esc(x.id)}" data-name="${esc(x.name)}">${esc(x.name)}</button> <span class="muted small">${esc(x.where || '')}</span></li>`).join('')}</ul>
        ${fieldErr(f, 'organizer.facility_id')}</div>`;
  return `<form id="ev-form" class="ev-form" novalidate data-mode="${ev.id ? 'edit' : 'new'}">
    ${dialogHead(t(ev.id ? 'evFormEdit' : 'evFormNew'))}
    <p id="ev-form-msg" class="msg" role="alert" ${f.message ? '' : 'hidden'}>${esc(f.message || '')}</p>
    ${text('ev-title', 'title', 'evTitle', ev.title, 'maxlength="200" required')}
    <div class="field"><label for="ev-kind">${esc(t('evKind'))}</label>
      <select id="ev-kind" data-path="kind"${inv(f, 'kind')}>${optionsHtml(EVENT_KINDS.map((k) => [k, kindText(k)]), ev.kind)}</select>${fieldErr(f, 'kind')}</div>
    <fieldset><legend>${esc(t('evOrganizer'))}</legend>
      ${orgPicker}
      ${text('ev-org-name', 'organizer.name', 'evOrgName', (ev.organizer || {}).name, 'maxlength="200"')}
    </fieldset>
    <fieldset data-path="areas"${inv(f, 'areas')}><legend>${esc(t('evAreasLegend'))}</legend>
      <div class="ev-checks">${areas.map((c) => `<span><input type="checkbox" id="ev-area-${esc(c)}" data-area="${esc(c)}"${(ev.areas || []).includes(c) ? ' checked' : ''}> <label for="ev-area-${esc(c)}">${esc(areaName(c))}</label></span>`).join('')}</div>
      ${fieldErr(f, 'areas')}</fieldset>
    <fieldset><legend>${esc(t('evVisibility'))}</legend>
      <span><input type="radio" name="ev-vis" id="ev-vis-public" value="public"${aud.visibility !== 'professional' ? ' checked' : ''}> <label for="ev-vis-public">${esc(t('evVisPublic'))}</label></span>
      <span><input type="radio" name="ev-vis" id="ev-vis-professional" value="professional"${aud.visibility === 'professional' ? ' checked' : ''}> <label for="ev-vis-professional">${esc(t('evVisPro'))}</label></span>
      ${fieldErr(f, 'audience.visibility')}
      <p class="ev-sub-legend">${esc(t('evProfessions'))}</p>
      <div class="ev-checks" data-path="audience.professions">${PROFESSIONS.map((p) => `<span><input type="checkbox" id="ev-prof-${p}" data-prof="${p}"${(aud.professions || []).includes(p) ? ' checked' : ''}> <label for="ev-prof-${p}">${esc(t(`prof_${p}`))}</label></span>`).join('')}</div>
      ${fieldErr(f, 'audience.professions')}</fieldset>
    <fieldset><legend>${esc(t('evWhen'))}</legend>
      <div class="grid3">
        <div class="field"><label for="ev-date">${esc(t('evDate'))}</label><input id="ev-date" type="date" data-path="schedule.start" value="${esc(sch.start || '')}"${inv(f, 'schedule.start')} required>${fieldErr(f, 'schedule.start')}</div>
        <div class="field"><label for="ev-from">${esc(t('evFrom'))}</label><input id="ev-from" type="time" data-path="schedule.from" value="${esc(sch.from || '')}"${inv(f, 'schedule.from')}>${fieldErr(f, 'schedule.from')}</div>
        <div class="field"><label for="ev-to">${esc(t('evTo'))}</label><input id="ev-to" type="time" data-path="schedule.to" value="${esc(sch.to || '')}"${inv(f, 'schedule.to')}>${fieldErr(f, 'schedule.to')}</div>
      </div>
      <div class="grid2">
        <div class="field"><label for="ev-repeat">${esc(t('evRepeat'))}</label>
          <select id="ev-repeat" data-path="schedule.rrule"${inv(f, 'schedule.rrule')}>${optionsHtml(repeatChoices(sch.start, sch.rrule), rep.repeat)}</select>${fieldErr(f, 'schedule.rrule')}</div>
        <div class="field"><label for="ev-until">${esc(t('evUntil'))}</label><input id="ev-until" type="date" value="${esc(rep.until || '')}"></div>
      </div>
      <div class="field check"><input type="checkbox" id="ev-skip-holidays" data-path="schedule.skip_holidays"${sch.skip_holidays ? ' checked' : ''}><label for="ev-skip-holidays">${esc(t('evSkipHolidays'))}</label></div>
      ${text('ev-cancelled', 'schedule.cancelled', 'evCancelledDates', (sch.cancelled || []).join(', '), 'placeholder="2026-12-22, 2027-01-12"')}
    </fieldset>
    <fieldset><legend>${esc(t('evPlace'))}</legend>
      ${text('ev-place-name', 'place.name', 'evPlaceName', place.name, 'maxlength="200"')}
      ${text('ev-place-address', 'place.address', 'evPlaceAddress', place.address, 'maxlength="300"')}
      <div class="field check"><input type="checkbox" id="ev-online" data-path="place.online"${place.online ? ' checked' : ''}><label for="ev-online">${esc(t('evOnline'))}</label></div>
      ${text('ev-link', 'place.link', 'evLink', place.link, 'inputmode="url" placeholder="https://"')}
      <div class="field check"><input type="checkbox" id="ev-link-pro" data-path="place.link_visibility"${place.link_visibility === 'professional' ? ' checked' : ''}><label for="ev-link-pro">${esc(t('evLinkPro'))}</label></div>
    </fieldset>
    <div class="grid2">
      <div class="field"><label for="ev-capacity">${esc(t('evCapacity'))}</label><input id="ev-capacity" type="number" min="1" max="100000" data-path="capacity" value="${esc(ev.capacity ?? '')}"${inv(f, 'capacity')}>${fieldErr(f, 'capacity')}</div>
      <div class="field"><label for="ev-deadline">${esc(t('evDeadline'))}</label><input id="ev-deadline" type="date" data-path="deadline" value="${esc(ev.deadline || '')}"${inv(f, 'deadline')}>${fieldErr(f, 'deadline')}</div>
    </div>
    ${text('ev-apply', 'apply', 'evApply', ev.apply, 'maxlength="500"')}
    ${text('ev-credits', 'credits', 'evCredits', ev.credits, 'maxlength="300"')}
    ${text('ev-materials', 'materials', 'evMaterials', ev.materials, 'maxlength="500"')}
    <div class="field"><label for="ev-description">${esc(t('evDescription'))}</label><textarea id="ev-description" rows="3" maxlength="4000" data-path="description"${inv(f, 'description')}>${esc(ev.description || '')}</textarea>${fieldErr(f, 'description')}</div>
    ${ev.id ? `<div class="field"><label for="ev-status">${esc(t('evStatus'))}</label><select id="ev-status" data-path="status">${optionsHtml([['scheduled', t('evStatusScheduled')], ['cancelled', t('evStatusCancelled')]], ev.status || 'scheduled')}</select></div>` : ''}
    <div class="row">
      <button type="submit" class="btn primary" id="ev-save">${esc(t('evSave'))}</button>
      <button type="button" class="btn" data-dlg="close">${esc(t('evCancelForm'))}</button>
    </div>
  </form>`;
}

/** Everything typed, into f.event (nothing typed is lost when the form is drawn again). */
function readForm(f) {
  const d = dialog();
  const v = (id) => { const el = $(`#${id}`, d); return el ? el.value.trim() : ''; };
  const checked = (id) => { const el = $(`#${id}`, d); return !!(el && el.checked); };
  const ev = f.event;
  ev.title = v('ev-title');
  ev.kind = v('ev-kind') || 'training';
  const orgSel = $('#ev-org-facility', d);
  const facilityId = orgSel ? orgSel.value : '';
  ev.organizer = { name: v('ev-org-name') };
  if (facilityId) ev.organizer.facility_id = facilityId;
  ev.areas = [...d.querySelectorAll('[data-area]')].filter((el) => el.checked).map((el) => el.dataset.area);
  ev.audience = {
    visibility: checked('ev-vis-professional') ? 'professional' : 'public',
    professions: [...d.querySelectorAll('[data-prof]')].filter((el) => el.checked).map((el) => el.dataset.prof),
  };
  const start = v('ev-date');
  const repeat = v('ev-repeat') || 'none';
  const until = v('ev-until');
  f.repeat = { repeat, until };
  f.cancelledText = v('ev-cancelled');
  ev.schedule = {
    start,
    from: v('ev-from'),
    to: v('ev-to'),
    rrule: rruleOf(repeat, start, until, ev.schedule && ev.schedule.rrule),
    skip_holidays: checked('ev-skip-holidays'),
    cancelled: f.cancelledText.split(/[,、\s]+/).filter(Boolean),
  };
  ev.place = {
    name: v('ev-place-name'),
    address: v('ev-place-address'),
    online: checked('ev-online'),
    link: v('ev-link'),
    link_visibility: checked('ev-link-pro') ? 'professional' : 'public',
  };
  ev.capacity = v('ev-capacity');
  ev.deadline = v('ev-deadline');
  ev.apply = v('ev-apply');
  ev.credits = v('ev-credits');
  ev.materials = v('ev-materials');
  ev.description = v('ev-description');
  if ($('#ev-status', d)) ev.status = v('ev-status');
  f.orgQ = v('ev-org-q');
}

/** The API body of the form's event: empty optional fields left out. */
function bodyOf(ev) {
  const drop = (o) => Object.fromEntries(Object.entries(o).filter(([, x]) => x !== '' && x !== undefined && x !== null && !(Array.isArray(x) && !x.length) && x !== false));
  const body = {
    kind: ev.kind,
    title: ev.title,
    organizer: drop(ev.organizer),
    areas: ev.areas,
    audience: { visibility: ev.audience.visibility, professions: ev.audience.professions },
    schedule: drop(ev.schedule),
    place: { ...drop(ev.place), online: !!ev.place.online, link_visibility: ev.place.link_visibility },
  };
  // A new event is scheduled; only an edit calls it off.
  if (ev.id) body.status = ev.status || 'scheduled';
  if (!body.organizer.name) body.organizer.name = '';
  for (const k of ['description', 'apply', 'deadline', 'credits', 'materials']) if (ev[k]) body[k] = ev[k];
  if (ev.capacity !== '' && ev.capacity != null) body.capacity = /^\d+$/.test(String(ev.capacity)) ? Number(ev.capacity) : ev.capacity;
  return body;
}

function checkForm(f) {
  const e = {};
  const ev = f.event;
  if (!ev.title) e.title = t('evNeedTitle');
  if (!ev.schedule.start) e['schedule.start'] = t('evNeedDate');
  if (!ev.organizer.name) e['organizer.name'] = t('evNeedOrg');
  if (!ev.areas.length) e.areas = t('evNeedArea');
  const bad = ev.schedule.cancelled.filter((d) => !/^\d{4}-\d{2}-\d{2}$/.test(d));
  if (bad.length) e['schedule.cancelled'] = t('evBadDates', { d: bad.join(', ') });
  return e;
}

function renderForm() {
  const f = st.form;
  if (!f) return;
  const d = dialog();
  const scroll = d.scrollTop;
  d.innerHTML = formHtml(f);
  d.scrollTop = scroll;
}

/** `schedule.to: 終了時刻は…` → {field: 'schedule.to', text: '終了時刻は…'}; other text as it is. */
function namedField(text) {
  const m = /^([a-z_]+(?:\.[a-z_]+)*): (.+)$/s.exec(String(text || ''));
  return m ? { field: m[1], text: m[2] } : { field: '', text: String(text || '') };
}

/** A field name of the API (`schedule.start`, `/place/link`, `errors[].field`) as the form's key. */
function fieldKey(name) {
  return String(name || '').replace(/^\//, '').replace(/\//g, '.').replace(/\.\d+$/, '');
}

async function saveForm() {
  const f = st.form;
  readForm(f);
  f.errors = checkForm(f);
  f.message = '';
  if (Object.keys(f.errors).length) {
    f.message = t('evFix');
    renderForm();
    focusFirstError();
    return;
  }
  const ev = f.event;
  const btn = $('#ev-save');
  btn.disabled = true;
  btn.textContent = t('evSaving');
  hooks.busy(1);
  let r;
  try {
    r = ev.id
      ? await request('PUT', `/events/${encodeURIComponent(ev.id)}`, { body: bodyOf(ev), etag: f.etag })
      : await request('POST', '/events', { body: bodyOf(ev) });
  } finally {
    hooks.busy(-1);
  }
  if (st.form !== f) return;
  if (r.ok) {
    const saved = r.body || ev;
    closeDialog();
    st.message = t('evSaved', { t: saved.title || ev.title });
    st.kindOfMessage = 'ok';
    // Show the month it starts in.
    const start = (saved.schedule && saved.schedule.start) || ev.schedule.start;
    if (start) st.month = start.slice(0, 7);
    render();
    await loadEvents();
    return;
  }
  const p = r.body || {};
  f.errors = {};
  const list = Array.isArray(p.errors) ? p.errors : [];
  for (const e of list) {
    const said = namedField(serverText(e.detail || e.message || e.reason || p.detail));
    const key = fieldKey(e.field || e.pointer || e.name || e.path) || said.field;
    if (key) f.errors[key] = said.text;
  }
  // One problem may name its field in `field`, or as the detail's prefix (`schedule.to: …`).
  const top = namedField(serverText(p.detail));
  const key = fieldKey(p.field) || top.field;
  if (key && !f.errors[key]) f.errors[key] = top.text;
  if (r.status === 409 || r.status === 412) f.message = t('evConflict');
  else f.message = t('evSaveFailed', { d: top.text || detailOf(r) });
  renderForm();
  focusFirstError();
}

function focusFirstError() {
  const d = dialog();
  const first = $('[aria-invalid="true"]', d);
  if (first) {
    const input = first.matches('fieldset') ? $('input', first) : first;
    (input || first).focus();
  } else {
    const m = $('#ev-form-msg', d);
    if (m) m.scrollIntoView({ block: 'nearest' });
  }
}

async function openForm(ev, etag) {
  const s = session();
  const event = ev ? JSON.parse(JSON.stringify(ev)) : blankEvent();
  if (!ev && s.role === 'facility_editor' && (s.facilities || []).length) event.organizer = { facility_id: s.facilities[0], name: '' };
  st.form = { event, etag, errors: {}, message: '', facilities: [] };
  showDialog(formHtml(st.form));
  // A facility editor's own facilities by name.
  if (s.role === 'facility_editor') {
    const found = await Promise.all((s.facilities || []).map((id) => request('GET', `/facilities/${encodeURIComponent(id)}`)));
    if (!st.form || st.form.event !== event) return;
    readForm(st.form);
    st.form.facilities = found.filter((r) => r.ok && r.body).map((r) => ({ id: r.body.id, name: r.body.name }));
    if (!event.organizer.name) {
      const mine = st.form.facilities.find((x) => x.id === event.organizer.facility_id);
      if (mine) event.organizer.name = mine.name;
    }
    renderForm();
  }
}

async function searchOrganizer() {
  const f = st.form;
  readForm(f);
  if (!f.orgQ) return;
  const q = new URLSearchParams({ q: f.orgQ, limit: '8' });
  const r = await request('GET', `/facilities?${q}`);
  if (st.form !== f) return;
  f.orgResults = r.ok && r.body ? (r.body.items || []).map((x) => ({ id: x.id, name: x.name, where: (x.address && x.address.text) || '' })) : [];
  renderForm();
  const first = $('#ev-org-results button');
  if (first) first.focus();
}

// ---------- subscribe ----------

function publicFeedUrl() {
  const q = new URLSearchParams();
  if (st.sub.area) q.set('area', st.sub.area);
  q.set('audience', 'public');
  return `${location.origin}/api/v1/events.ics?${q}`;
}

function webcalOf(url) {
  return String(url).replace(/^https?:\/\//, 'webcal://');
}

function urlBox(id, url, webcal) {
  return `<div class="field"><label for="${id}">${esc(t('subPublicUrl'))}</label>
      <div class="row sub-url-row"><input id="${id}" type="text" readonly value="${esc(url)}">
      <button type="button" class="btn small" data-copy="${id}">${esc(t('subCopy'))}</button></div></div>
    <p><a id="${id}-webcal" href="${esc(webcal)}">${esc(t('subWebcal'))}</a></p>
    <p class="small" id="${id}-copied" role="status"></p>`;
}

function subHtml() {
  const s = st.sub;
  const areaOpts = [['', t('calAreaAll')], ...hooks.areas().map((a) => [a.code, `${a.name}（${a.code}）`])];
  const intro = `<p class="hint">${esc(t('subIntro'))}</p>
    <div class="field"><label for="sub-area">${esc(t('subArea'))}</label><select id="sub-area">${optionsHtml(areaOpts, s.area)}</select></div>`;
  if (!session().signed_in) {
    const url = publicFeedUrl();
    return `${intro}${urlBox('sub-url', url, webcalOf(url))}`;
  }
  const feeds = s.feeds;
  const feedList = !feeds ? '' : feeds.length ? feeds.map((x) => `<li data-feed="${esc(x.id)}">
      <strong>${esc(x.label || '')}</strong>
      <span class="muted small">${esc(t('subFeedMeta', { a: x.area ? areaName(x.area) : t('calAreaAll'), w: t(`audience_${x.audience || 'public'}`), c: String(x.created_at || '').slice(0, 10) }))} ・ ${esc(x.last_used_at ? t('subFeedUsed', { d: String(x.last_used_at).slice(0, 10) }) : t('subFeedNever'))}</span>
      <button type="button" class="btn small" data-feed-delete="${esc(x.id)}">${esc(t('subDelete'))}</button></li>`).join('')
    : `<li class="muted">${esc(t('subNoFeeds'))}</li>`;
  return `${intro}
    <div class="field"><label for="sub-audience">${esc(t('subAudience'))}</label><select id="sub-audience">${optionsHtml([['public', t('subAudiencePublic')], ['professional', t('subAudiencePro')]], s.audience)}</select></div>
    <div class="field"><label for="sub-label">${esc(t('subLabel'))}</label><input id="sub-label" type="text" maxlength="100" value="${esc(s.label || defaultLabel())}"></div>
    <div class="row"><button type="button" class="btn primary small" id="sub-create">${esc(t('subCreate'))}</button></div>
    <p id="sub-msg" class="${s.kind === 'ok' ? 'ok-msg' : 'msg'}" role="alert" ${s.message ? '' : 'hidden'}>${esc(s.message)}</p>
    ${s.result ? `<div id="sub-result" class="sub-result">${urlBox('sub-url', s.result.url, s.result.webcal || webcalOf(s.result.url))}<p class="note" id="sub-private">${esc(t('subPrivate'))}</p></div>` : ''}
    <h4>${esc(t('subFeeds'))}</h4>
    <ul class="plain sub-feeds" id="sub-feeds">${feedList}</ul>`;
}

function defaultLabel() {
  return t('subLabelDefault', { a: st.sub.area ? areaName(st.sub.area) : t('calAreaAll') });
}

function renderSub() {
  const el = $('#cal-sub');
  if (el) el.innerHTML = subHtml();
}

async function loadFeeds() {
  if (!session().signed_in) return;
  const r = await request('GET', '/calendar-feeds');
  st.sub.feeds = r.ok && r.body ? r.body.items || [] : [];
  renderSub();
}

async function createFeed() {
  const s = st.sub;
  s.label = ($('#sub-label') || {}).value || defaultLabel();
  const body = { label: s.label.trim() || defaultLabel(), audience: s.audience };
  if (s.area) body.area = s.area;
  const btn = $('#sub-create');
  if (btn) btn.disabled = true;
  const r = await request('POST', '/calendar-feeds', { body });
  if (r.ok && r.body && r.body.url) {
    s.result = r.body;
    s.message = '';
  } else {
    s.result = null;
    s.message = t('subFailed', { d: detailOf(r) });
    s.kind = 'error';
  }
  renderSub();
  await loadFeeds();
  const u = $('#sub-url');
  if (u) u.focus();
}

async function deleteFeed(id) {
  const r = await request('DELETE', `/calendar-feeds/${encodeURIComponent(id)}`);
  if (!r.ok) {
    st.sub.message = t('subDeleteFailed', { d: detailOf(r) });
    st.sub.kind = 'error';
  } else if (st.sub.result && st.sub.result.id === id) st.sub.result = null;
  await loadFeeds();
}

async function copyUrl(id) {
  const input = $(`#${id}`);
  const note = $(`#${id}-copied`);
  if (!input) return;
  let ok = false;
  try {
    await navigator.clipboard.writeText(input.value);
    ok = true;
  } catch {
    input.select();
    try { ok = document.execCommand('copy'); } catch { ok = false; }
  }
  if (note) note.textContent = t(ok ? 'subCopied' : 'subCopyFailed');
  if (!ok) input.select();
}

// ---------- wiring ----------

function onDialogClick(ev) {
  const b = ev.target.closest('button');
  const d = dialog();
  // A click on the backdrop (the dialog box itself, outside its content) closes a detail.
  if (!b) {
    if (ev.target === d && !st.form) closeDialog();
    return;
  }
  if (b.dataset.dlg === 'close') closeDialog();
  else if (b.dataset.dlg === 'edit') openForm(lastEvent, lastEvent && lastEvent._etag);
  else if (b.dataset.dlg === 'delete') deleteEvent(b.dataset.ev);
  else if (b.dataset.dlg === 'org-search') searchOrganizer();
  else if (b.dataset.dlg === 'org-pick' || b.dataset.dlg === 'org-none') {
    readForm(st.form);
    const org = st.form.event.organizer;
    if (b.dataset.dlg === 'org-pick') { org.facility_id = b.dataset.id; org.name = b.dataset.name; }
    else delete org.facility_id;
    st.form.orgResults = [];
    renderForm();
    const n = $('#ev-org-name');
    if (n) n.focus();
  } else if (b.dataset.openFacility) {
    closeDialog();
    hooks.openFacility(b.dataset.openFacility);
  }
}

function onDialogSubmit(ev) {
  if (ev.target.id !== 'ev-form') return;
  ev.preventDefault();
  saveForm();
}

function onDialogChange(ev) {
  const el = ev.target;
  if (!st.form) return;
  // The repeat choices follow the date (毎月第2火曜日 from a Tuesday the 8th).
  if (el.id === 'ev-date' || (el.id === 'ev-org-facility' && el.tagName === 'SELECT')) {
    readForm(st.form);
    if (el.tagName === 'SELECT') {
      const o = el.selectedOptions[0];
      if (o && o.dataset.name) st.form.event.organizer.name = o.dataset.name;
    }
    renderForm();
    const again = $(`#${el.id}`);
    if (again) again.focus();
  }
}

export function setCalendarActive(on) {
  st.active = on;
  document.body.classList.toggle('tab-calendar', on);
  if (!on) return;
  render();
  loadEvents();
  if (st.sub.open) loadFeeds();
}

export function initCalendar(h) {
  hooks = { ...hooks, ...h };
  const root = $('#calendar');
  root.addEventListener('click', (ev) => {
    const b = ev.target.closest('button');
    if (!b) return;
    if (b.id === 'cal-prev') shiftMonth(-1);
    else if (b.id === 'cal-next') shiftMonth(1);
    else if (b.id === 'cal-this') setMonth(todayJst().slice(0, 7));
    else if (b.id === 'cal-view-month' || b.id === 'cal-view-list') {
      st.view = b.id === 'cal-view-list' ? 'list' : 'month';
      $('#cal-view-month').setAttribute('aria-pressed', String(st.view === 'month'));
      $('#cal-view-list').setAttribute('aria-pressed', String(st.view === 'list'));
      renderBody();
    } else if (b.id === 'cal-new') openForm(null);
    else if (b.id === 'cal-sub-toggle') {
      st.sub.open = !st.sub.open;
      if (st.sub.open && !st.sub.area) st.sub.area = st.area || (session().areas || [])[0] || '';
      b.setAttribute('aria-expanded', String(st.sub.open));
      $('#cal-sub').hidden = !st.sub.open;
      renderSub();
      if (st.sub.open) loadFeeds();
    } else if (b.id === 'sub-create') createFeed();
    else if (b.dataset.copy) copyUrl(b.dataset.copy);
    else if (b.dataset.feedDelete) deleteFeed(b.dataset.feedDelete);
    else if (b.dataset.ev) openEvent(b.dataset.ev, b.dataset.date);
  });
  root.addEventListener('change', (ev) => {
    const el = ev.target;
    if (el.id === 'cal-area') { st.area = el.value; loadEvents(); }
    else if (el.id === 'cal-audience') { st.audience = el.value; loadEvents(); }
    else if (el.id === 'cal-kind') { st.kind = el.value; loadEvents(); }
    else if (el.id === 'sub-area') {
      const was = defaultLabel();
      st.sub.area = el.value;
      const label = $('#sub-label');
      if (label && (!label.value || label.value === was)) st.sub.label = '';
      else if (label) st.sub.label = label.value;
      st.sub.result = null;
      renderSub();
    } else if (el.id === 'sub-audience') st.sub.audience = el.value;
    else if (el.id === 'sub-label') st.sub.label = el.value;
  });
  onSessionChange(() => {
    st.sub = { ...st.sub, result: null, feeds: null, message: '', audience: 'public', label: '' };
    if (!session().signed_in && st.audience === 'professional') st.audience = '';
    closeDialog();
    if (st.active) { render(); loadEvents(); if (st.sub.open) loadFeeds(); }
  });
  onLangChange(() => {
    if (st.form) { readForm(st.form); renderForm(); }
    if (st.active) render();
  });
}

// UI strings: Japanese first, English second. Vocabulary labels (kinds,
// services) come from the API; these are the page's own words.

const STRINGS = {
  title: ['埼玉県 緩和ケア資源マップ', 'Saitama palliative care resource map'],
  subtitle: ['緩和ケア病棟・在宅医療・訪問看護・薬局などを探す', 'Find palliative care units, home care, visiting nursing, pharmacies and more'],
  langToggle: ['English', '日本語'],
  langToggleLabel: ['Switch to English', '日本語に切り替える'],
  proSignIn: ['ログイン', 'Sign in'],
  search: ['検索', 'Search'],
  searchHeading: ['資源を探す', 'Find resources'],
  qLabel: ['施設名・キーワード', 'Name or keyword'],
  qPlaceholder: ['例: 緩和ケア病棟、訪問看護', 'e.g. 緩和ケア病棟, 訪問看護'],
  addressLabel: ['患者さんの住所の近くで探す', 'Near the patient\u2019s address'],
  addressPlaceholder: ['例: さいたま市浦和区北浦和4-9-3', 'e.g. さいたま市浦和区北浦和4-9-3'],
  addressHint: ['住所は検索にのみ使い、保存はこのブラウザの中だけです。', 'The address is used only for the search; it is kept only in this browser.'],
  mainLegend: ['よく使う条件', 'Common filters'],
  chipHint: ['サービス同士・種類同士は「いずれか」、サービスと種類は「両方」を満たすものを表示します。', 'Services match any of those chosen, kinds likewise; a service and a kind must both match.'],
  kindLegend: ['施設の種類（いずれか）', 'Kind of facility (any of)'],
  serviceLegend: ['サービス（いずれか）', 'Service (any of)'],
  moreFilters: ['その他のサービス・種類', 'More services and kinds'],
  areaLabel: ['二次医療圏', 'Secondary medical area'],
  areaAll: ['すべての医療圏', 'All areas'],
  sortLabel: ['並び順', 'Sort by'],
  sortAuto: ['おすすめ', 'Default'],
  sortRelevance: ['関連度', 'Relevance'],
  sortDistance: ['距離（近い順）', 'Distance (nearest first)'],
  sortName: ['名前順', 'Name'],
  radiusLabel: ['距離の上限', 'Within'],
  radiusAny: ['指定なし', 'Any distance'],
  reachesLabel: ['この住所に訪問できる所のみ', 'Only those that visit this address'],
  bboxLabel: ['地図の表示範囲で絞り込む', 'Limit the list to the map view'],
  clear: ['条件をクリア', 'Clear'],
  results: ['検索結果', 'Results'],
  count: ['{n} 件', '{n} results'],
  countShown: ['{n} 件中 {m} 件を表示', 'Showing {m} of {n}'],
  noResults: ['該当なし — 条件を減らすか、施設名の一部（例: 上尾中央）、サービス（例: 緩和病棟、往診）、市町村名（例: 所沢）で試してください。', 'No results — try fewer conditions, part of a name (e.g. 上尾中央), a service (e.g. 緩和病棟, 往診) or a town (e.g. 所沢).'],
  relaxedNote: ['完全に一致する結果はありません。近い結果を表示しています', 'No exact match. Showing near matches'],
  relaxedDropped: ['（使わなかった語: {w}）', ' (words left out: {w})'],
  nearMatch: ['近い名前', 'similar name'],
  officialName: ['正式名称', 'Official name'],
  suggestLabel: ['候補', 'Suggestions'],
  suggestService: ['サービス', 'Service'],
  suggestKind: ['種別', 'Kind'],
  suggestPlace: ['市区町村', 'Municipality'],
  loading: ['読み込み中…', 'Loading…'],
  loadMore: ['さらに表示', 'Show more'],
  printList: ['資源リストを印刷', 'Print resource list'],
  details: ['詳細', 'Details'],
  pin: ['候補に追加', 'Add to shortlist'],
  unpin: ['候補から外す', 'Remove from shortlist'],
  distance: ['距離', 'Distance'],
  phone: ['電話', 'Phone'],
  fax: ['FAX', 'Fax'],
  email: ['メール', 'Email'],
  web: ['ウェブ', 'Web'],
  close: ['閉じる', 'Close'],
  address: ['住所', 'Address'],
  services: ['サービス', 'Services'],
  contacts: ['連絡先', 'Contacts'],
  hours: ['休診日・時間', 'Closed days / hours'],
  closedDays: ['休み: {d}', 'Closed: {d}'],
  notes: ['備考', 'Notes'],
  source: ['出典', 'Source'],
  updatedAt: ['更新日', 'Last updated'],
  verifiedAt: ['確認日', 'Last verified'],
  notVerified: ['未確認', 'not verified'],
  lastVerified: ['最終確認日', 'Last verified'],
  sourceSnapshot: ['出典の時点', 'Source as of'],
  unknownDate: ['不明', 'unknown'],
  since: ['開始 {d}', 'since {d}'],
  radius: ['訪問範囲 {r} km', 'visits within {r} km'],
  openInMaps: ['地図アプリで開く', 'Open in map app'],
  googleMaps: ['Google マップ', 'Google Maps'],
  geoLink: ['端末の地図アプリ（geo:）', 'Device map app (geo:)'],
  noLocation: ['位置情報なし（地図には表示されません）', 'No location (not shown on the map)'],
  website: ['ホームページ', 'Website'],
  sampleBadge: ['標本調査', 'Sample survey'],
  syntheticBadge: ['合成データ', 'Synthetic'],
  sampleNote: ['注意: 一部の情報は標本調査または合成（架空）データです。該当する施設には印が付いています。実際の受診・紹介の前に必ず施設に確認してください。', 'Note: some information comes from a sample survey or is synthetic (fictional) data; such facilities are marked. Always confirm with the facility before referral.'],
  shortlist: ['退院支援 候補リスト', 'Discharge shortlist'],
  shortlistTab: ['候補リスト（{n}）', 'Shortlist ({n})'],
  resultsTab: ['検索結果', 'Results'],
  shortlistEmpty: ['まだ候補がありません。検索結果の「候補に追加」で追加します。', 'No items yet. Use “Add to shortlist” on a result.'],
  shortlistPrivacy: ['候補リストと住所はこのタブの中（sessionStorage）にだけ保存され、サーバーには送信されません。タブを閉じると消えます。', 'The shortlist and the address are kept only in this tab (sessionStorage) and never sent to the server. They disappear when the tab is closed.'],
  shortlistHome: ['基準の住所: {a}', 'From the address: {a}'],
  shortlistNoHome: ['基準の住所なし（住所で検索すると距離が表示されます）', 'No address yet (search near an address to show distances)'],
  shortlistOtherHome: ['現在の検索住所は候補リストの住所と異なります。', 'The current search address differs from the shortlist\u2019s address.'],
  useCurrentHome: ['現在の住所に切り替える', 'Use the current address'],
  print: ['印刷', 'Print'],
  clearShortlist: ['候補リストを空にする', 'Clear the shortlist'],
  confirmClear: ['候補リストを空にしますか？', 'Clear the shortlist?'],
  moveUp: ['上へ', 'Move up'],
  printShortlistTitle: ['退院支援 候補施設一覧', 'Discharge support: candidate facilities'],
  printListTitle: ['資源リスト', 'Resource list'],
  printConditions: ['検索条件: {c}', 'Search: {c}'],
  printDate: ['作成日: {d}', 'Prepared: {d}'],
  printFooter: ['情報は変わることがあります。受診・相談の前に各施設へ電話で確認してください。出典: 医療情報ネット、厚生局届出 ほか（各施設の更新日を参照）。', 'Information may change. Call each facility before visiting. Sources: national medical information network, regional bureau notifications, etc. (see each update date).'],
  printTruncated: ['（先頭 {m} 件のみ、全 {n} 件）', '(first {m} of {n})'],
  colNo: ['No.', 'No.'],
  colName: ['名称', 'Name'],
  colKind: ['種類', 'Kind'],
  colServices: ['サービス', 'Services'],
  colAddress: ['住所', 'Address'],
  colDistance: ['距離', 'Distance'],
  colPhone: ['電話・FAX', 'Phone / fax'],
  colUpdated: ['更新日', 'Updated'],
  colPhoneOnly: ['電話', 'Phone'],
  colProfessional: ['専門職向け（FAX・在庫など）', 'For professionals (fax, stock …)'],
  printProfessional: ['専門職向けの情報も印刷する', 'Also print the information for professionals'],
  colNotes: ['メモ', 'Memo'],
  viewList: ['リスト', 'List'],
  viewMap: ['地図', 'Map'],
  viewToggleLabel: ['表示の切り替え', 'Switch view'],
  map: ['地図', 'Map'],
  mapLabel: ['資源の地図（同じ内容は検索結果のリストにあります）', 'Map of resources (the results list has the same content)'],
  home: ['患者さんの住所', 'Patient\u2019s address'],
  clusterTitle: ['{n} 件（クリックで拡大）', '{n} facilities (click to zoom in)'],
  apiDown: ['サーバーに接続できません。しばらくしてから再読み込みしてください。地図の表示や検索ができない状態です。', 'Cannot reach the pallimap server. Please reload later; the map and search are unavailable.'],
  apiError: ['検索できませんでした: {d}', 'The search failed: {d}'],
  retry: ['再試行', 'Retry'],
  geocodeFailed: ['住所「{a}」の場所を特定できませんでした。', 'Could not find the place for “{a}”.'],
  geocodeAdvice: ['市区町村名（例: さいたま市浦和区）と町名・番地を確認し、建物名や部屋番号を除いてもう一度お試しください。', 'Check the municipality (e.g. さいたま市浦和区) and the town and block number, remove building names and room numbers, and try again.'],
  geocodeNormalized: ['読み取った住所: {a}', 'Read as: {a}'],
  geocodeLevel: ['「{a}」の{l}の位置で検索しています（番地までは特定できませんでした）。', 'Searching from the {l} of “{a}” (the exact block could not be placed).'],
  levelTown: ['町名', 'town'],
  levelMunicipality: ['市区町村', 'municipality'],
  levelPrefecture: ['都道府県', 'prefecture'],
  proHeading: ['専門職向け', 'For professionals'],
  proPlaceholder: ['医療・介護専門職はログインすると「今夜の入院先」で、近くの病院の受け入れ状況と依頼方法を確認できます。', 'Signed-in professionals find, under “Tonight\u2019s bed”, whether nearby hospitals accept now and how to ask.'],
  skipToResults: ['検索結果へ移動', 'Skip to results'],
  weekday_mon: ['月', 'Mon'], weekday_tue: ['火', 'Tue'], weekday_wed: ['水', 'Wed'],
  weekday_thu: ['木', 'Thu'], weekday_fri: ['金', 'Fri'], weekday_sat: ['土', 'Sat'],
  weekday_sun: ['日', 'Sun'], weekday_holiday: ['祝', 'Holidays'],
  statusActive: ['', ''],
  statusInactive: ['（停止中）', ' (inactive)'],
  tileAttributionFallback: ['背景地図', 'Base map'],
  summaryKinds: ['内訳: {s}', 'By kind: {s}'],
  selected: ['選択中', 'Selected'],
  distanceFrom: ['患者さんの住所から', 'from the patient\u2019s address'],
  noPhone: ['電話番号は未登録です', 'No phone number registered'],
};

// Short chip labels for the common choices (the API vocabulary labels are
// long). Anything not listed here uses the vocabulary label.
export const SHORT_LABELS = {
  service: {
    pcu: ['緩和ケア病棟', 'PCU'],
    home_care_support: ['在宅療養支援診療所', 'Home-care support'],
    backup_hospital: ['後方支援病院', 'Backup hospital'],
    opioid_dispensing: ['麻薬を扱う薬局', 'Opioid pharmacy'],
    home_visit_dental: ['訪問歯科', 'Home-visit dental'],
    visiting_nursing: ['訪問看護', 'Visiting nursing'],
    palliative_team: ['緩和ケアチーム', 'Palliative team'],
    palliative_outpatient: ['緩和ケア外来', 'Palliative outpatient'],
  },
  kind: {
    patient_group: ['患者会・がんサロン', 'Patient groups & salons'],
    consultation_center: ['がん相談支援センター', 'Cancer consultation'],
  },
};

// Chips shown up front; the rest sit under "more".
export const MAIN_CHIPS = [
  ['service', 'pcu'],
  ['service', 'home_care_support'],
  ['service', 'backup_hospital'],
  ['service', 'opioid_dispensing'],
  ['service', 'home_visit_dental'],
  ['service', 'visiting_nursing'],
  ['kind', 'patient_group'],
];

// One letter (or character) per kind so that colour is never the only signal.
export const KIND_LETTER = {
  hospital: ['病', 'H'],
  clinic: ['診', 'C'],
  dental_clinic: ['歯', 'D'],
  pharmacy: ['薬', 'P'],
  visiting_nurse_station: ['看', 'N'],
  patient_group: ['会', 'G'],
  consultation_center: ['相', 'S'],
  other: ['他', 'O'],
};

let lang = 'ja';
const listeners = [];

export function initLang() {
  let saved = null;
  try { saved = localStorage.getItem('pallimap.lang'); } catch { /* storage may be blocked */ }
  lang = saved === 'en' ? 'en' : 'ja';
  document.documentElement.lang = lang;
  return lang;
}

export function getLang() { return lang; }

export function setLang(l) {
  lang = l === 'en' ? 'en' : 'ja';
  try { localStorage.setItem('pallimap.lang', lang); } catch { /* ignore */ }
  document.documentElement.lang = lang;
  applyStatic();
  for (const fn of listeners) fn(lang);
}

export function onLangChange(fn) { listeners.push(fn); }

/** Add a module's own strings ({key: [ja, en]}); keys already present win. */
export function addStrings(more) {
  for (const [k, v] of Object.entries(more)) if (!(k in STRINGS)) STRINGS[k] = v;
}

/** Translate a key, filling {placeholders} from vars. */
export function t(key, vars) {
  const pair = STRINGS[key];
  let s = pair ? pair[lang === 'en' ? 1 : 0] : key;
  if (vars) for (const [k, v] of Object.entries(vars)) s = s.split(`{${k}}`).join(String(v));
  return s;
}

/** Pick ja/en from an API label object {ja, en} or a [ja, en] pair. */
export function pick(label) {
  if (!label) return '';
  if (Array.isArray(label)) return label[lang === 'en' ? 1 : 0];
  return (lang === 'en' ? label.en : label.ja) || label.ja || label.en || '';
}

/** Fill elements carrying data-i18n / data-i18n-placeholder / data-i18n-aria. */
export function applyStatic(root = document) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-placeholder]')) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll('[data-i18n-aria]')) el.setAttribute('aria-label', t(el.dataset.i18nAria));
  document.title = t('title');
}

/**
 * A distance that claims no more than the placements behind it know.
 * `m` is the API's `distance_m`, `precisionM` its `distance_precision_m`
 * (how far the true distance may differ; absent from older APIs, so 0).
 *   - within a neighbourhood's uncertainty (m < precision ≤ 2.5 km):
 *     「同じ町丁目付近」 when m is 0, else 「約 N km 以内」 with N = m + precision
 *     rounded up to 0.1 km;
 *   - otherwise 「約 300 m」 (to 100 m) below 1 km, 「約 1.2 km」 to 10 km, 「約 12 km」 above.
 * A plain figure that would round to 0 m says 「約 100 m 以内」 (or the
 * uncertainty bound when that is larger) rather than claim "0 m".
 */
export function formatDistance(m, precisionM) {
  if (m == null || !Number.isFinite(Number(m))) return '';
  const d = Math.max(0, Number(m));
  const p = Number.isFinite(Number(precisionM)) && precisionM != null ? Math.max(0, Number(precisionM)) : 0;
  const en = lang === 'en';
  const within = (metres) => {
    const km = (Math.ceil(metres / 100) / 10).toFixed(1);
    return en ? `within about ${km} km` : `約 ${km} km 以内`;
  };
  if (d < p && p <= 2500) {
    if (d === 0) return en ? 'same neighbourhood' : '同じ町丁目付近';
    return within(d + p);
  }
  const hundreds = Math.round(d / 100) * 100;
  if (hundreds === 0) return p > d ? within(d + p) : (en ? 'within about 100 m' : '約 100 m 以内');
  if (hundreds < 1000) return en ? `about ${hundreds} m` : `約 ${hundreds} m`;
  const tenths = Math.round(d / 100) / 10;
  const km = tenths < 10 ? tenths.toFixed(1) : String(Math.round(d / 1000));
  return en ? `about ${km} km` : `約 ${km} km`;
}

// The discharge shortlist: pinned facilities for one patient address.
// Kept in sessionStorage only (this tab); nothing here is sent to the server.

const KEY = 'pallimap.shortlist.v1';

function load() {
  try {
    const raw = sessionStorage.getItem(KEY);
    if (raw) {
      const v = JSON.parse(raw);
      if (v && Array.isArray(v.items)) return v;
    }
  } catch { /* storage blocked or corrupt: start empty */ }
  return { home: null, items: [] };
}

let data = load();
const listeners = [];

function save() {
  try { sessionStorage.setItem(KEY, JSON.stringify(data)); } catch { /* ignore */ }
  for (const fn of listeners) fn(data);
}

export function onShortlistChange(fn) { listeners.push(fn); }
export function shortlist() { return data; }
export function isPinned(id) { return data.items.some((i) => i.id === id); }

/** Great-circle distance in metres. */
export function haversine(a, b) {
  const R = 6371008.8;
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLng = (b.lng - a.lng) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLng / 2) ** 2;
  return 2 * R * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** Distance of a pinned item from the shortlist's home, if both are known. */
export function distanceOf(item) {
  if (!data.home || !item.location) return null;
  return haversine(data.home, item.location);
}

/** Keep only what the printout needs from an API facility. */
function slim(f) {
  const contacts = f.contacts || [];
  return {
    id: f.id,
    name: f.everyday_name || f.name,
    official_name: f.name,
    kind: f.kind,
    kind_label: f.kind_label,
    postal_code: f.address && f.address.postal_code,
    address: f.address && f.address.text,
    location: f.location || null,
    // How far the distance may be off, as the API judged it for the search point at pin time.
    distance_precision_m: f.distance_precision_m ?? null,
    phones: contacts.filter((c) => c.kind === 'phone').map((c) => c.value),
    faxes: contacts.filter((c) => c.kind === 'fax').map((c) => c.value),
    // With who may see each (absent: fetched anonymously, so public): the printed sheet gives
    // the patient the public ones and the professionals' only when asked to.
    contacts: contacts.map((c) => ({ kind: c.kind, value: c.value, label: c.label || null, visibility: c.visibility || 'public' })),
    url: f.url || null,
    // From 退院調整: the stock of the drugs asked for, and after-hours service.
    opioid_stock: f.opioid_stock || null,
    after_hours: f.after_hours ?? null,
    services: (f.services || []).map((s) => ({ kind: s.kind, label: s.label })),
    hours: f.hours || null,
    sample: !!f.sample,
    synthetic: isSynthetic(f),
    updated_at: f.updated_at || null,
    verified_at: f.verified_at || null,
  };
}

export function isSynthetic(f) {
  if (!f) return false;
  if (typeof f.name === 'string' && f.name.startsWith('【合成】')) return true;
  if (f.source && f.source.origin === 'synthetic') return true;
  return (f.services || []).some((s) => s.source && s.source.origin === 'synthetic');
}

/** Pin a facility; the first pin with a known home fixes the shortlist's home. */
export function pin(f, home) {
  if (isPinned(f.id)) return;
  if (!data.home && home) data.home = { ...home };
  data.items.push(slim(f));
  save();
}

export function unpin(id) {
  data.items = data.items.filter((i) => i.id !== id);
  if (!data.items.length) data.home = null;
  save();
}

export function setHome(home) {
  data.home = home ? { ...home } : null;
  save();
}

export function clearShortlist() {
  data = { home: null, items: [] };
  save();
}

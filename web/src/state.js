// The page state, kept in the URL with the API's own parameter names so that
// a link restores the same view (e.g. /?q=緩和ケア病棟&area=1104&service=pcu).

export function emptyState() {
  return {
    q: '',
    kind: [],
    service: [],
    area: '',
    municipality: '',
    address: '',
    near: null, // {lat, lng}
    reaches: false, // reaches=<near>: only those whose visit radius covers the address
    radius_km: '',
    sort: '',
    bbox: null, // [minLng, minLat, maxLng, maxLat] when the list follows the map
    id: '', // the facility open in the detail panel
    view: '', // 'map' on a phone when the map is shown instead of the list
  };
}

function parsePoint(s) {
  if (!s) return null;
  const m = String(s).split(',').map(Number);
  if (m.length !== 2 || !m.every(Number.isFinite)) return null;
  if (Math.abs(m[0]) > 90 || Math.abs(m[1]) > 180) return null;
  return { lat: m[0], lng: m[1] };
}

const list = (s) => (s ? String(s).split(',').map((x) => x.trim()).filter(Boolean) : []);
const fmtPoint = (p) => `${+p.lat.toFixed(6)},${+p.lng.toFixed(6)}`;

export function stateFromUrl(search = location.search) {
  const p = new URLSearchParams(search);
  const s = emptyState();
  s.q = p.get('q') || '';
  s.kind = list(p.get('kind'));
  s.service = list(p.get('service'));
  s.area = p.get('area') || '';
  s.municipality = p.get('municipality') || '';
  s.address = p.get('address') || '';
  s.near = parsePoint(p.get('near'));
  const reaches = parsePoint(p.get('reaches'));
  if (reaches) {
    s.reaches = true;
    if (!s.near) s.near = reaches;
  }
  s.radius_km = p.get('radius_km') || '';
  s.sort = p.get('sort') || '';
  const b = list(p.get('bbox')).map(Number);
  s.bbox = b.length === 4 && b.every(Number.isFinite) ? b : null;
  s.id = p.get('id') || '';
  s.view = p.get('view') === 'map' ? 'map' : '';
  return s;
}

/** The URL query for a state (only non-default values). */
export function stateToUrl(s) {
  const p = new URLSearchParams();
  if (s.q) p.set('q', s.q);
  if (s.kind.length) p.set('kind', s.kind.join(','));
  if (s.service.length) p.set('service', s.service.join(','));
  if (s.area) p.set('area', s.area);
  if (s.municipality) p.set('municipality', s.municipality);
  if (s.address) p.set('address', s.address);
  if (s.near) p.set('near', fmtPoint(s.near));
  if (s.near && s.reaches) p.set('reaches', fmtPoint(s.near));
  if (s.near && s.radius_km) p.set('radius_km', s.radius_km);
  if (s.sort) p.set('sort', s.sort);
  if (s.bbox) p.set('bbox', s.bbox.map((x) => +x.toFixed(5)).join(','));
  if (s.id) p.set('id', s.id);
  if (s.view) p.set('view', s.view);
  const q = p.toString().replace(/%2C/g, ',');
  return q ? `?${q}` : location.pathname;
}

/** The API filter parameters for a state (shared by the list and the map). */
export function apiFilters(s) {
  const f = {
    q: s.q,
    kind: s.kind,
    service: s.service,
    area: s.area,
    municipality: s.municipality,
  };
  if (s.near) {
    // A typed address goes to the API as the address, so that it knows the point is only a
    // town's or a city's representative point and widens distance_precision_m to match.
    if (s.address) f.address = s.address;
    else f.near = fmtPoint(s.near);
    if (s.reaches) f.reaches = fmtPoint(s.near);
    if (s.radius_km) f.radius_km = s.radius_km;
  }
  // sort=distance needs a point; drop it rather than provoke a 400.
  if (s.sort && (s.sort !== 'distance' || s.near)) f.sort = s.sort;
  return f;
}

export function sameFilters(a, b) {
  return JSON.stringify({ ...apiFilters(a), bbox: a.bbox }) === JSON.stringify({ ...apiFilters(b), bbox: b.bbox });
}

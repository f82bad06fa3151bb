// The Leaflet map: base tiles, area/municipality outlines (drawn from the API
// so the map still says something without tiles), and server-clustered markers.

import L from 'leaflet';
import { getJson, toQuery } from './api.js';
import { t, pick, KIND_LETTER } from './i18n.js';
import { nextDateText } from './dates.js';

const SAITAMA_BOUNDS = L.latLngBounds([35.75, 138.7], [36.29, 139.91]);
const MAX_BBOX_SPAN = 29; // the API refuses a bbox wider than 30 degrees

export function createMap(el, config, handlers) {
  const map = L.map(el, {
    zoomSnap: 1,
    minZoom: 7,
    maxZoom: 18,
    preferCanvas: false,
    keyboard: true,
    attributionControl: true,
  });
  map.attributionControl.setPrefix(false);
  map.fitBounds(SAITAMA_BOUNDS, { animate: false });

  map.createPane('outlines');
  map.getPane('outlines').style.zIndex = 350;
  map.getPane('outlines').style.pointerEvents = 'none';

  if (config.tile_url) {
    L.tileLayer(config.tile_url, {
      attribution: config.tile_attribution || '',
      maxZoom: 18,
      crossOrigin: false,
    }).addTo(map);
  }

  const municipalities = L.geoJSON(null, {
    pane: 'outlines',
    interactive: false,
    style: { color: '#7a7a7a', weight: 0.8, fill: false, opacity: 0.9 },
  }).addTo(map);
  const areas = L.geoJSON(null, {
    pane: 'outlines',
    interactive: false,
    style: (f) => areaStyle(f, ''),
  }).addTo(map);

  const markers = L.layerGroup().addTo(map);
  const byId = new Map();
  // The 「今夜の入院先」 results replace the search markers while that screen is shown.
  const backupLayer = L.layerGroup();
  const backupById = new Map();
  let backupMode = false;
  let homeMarker = null;
  let filters = {};
  let selectedId = '';
  let selectedArea = '';
  let fetchCtl = null;
  let programmatic = 0;
  let lastTotal = 0;
  let pendingFrame = null; // a framing deferred while the map is hidden (phone list view, print)

  const hidden = () => {
    const sz = map.getSize();
    return !el.offsetParent || sz.x < 2 || sz.y < 2;
  };

  function areaStyle(f, sel) {
    const isSel = sel && f.properties && String(f.properties.code) === String(sel);
    return {
      color: isSel ? '#0b57d0' : '#333',
      weight: isSel ? 3 : 1.6,
      opacity: 0.9,
      fill: !!isSel,
      fillColor: '#0b57d0',
      fillOpacity: 0.06,
      dashArray: isSel ? null : '6 3',
    };
  }

  async function loadOutlines() {
    const [a, m] = await Promise.allSettled([
      getJson('/areas.geojson'),
      getJson('/municipalities.geojson'),
    ]);
    if (m.status === 'fulfilled') municipalities.addData(m.value);
    if (a.status === 'fulfilled') {
      areas.addData(a.value);
      areas.setStyle((f) => areaStyle(f, selectedArea));
    }
  }

  function areaBounds(code) {
    let b = null;
    areas.eachLayer((layer) => {
      if (String(layer.feature.properties.code) === String(code)) b = layer.getBounds();
    });
    return b;
  }

  function setSelectedArea(code) {
    selectedArea = code || '';
    areas.setStyle((f) => areaStyle(f, selectedArea));
  }

  function viewBbox() {
    const b = map.getBounds().pad(0.05);
    const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
    const bb = [
      clamp(b.getWest(), -180, 180), clamp(b.getSouth(), -90, 90),
      clamp(b.getEast(), -180, 180), clamp(b.getNorth(), -90, 90),
    ];
    if (!(bb[2] > bb[0] && bb[3] > bb[1])) return null;
    if (bb[2] - bb[0] > MAX_BBOX_SPAN || bb[3] - bb[1] > MAX_BBOX_SPAN) return null;
    return bb.map((x) => +x.toFixed(5));
  }

  /**
   * The box the layer asks for: the view snapped outward to a grid of map tiles at `zoom`.
   * The server clusters each zoom once over the whole directory, so a larger box shows the
   * same clusters; snapping makes small pans repeat one request, which the browser
   * revalidates (304) instead of downloading again.
   */
  function layerBbox(zoom) {
    const b = viewBbox();
    if (!b) return null;
    const step = 360 / 2 ** Math.max(0, zoom);
    const s = [
      Math.max(-180, Math.floor(b[0] / step) * step),
      Math.max(-90, Math.floor(b[1] / step) * step),
      Math.min(180, Math.ceil(b[2] / step) * step),
      Math.min(90, Math.ceil(b[3] / step) * step),
    ];
    if (s[2] - s[0] > MAX_BBOX_SPAN || s[3] - s[1] > MAX_BBOX_SPAN) return b;
    return s.map((x) => +x.toFixed(6));
  }

  function kindClass(kind) {
    return `pm-k-${KIND_LETTER[kind] ? kind : 'other'}`;
  }

  function pointIcon(p) {
    const letter = pick(KIND_LETTER[p.kind] || KIND_LETTER.other);
    const sel = p.id === selectedId ? ' pm-selected' : '';
    return L.divIcon({
      className: `pm-marker ${kindClass(p.kind)}${sel}`,
      html: `<span data-id="${escapeAttr(p.id)}" data-kind="${escapeAttr(p.kind)}">${letter}</span>`,
      iconSize: [26, 26],
      iconAnchor: [13, 13],
    });
  }

  function clusterIcon(p) {
    const n = p.count;
    const size = n < 10 ? 30 : n < 100 ? 36 : n < 1000 ? 42 : 48;
    // The dominant kind gives the ring colour; the count is the text.
    let top = 'other';
    let best = -1;
    for (const [k, c] of Object.entries(p.kinds || {})) if (c > best) { best = c; top = k; }
    return L.divIcon({
      className: `pm-cluster ${kindClass(top)}`,
      html: `<span data-count="${n}">${n}</span>`,
      iconSize: [size, size],
      iconAnchor: [size / 2, size / 2],
    });
  }

  function draw(fc) {
    markers.clearLayers();
    byId.clear();
    for (const f of fc.features || []) {
      const [lng, lat] = f.geometry.coordinates;
      const p = f.properties || {};
      if (p.cluster) {
        const m = L.marker([lat, lng], {
          icon: clusterIcon(p),
          title: t('clusterTitle', { n: p.count }),
          keyboard: false,
          riseOnHover: true,
        });
        m.on('click', () => {
          const b = p.bbox || f.bbox;
          if (b) {
            const bounds = L.latLngBounds([b[1], b[0]], [b[3], b[2]]);
            const z = Math.min(map.getBoundsZoom(bounds.pad(0.15)), 18);
            map.setView(bounds.getCenter(), Math.max(z, map.getZoom() + 1));
          } else {
            map.setView([lat, lng], map.getZoom() + 2);
          }
        });
        markers.addLayer(m);
      } else {
        const m = L.marker([lat, lng], {
          icon: pointIcon(p),
          // A patient group's marker names its next meeting (次回: 12月8日（火）).
          title: p.next_date ? `${p.name}（${nextDateText(p.next_date)}）` : p.name,
          keyboard: false,
          riseOnHover: true,
        });
        m.on('click', () => handlers.onSelect && handlers.onSelect(p.id, 'map'));
        m.feature = f;
        byId.set(p.id, m);
        markers.addLayer(m);
      }
    }
    lastTotal = fc.total ?? 0;
    el.dataset.total = String(lastTotal);
  }

  async function refresh() {
    if (backupMode) return;
    if (hidden()) {
      pendingFrame = pendingFrame || 'keep';
      return;
    }
    pendingFrame = null;
    if (fetchCtl) fetchCtl.abort();
    const ctl = new AbortController();
    fetchCtl = ctl;
    const zoom = Math.round(map.getZoom());
    const bbox = layerBbox(zoom);
    const q = toQuery({ ...filters, bbox, cluster: 1, zoom });
    el.dataset.state = 'loading';
    handlers.busy && handlers.busy(1);
    try {
      const fc = await getJson(`/facilities.geojson${q}`, { signal: ctl.signal });
      if (ctl !== fetchCtl) return;
      draw(fc);
      el.dataset.state = 'ready';
    } catch (e) {
      if (e.name !== 'AbortError' && ctl === fetchCtl) {
        el.dataset.state = 'error';
        markers.clearLayers();
        handlers.onError && handlers.onError(e);
      }
    } finally {
      handlers.busy && handlers.busy(-1);
    }
  }

  map.on('moveend', () => {
    if (programmatic) return;
    refresh();
    handlers.onMoveEnd && handlers.onMoveEnd(viewBbox());
  });

  function moveProgrammatic(fn) {
    programmatic++;
    try { fn(); } finally { programmatic--; }
  }

  /**
   * New filters: find where the matches are (one unbounded clustered fetch),
   * frame them, then draw the view.
   * `frame`: 'results' | {home:{lat,lng}, items:[...]} | {area: code} | 'keep'
   */
  async function setFilters(f, frame) {
    filters = f;
    if (backupMode && !(frame && frame.home && frame.items)) return;
    if (hidden()) {
      pendingFrame = frame || 'results';
      return;
    }
    pendingFrame = null;
    if (frame === 'keep') return refresh();
    if (frame && frame.home) {
      frameHome(frame.home, frame.items || []);
      return refresh();
    }
    if (frame && frame.area) {
      const b = areaBounds(frame.area);
      if (b) {
        moveProgrammatic(() => map.fitBounds(b, { animate: false, padding: [10, 10] }));
        return refresh();
      }
    }
    // Frame the results themselves.
    if (fetchCtl) fetchCtl.abort();
    const ctl = new AbortController();
    fetchCtl = ctl;
    handlers.busy && handlers.busy(1);
    el.dataset.state = 'loading';
    try {
      const q = toQuery({ ...filters, cluster: 1, zoom: 8 });
      const fc = await getJson(`/facilities.geojson${q}`, { signal: ctl.signal });
      if (ctl !== fetchCtl) return;
      const b = featureBounds(fc);
      moveProgrammatic(() => {
        if (b && b.isValid()) {
          const maxZoom = 15;
          if (b.getNorthEast().equals(b.getSouthWest())) map.setView(b.getCenter(), maxZoom, { animate: false });
          else map.fitBounds(b, { animate: false, padding: [30, 30], maxZoom });
        } else {
          map.fitBounds(SAITAMA_BOUNDS, { animate: false });
        }
      });
    } catch (e) {
      if (e.name === 'AbortError') return;
    } finally {
      handlers.busy && handlers.busy(-1);
    }
    if (ctl === fetchCtl) await refresh();
  }

  function featureBounds(fc) {
    let b = null;
    for (const f of fc.features || []) {
      const bb = (f.properties && f.properties.bbox) || f.bbox;
      const [lng, lat] = f.geometry.coordinates;
      const fb = bb ? L.latLngBounds([bb[1], bb[0]], [bb[3], bb[2]]) : L.latLngBounds([lat, lng], [lat, lng]);
      b = b ? b.extend(fb) : fb;
    }
    return b;
  }

  // Centre on the patient's home, zoomed to show the nearest results around it.
  function frameHome(home, items) {
    let dLat = 0.02;
    let dLng = 0.025;
    const near = items.filter((i) => i.location).slice(0, 8);
    for (const i of near) {
      dLat = Math.max(dLat, Math.abs(i.location.lat - home.lat));
      dLng = Math.max(dLng, Math.abs(i.location.lng - home.lng));
    }
    const b = L.latLngBounds([home.lat - dLat, home.lng - dLng], [home.lat + dLat, home.lng + dLng]);
    const z = Math.min(15, map.getBoundsZoom(b.pad(0.1)));
    moveProgrammatic(() => map.setView([home.lat, home.lng], z, { animate: false }));
  }

  function setHome(home) {
    if (homeMarker) { homeMarker.remove(); homeMarker = null; }
    if (!home) return;
    homeMarker = L.marker([home.lat, home.lng], {
      icon: L.divIcon({
        className: 'pm-home',
        html: `<span data-home="1">${pick(['家', 'Home'])}</span>`,
        iconSize: [34, 34],
        iconAnchor: [17, 17],
      }),
      title: t('home'),
      keyboard: false,
      zIndexOffset: 1000,
    }).addTo(map);
  }

  function select(id, { pan = false, location = null } = {}) {
    const prev = byId.get(selectedId);
    const prevBk = backupById.get(selectedId);
    selectedId = id || '';
    if (prev) prev.setIcon(pointIcon(prev.feature.properties));
    if (prevBk) prevBk.setIcon(backupIcon(prevBk.point));
    const m = byId.get(selectedId);
    if (m) m.setIcon(pointIcon(m.feature.properties));
    const bk = backupById.get(selectedId);
    if (bk) bk.setIcon(backupIcon(bk.point));
    if (pan && location) {
      const z = Math.max(map.getZoom(), 15);
      const panel = handlers.panelWidth ? handlers.panelWidth() : 0;
      moveProgrammatic(() => {
        map.setView([location.lat, location.lng], z, { animate: false });
        // Shift the view so the point is not hidden under the detail panel.
        if (panel && map.getSize().x > panel * 1.5) map.panBy([panel / 2, 0], { animate: false });
      });
      refresh();
    }
  }

  function backupIcon(p) {
    const letter = pick(KIND_LETTER[p.kind] || KIND_LETTER.other);
    const sel = p.id === selectedId ? ' pm-selected' : '';
    return L.divIcon({
      className: `pm-bk st-${escapeAttr(p.status)}${sel}`,
      html: `<span class="pm-bk-pin ${kindClass(p.kind)}" data-backup-id="${escapeAttr(p.id)}" data-status="${escapeAttr(p.status)}">${letter}</span><span class="pm-bk-badge">${escapeAttr(p.badge)}</span>`,
      iconSize: [26, 26],
      iconAnchor: [13, 13],
    });
  }

  /**
   * Show the backup results (each `{id, kind, name, location, status, badge}`, with `reach_m`
   * its service-area circle) instead of the search markers, with the patient's home; `frame`
   * fits the view around them.
   */
  function showBackup(points, origin, { frame = true } = {}) {
    if (!backupMode) {
      backupMode = true;
      if (fetchCtl) fetchCtl.abort();
      map.removeLayer(markers);
      backupLayer.addTo(map);
    }
    backupLayer.clearLayers();
    backupById.clear();
    const rank = { accepting: 3, limited: 2, unknown: 1, not_accepting: 0 };
    for (const p of points) {
      const m = L.marker([p.location.lat, p.location.lng], {
        icon: backupIcon(p),
        title: `${p.name} ${p.badge}`,
        keyboard: false,
        riseOnHover: true,
        zIndexOffset: (rank[p.status] || 0) * 100,
      });
      m.on('click', () => handlers.onSelect && handlers.onSelect(p.id, 'map'));
      m.point = p;
      backupById.set(p.id, m);
      backupLayer.addLayer(m);
      // A care-team member's service area (its published area's reach, else the 16 km rule).
      if (p.reach_m) {
        backupLayer.addLayer(L.circle([p.location.lat, p.location.lng], {
          radius: p.reach_m, className: `pm-reach ${kindClass(p.kind)}`, interactive: false, weight: 1.5, fillOpacity: 0.04,
        }));
      }
    }
    el.dataset.backup = String(points.length);
    if (origin) setHome({ lat: origin.lat, lng: origin.lng });
    if (frame && origin && !hidden()) {
      frameHome(origin, points);
    } else if (frame && origin) {
      pendingFrame = { home: origin, items: points };
    }
  }

  /** Back to the search markers. */
  function hideBackup() {
    if (!backupMode) return;
    backupMode = false;
    backupLayer.clearLayers();
    backupById.clear();
    map.removeLayer(backupLayer);
    markers.addTo(map);
    delete el.dataset.backup;
    refresh();
  }

  function relabel() {
    // Marker letters and the home label follow the language.
    for (const m of byId.values()) m.setIcon(pointIcon(m.feature.properties));
    if (homeMarker) {
      const ll = homeMarker.getLatLng();
      setHome({ lat: ll.lat, lng: ll.lng });
    }
  }

  return {
    map,
    loadOutlines,
    setFilters,
    refresh,
    setHome,
    select,
    setSelectedArea,
    relabel,
    showBackup,
    hideBackup,
    viewBbox,
    invalidate: () => {
      // Take the deferred framing first: invalidateSize fires moveend.
      const f = pendingFrame;
      pendingFrame = null;
      moveProgrammatic(() => map.invalidateSize({ pan: false }));
      if (hidden()) {
        pendingFrame = f;
        return Promise.resolve();
      }
      return f ? setFilters(filters, f) : refresh();
    },
    center: () => map.getCenter(),
  };
}

function escapeAttr(s) {
  return String(s).replace(/[&"<>]/g, (c) => ({ '&': '&amp;', '"': '&quot;', '<': '&lt;', '>': '&gt;' })[c]);
}

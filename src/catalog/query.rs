//! The query planner: filters as precomputed bitsets, then text, radius, box or reach as the
//! candidate source, then distance, sorting, facets and one page. Pure in-memory work.

use std::collections::BTreeMap;

use super::Catalog;
use crate::domain::{Audience, FacilityKind, Product, ServiceKind, Stock, Visibility, haversine_m};

/// A set of facility ords.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bits(Vec<u64>);

impl Bits {
    pub fn empty(n: usize) -> Bits {
        Bits(vec![0; n.div_ceil(64)])
    }

    pub fn full(n: usize) -> Bits {
        let mut b = Bits(vec![u64::MAX; n.div_ceil(64)]);
        if let (false, Some(last)) = (n.is_multiple_of(64), b.0.last_mut()) {
            *last = (1u64 << (n % 64)) - 1;
        }
        b
    }

    pub fn insert(&mut self, i: u32) {
        self.0[(i / 64) as usize] |= 1 << (i % 64);
    }

    pub fn remove(&mut self, i: u32) {
        if let Some(w) = self.0.get_mut((i / 64) as usize) {
            *w &= !(1 << (i % 64));
        }
    }

    /// Room for `n` members (new ones absent).
    pub fn resize(&mut self, n: usize) {
        if self.0.len() < n.div_ceil(64) {
            self.0.resize(n.div_ceil(64), 0);
        }
    }

    pub fn contains(&self, i: u32) -> bool {
        self.0
            .get((i / 64) as usize)
            .is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    pub fn and(&mut self, other: &Bits) {
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a &= b;
        }
    }

    /// Remove every member of `other`.
    pub fn and_not(&mut self, other: &Bits) {
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a &= !b;
        }
    }

    pub fn or(&mut self, other: &Bits) {
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a |= b;
        }
    }

    pub fn count(&self) -> usize {
        self.0.iter().map(|w| w.count_ones() as usize).sum()
    }

    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.0.iter().enumerate().flat_map(|(wi, &w)| {
            let mut w = w;
            std::iter::from_fn(move || {
                if w == 0 {
                    return None;
                }
                let t = w.trailing_zeros();
                w &= w - 1;
                Some(wi as u32 * 64 + t)
            })
        })
    }
}

/// A small set of facility ords, sorted: for the many sets with few members each
/// (municipalities, areas, formulary lines), where a bitset apiece would cost n/8 bytes — at
/// 300,000 facilities, 37.5 KB for each of some 1,900 municipalities.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ords(Vec<u32>);

impl Ords {
    pub fn insert(&mut self, o: u32) {
        if let Err(i) = self.0.binary_search(&o) {
            self.0.insert(i, o);
        }
    }

    pub fn remove(&mut self, o: u32) {
        if let Ok(i) = self.0.binary_search(&o) {
            self.0.remove(i);
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.0.iter().copied()
    }
}

impl FromIterator<u32> for Ords {
    /// The set of the ords given, in any order.
    fn from_iter<I: IntoIterator<Item = u32>>(ords: I) -> Ords {
        let mut v: Vec<u32> = ords.into_iter().collect();
        v.sort_unstable();
        v.dedup();
        v.shrink_to_fit();
        Ords(v)
    }
}

impl Bits {
    /// Add every member of `ords`.
    pub fn or_ords(&mut self, ords: &Ords) {
        for o in ords.iter() {
            self.insert(o);
        }
    }
}

/// A filter set stored the smaller way: a bitset when it holds more than one facility in 32
/// (4 bytes per member against n/8 bytes in all), else its sorted ords. Most municipalities
/// and formulary lines are a few hundred facilities; a common product is thousands, and a
/// bitset ORs those faster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FilterSet {
    Dense(Bits),
    Sparse(Ords),
}

impl FilterSet {
    /// The set of `ords` among `n` facilities.
    pub fn new(n: usize, ords: Vec<u32>) -> FilterSet {
        if ords.len() * 32 > n {
            let mut b = Bits::empty(n);
            ords.into_iter().for_each(|o| b.insert(o));
            FilterSet::Dense(b)
        } else {
            FilterSet::Sparse(ords.into_iter().collect())
        }
    }

    /// Add every member to `bits`.
    pub fn or_into(&self, bits: &mut Bits) {
        match self {
            FilterSet::Dense(b) => bits.or(b),
            FilterSet::Sparse(o) => bits.or_ords(o),
        }
    }

    pub fn insert(&mut self, o: u32) {
        match self {
            FilterSet::Dense(b) => b.insert(o),
            FilterSet::Sparse(s) => s.insert(o),
        }
    }

    pub fn remove(&mut self, o: u32) {
        match self {
            FilterSet::Dense(b) => b.remove(o),
            FilterSet::Sparse(s) => s.remove(o),
        }
    }

    /// Room for `n` members (new ones absent).
    pub fn resize(&mut self, n: usize) {
        if let FilterSet::Dense(b) = self {
            b.resize(n);
        }
    }
}

/// Up to `sqrt(RARE_FACTOR × n)` candidates, nearest-k measures every candidate instead of
/// walking the tree: a walk visits about k·n/candidates points, a scan visits the candidates, and
/// a visit in the walk costs some 30 times a haversine in the scan.
pub(super) const RARE_FACTOR: f64 = 32.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    /// Facility id order (the default without text or point).
    Id,
    Relevance,
    Distance,
    Name,
}

impl Sort {
    pub const CODES: &'static str = "relevance, distance, name";
    pub fn from_code(s: &str) -> Option<Sort> {
        Some(match s {
            "relevance" => Sort::Relevance,
            "distance" => Sort::Distance,
            "name" => Sort::Name,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Facet {
    Kind,
    Service,
    Area,
}

impl Facet {
    pub const CODES: &'static str = "kind, service, area";
    pub fn from_code(s: &str) -> Option<Facet> {
        Some(match s {
            "kind" => Facet::Kind,
            "service" => Facet::Service,
            "area" => Facet::Area,
            _ => return None,
        })
    }
    pub fn code(self) -> &'static str {
        match self {
            Facet::Kind => "kind",
            Facet::Service => "service",
            Facet::Area => "area",
        }
    }
}

/// A validated query. Coordinates are (lat, lng) in degrees; distances in metres.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    pub kinds: Vec<FacilityKind>,
    pub services: Vec<ServiceKind>,
    pub areas: Vec<String>,
    pub municipalities: Vec<String>,
    pub text: Option<String>,
    /// The point distances are measured from.
    pub point: Option<(f64, f64)>,
    pub radius_m: Option<f64>,
    /// minLng, minLat, maxLng, maxLat.
    pub bbox: Option<[f64; 4]>,
    /// Home-visit providers whose service area contains this point.
    pub reaches: Option<(f64, f64)>,
    pub sort: Option<Sort>,
    pub facets: Vec<Facet>,
    /// When no facility meets every word of `text`, answer with a relaxed match (most words,
    /// fuzzy names) instead of nothing.
    pub relax: bool,
    /// The nurse's question: pharmacies stocking every one of these products.
    pub formulary: Option<FormularyFilter>,
    /// Only facilities reachable after hours ([`crate::domain::Facility::reachable_after_hours`]).
    pub after_hours: bool,
    /// Facilities counting a specialist of any of these roles.
    pub specialists: Vec<crate::domain::SpecialistRole>,
    /// Only facilities whose weekly hours say they are open at this JST time.
    pub open_at: Option<time::PrimitiveDateTime>,
}

/// Pharmacies whose formulary, as `audience` may see it, has a line meeting `stock` for every
/// product. A formulary the audience may not see matches nothing, so a result never reveals it.
#[derive(Debug, Clone, PartialEq)]
pub struct FormularyFilter {
    pub products: Vec<Product>,
    /// The least stock accepted: `Always` (in stock now) or `Order` (in stock or on order).
    pub stock: Stock,
    /// Whether a product a partner of the pharmacy's group stocks counts (it is passed on
    /// under the group's joint licence): ranked after own stock, before ordering.
    pub partners: bool,
    /// Today (JST, YYYY-MM-DD): a group's licence must be valid on it.
    pub today: String,
    pub audience: Audience,
}

/// How a pharmacy can supply what was asked: every product in stock, some only through a
/// partner of its group, or some only on order. Lists with `opioid=` rank by it, then by
/// distance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Availability {
    Always,
    Partner,
    Order,
}

impl Availability {
    pub fn code(self) -> &'static str {
        match self {
            Availability::Always => "always",
            Availability::Partner => "partner",
            Availability::Order => "order",
        }
    }
}

/// The ords of the two better tiers of a formulary filter: all in own stock; all in own or a
/// partner's stock.
pub struct Tiers {
    own: Bits,
    with_partners: Bits,
}

impl Tiers {
    pub fn of(&self, ord: u32) -> Availability {
        if self.own.contains(ord) {
            Availability::Always
        } else if self.with_partners.contains(ord) {
            Availability::Partner
        } else {
            Availability::Order
        }
    }
}

/// Pharmacies with a line for `p` meeting `stock` in a formulary `ff.audience` may see.
fn own_bits(c: &Catalog, ff: &FormularyFilter, p: Product, stock: Stock) -> Bits {
    let mut u = Bits::empty(c.facilities.len());
    for form in p.forms() {
        for v in [
            Visibility::Public,
            Visibility::Professional,
            Visibility::Internal,
        ] {
            let key = super::FormularyKey {
                drug: p.drug,
                form,
                visibility: v,
                stock,
            };
            if let (true, Some(b)) = (ff.audience.may_see(v), c.by_formulary.get(&key)) {
                b.or_into(&mut u);
            }
        }
    }
    u
}

/// Members of a group valid today in which some member stocks `p` (`stocked`): each can get
/// it from that partner.
fn partner_bits(c: &Catalog, ff: &FormularyFilter, stocked: &Bits) -> Bits {
    let mut u = Bits::empty(c.facilities.len());
    for (g, ords) in c.groups.iter().zip(&c.group_ords) {
        if g.valid_on(&ff.today) && ords.iter().any(|&o| stocked.contains(o)) {
            ords.iter().for_each(|&o| u.insert(o));
        }
    }
    u
}

/// The pharmacies `ff` accepts, and its tiers (see [`Availability`]), from one pass over the
/// formulary bitsets per product.
pub fn formulary_sets(c: &Catalog, ff: &FormularyFilter) -> (Bits, Tiers) {
    let n = c.facilities.len();
    let (mut accepted, mut own, mut with_partners) = (Bits::full(n), Bits::full(n), Bits::full(n));
    for &p in &ff.products {
        let stocked = own_bits(c, ff, p, Stock::Always);
        let mut either = stocked.clone();
        if ff.partners {
            either.or(&partner_bits(c, ff, &stocked));
        }
        let mut any = match ff.stock {
            Stock::Always => stocked.clone(),
            _ => own_bits(c, ff, p, ff.stock),
        };
        any.or(&either);
        accepted.and(&any);
        own.and(&stocked);
        with_partners.and(&either);
    }
    (accepted, Tiers { own, with_partners })
}

/// The tiers of `ff` (see [`Availability`]).
pub fn tiers(c: &Catalog, ff: &FormularyFilter) -> Tiers {
    formulary_sets(c, ff).1
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    pub ord: u32,
    pub distance_m: Option<f64>,
    pub score: Option<f32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Results {
    pub total: usize,
    pub hits: Vec<Hit>,
    /// Counts of the strict matches: a relaxed answer counts nothing.
    pub facets: BTreeMap<&'static str, BTreeMap<String, usize>>,
    /// `Some(dropped words)` when no facility met every word and these are near matches.
    pub relaxed: Option<Vec<String>>,
    /// `Some(n)` when the first `n` of the whole result set are strict matches and near
    /// matches (names with gaps or one character wrong) follow them.
    pub strict: Option<usize>,
}

#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error("text search failed: {0}")]
    Text(#[from] super::text::TextError),
}

/// The union of small sets as a bitset; `None` when no set was asked for.
fn small_union<'a>(
    n: usize,
    sets: impl ExactSizeIterator<Item = Option<&'a FilterSet>>,
) -> Option<Bits> {
    if sets.len() == 0 {
        return None;
    }
    let mut u = Bits::empty(n);
    sets.flatten().for_each(|s| s.or_into(&mut u));
    Some(u)
}

/// The ords passing the kind/service/area/municipality filters.
pub fn filter_bits(c: &Catalog, q: &Query) -> Bits {
    filter_and_tiers(c, q).0
}

/// [`filter_bits`], and the formulary tiers when `q` asks for products.
fn filter_and_tiers(c: &Catalog, q: &Query) -> (Bits, Option<Tiers>) {
    let n = c.facilities.len();
    let mut bits = Bits::full(n);
    // Areas and municipalities are sets of sorted ords, mostly: their union is made directly.
    // None (not asked) filters nothing; a union of unknown codes filters everything out.
    let areas = small_union(n, q.areas.iter().map(|a| c.by_area.get(a)));
    let municipalities = small_union(n, q.municipalities.iter().map(|m| c.by_municipality.get(m)));
    for u in areas.iter().chain(&municipalities) {
        bits.and(u);
    }
    let mut any_of = |sets: Vec<Option<&Bits>>| {
        if sets.is_empty() {
            return;
        }
        let mut u = Bits::empty(n);
        for s in sets.into_iter().flatten() {
            u.or(s);
        }
        bits.and(&u);
    };
    any_of(q.kinds.iter().map(|k| c.by_kind.get(k)).collect());
    any_of(q.services.iter().map(|s| c.by_service.get(s)).collect());
    any_of(
        q.specialists
            .iter()
            .map(|r| c.by_specialist.get(r))
            .collect(),
    );
    let tiers = q.formulary.as_ref().map(|ff| {
        let (accepted, tiers) = formulary_sets(c, ff);
        bits.and(&accepted);
        tiers
    });
    let mut only = |t: super::Trait| match c.by_trait.get(&t) {
        Some(b) => bits.and(b),
        None => bits = Bits::empty(n),
    };
    if q.after_hours {
        only(super::Trait::AfterHours);
    }
    if let Some(at) = q.open_at {
        only(super::Trait::HoursKnown);
        let closed: Vec<u32> = bits
            .iter()
            .filter(|&o| !crate::domain::schedule::open_at(&c.facilities[o as usize].open, at))
            .collect();
        closed.into_iter().for_each(|o| bits.remove(o));
    }
    (bits, tiers)
}

/// Distance order. Facilities at the same distance (typically placed at one town point) are
/// ordered by how precisely they are placed (published coordinates before a town point before a
/// municipality point), then 五十音順 by reading, then by id.
pub fn nearer(c: &Catalog, a: (u32, f64), b: (u32, f64)) -> std::cmp::Ordering {
    a.1.total_cmp(&b.1).then_with(|| {
        let (fa, fb) = (&c.facilities[a.0 as usize], &c.facilities[b.0 as usize]);
        let rank = |f: &super::records::Entry| f.placement.uncertainty_m().unwrap_or(u32::MAX);
        rank(fa)
            .cmp(&rank(fb))
            .then_with(|| c.reading[a.0 as usize].cmp(&c.reading[b.0 as usize]))
            .then(a.0.cmp(&b.0))
    })
}

fn distance_from(c: &Catalog, point: Option<(f64, f64)>, ord: u32) -> Option<f64> {
    let (p, l) = (point?, c.facilities[ord as usize].location?);
    Some(haversine_m(p, (l.lat, l.lng)))
}

/// The `offset..offset+limit` nearest facilities of `filter` to `p`, in [`nearer`] order.
fn nearest(c: &Catalog, p: (f64, f64), filter: &Bits, offset: usize, limit: usize) -> Results {
    let located = {
        let mut b = filter.clone();
        b.and(&c.located);
        b
    };
    let total = located.count();
    let k = offset.saturating_add(limit);
    // A rare filter (e.g. pcu, 0.2% of rows) makes a distance-ordered tree walk skip
    // almost everything it meets; measuring the few candidates directly is faster.
    let rare_max = (RARE_FACTOR * c.facilities.len() as f64).sqrt() as usize;
    let by_distance = |a: &(u32, f64), b: &(u32, f64)| nearer(c, *a, *b);
    let found = if total <= rare_max {
        let mut all: Vec<(u32, f64)> = located
            .iter()
            .filter_map(|ord| distance_from(c, Some(p), ord).map(|d| (ord, d)))
            .collect();
        if k < all.len() {
            all.select_nth_unstable_by(k, by_distance);
            all.truncate(k);
        }
        all.sort_by(by_distance);
        all
    } else {
        // One more than asked shows whether a tie straddles the page end; if it does, every
        // facility at that distance competes under the full tie order.
        let mut found = c
            .spatial
            .nearest(p.0, p.1, k.saturating_add(1), None, |ord| {
                located.contains(ord)
            });
        if found.len() > k && k > 0 && found[k].1 == found[k - 1].1 {
            let edge = found[k - 1].1;
            found.retain(|h| h.1 < edge);
            found.extend(
                c.spatial
                    .within(p.0, p.1, edge)
                    .into_iter()
                    .filter(|&(ord, d)| d == edge && located.contains(ord)),
            );
        }
        found.sort_by(by_distance);
        found.truncate(k);
        found
    };
    let hits = found
        .into_iter()
        .skip(offset)
        .map(|(ord, d)| Hit {
            ord,
            distance_m: Some(d),
            score: None,
        })
        .collect();
    Results {
        total,
        hits,
        facets: BTreeMap::new(),
        relaxed: None,
        strict: None,
    }
}

/// [`nearest`] within each tier in turn: the page `offset..offset+limit` of the tiers laid
/// end to end.
fn nearest_tiered(
    c: &Catalog,
    p: (f64, f64),
    filter: &Bits,
    t: &Tiers,
    offset: usize,
    limit: usize,
) -> Results {
    let mut own = filter.clone();
    own.and(&t.own);
    let mut partner = filter.clone();
    partner.and(&t.with_partners);
    partner.and_not(&t.own);
    let mut rest = filter.clone();
    rest.and_not(&t.with_partners);
    let (mut total, mut hits) = (0, Vec::new());
    let mut skip = offset;
    for mut tier in [own, partner, rest] {
        if hits.len() == limit {
            tier.and(&c.located);
            total += tier.count();
            continue;
        }
        let r = nearest(c, p, &tier, skip, limit - hits.len());
        skip = skip.saturating_sub(r.total);
        total += r.total;
        hits.extend(r.hits);
    }
    Results {
        total,
        hits,
        facets: BTreeMap::new(),
        relaxed: None,
        strict: None,
    }
}

/// Every match of `q`, sorted, with `offset..offset+limit` returned as hits.
pub(super) fn search(
    c: &Catalog,
    q: &Query,
    offset: usize,
    limit: usize,
) -> Result<Results, QueryError> {
    let (filter, tiers) = filter_and_tiers(c, q);
    let sort = q.sort.unwrap_or(match (&q.text, q.point) {
        (_, Some(_)) => Sort::Distance,
        (Some(_), None) => Sort::Relevance,
        (None, None) => Sort::Id,
    });
    let spatial = q.radius_m.is_some() || q.bbox.is_some() || q.reaches.is_some();

    // With `opioid=` by distance: own stock first, then through a partner, then on order.
    let tiers = match (&q.formulary, sort) {
        (Some(ff), Sort::Distance) if ff.stock == Stock::Order || ff.partners => tiers,
        _ => None,
    };

    // Fast path: nearest k by a filter, no other constraint (the discharge nurse's question).
    if let (Some(p), None, false, Sort::Distance, true) =
        (q.point, &q.text, spatial, sort, q.facets.is_empty())
    {
        return Ok(match &tiers {
            None => nearest(c, p, &filter, offset, limit),
            Some(t) => nearest_tiered(c, p, &filter, t, offset, limit),
        });
    }

    let allowed = allowed_bits(c, q);
    // Filters, spatial constraints and (with a point) placement, applied to text hits.
    let keep = |ord: u32| {
        filter.contains(ord)
            && allowed.as_ref().is_none_or(|a| a.contains(ord))
            && (q.point.is_none() || c.located.contains(ord))
    };
    let mut relaxed = None;
    let mut probe = None;
    let mut plain = false;
    // Hits past this index are near matches appended below the strict ones.
    let mut strict_n = None;
    let mut hits: Vec<Hit> = match &q.text {
        Some(text) => {
            let u = c.vocabulary.understand(text);
            if u.clauses.is_empty() {
                return Err(super::text::TextError::EmptyQuery.into());
            }
            let clauses: Vec<super::text::Clause> =
                u.clauses.iter().map(|(_, cl)| cl.clone()).collect();
            // Within a radius or a box, a common word's matches (scored once per snapshot)
            // are tested at the points already in `allowed`.
            let common = match &allowed {
                Some(_) => c.text.common_matches(&clauses)?,
                None => None,
            };
            let hits = match (common, &allowed) {
                (Some(m), Some(allowed)) => {
                    let mut v: Vec<(u32, f32)> = allowed
                        .iter()
                        .filter_map(|o| m.score(o).map(|s| (o, s)))
                        .collect();
                    v.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
                    v
                }
                _ => c.text.search_clauses(&clauses)?,
            };
            let mut found: Vec<(u32, f32)> =
                hits.into_iter().filter(|(ord, _)| keep(*ord)).collect();
            if found.is_empty() && q.relax {
                let (r, dropped) = super::relax::relaxed(c, &u, &keep)?;
                if !r.is_empty() {
                    found = r;
                    relaxed = Some(dropped);
                }
            } else if q.relax && found.len() < NEAR_FILL {
                // A few strict matches of a name: names holding it with gaps or one character
                // wrong follow them (川口工業病院 finds the clinic so named, then
                // 川口工業総合病院).
                let near = super::relax::near_names(c, &u, &keep, &found);
                if !near.is_empty() {
                    strict_n = Some(found.len());
                    found.extend(near);
                }
            }
            // Lifting names that start with the query is for name-like queries only: a place
            // or service word keeps its meaning (「鶴ケ島 内科」 is not 鶴ヶ島内科クリニック in 川越).
            plain = u.clauses.iter().all(|(_, c)| !c.place && c.tags.is_empty());
            probe = Some(u.name_probe);
            found
                .into_iter()
                .map(|(ord, score)| Hit {
                    ord,
                    distance_m: None,
                    score: Some(score),
                })
                .collect()
        }
        None => filter
            .iter()
            .filter(|&ord| keep(ord))
            .map(|ord| Hit {
                ord,
                distance_m: None,
                score: None,
            })
            .collect(),
    };
    if q.point.is_some() {
        for h in &mut hits {
            h.distance_m = distance_from(c, q.point, h.ord);
        }
    }
    let near = strict_n.map(|n| hits.split_off(n)).unwrap_or_default();
    let strict = strict_n.map(|_| hits.len());
    let need = offset.saturating_add(limit);
    let t = tiers.as_ref();
    let mut hits = order(c, q, sort, probe.as_deref(), plain, t, hits, need);
    let near_need = need.saturating_sub(hits.len());
    hits.extend(order(
        c,
        q,
        sort,
        probe.as_deref(),
        plain,
        t,
        near,
        near_need,
    ));
    Ok(page(c, q, &hits, relaxed, strict, offset, limit))
}

impl Catalog {
    /// Whether searches within a radius may test a common word's cached matches at the
    /// circle's points (on by default); a test compares the answers both ways.
    #[doc(hidden)]
    pub fn use_common_matches(&self, on: bool) {
        self.text.set_common_matches(on);
    }
}

/// Below this many strict matches, near name matches are appended.
const NEAR_FILL: usize = 5;

/// Hits in the order asked for. Text near a point with no sort asked: a facility the user
/// named first, then good matches, then the rest, by distance within each. By relevance: the
/// facility whose whole name was typed first, then names that start with it, then by score.
#[allow(clippy::too_many_arguments)]
fn order(
    c: &Catalog,
    q: &Query,
    sort: Sort,
    probe: Option<&str>,
    plain: bool,
    tiers: Option<&Tiers>,
    mut hits: Vec<Hit>,
    need: usize,
) -> Vec<Hit> {
    let probes = probe.map(super::relax::probes).unwrap_or_default();
    let by_distance = |a: &Hit, b: &Hit| {
        let tier = |h: &Hit| tiers.map(|t| t.of(h.ord));
        tier(a).cmp(&tier(b)).then_with(|| {
            nearer(
                c,
                (a.ord, a.distance_m.unwrap_or(f64::INFINITY)),
                (b.ord, b.distance_m.unwrap_or(f64::INFINITY)),
            )
        })
    };
    if let (None, Some(_), Some(_)) = (q.sort, q.point, probe) {
        let best = hits.iter().filter_map(|h| h.score).fold(0.0f32, f32::max);
        let longest = probes.iter().map(|p| p.chars().count()).max().unwrap_or(0);
        let tier = |h: &Hit| -> u8 {
            // A name is named by a query at least half its length (checked cheaply first).
            let len = usize::from(c.everyday_len[h.ord as usize]);
            if 2 * longest >= len && super::relax::names_facility(&c.names[h.ord as usize], &probes)
            {
                0
            } else if h.score.unwrap_or(0.0) >= GOOD_SHARE * best {
                1
            } else {
                2
            }
        };
        let mut tiered: Vec<(u8, Hit)> = hits.into_iter().map(|h| (tier(&h), h)).collect();
        sort_head(&mut tiered, need, |(ta, a), (tb, b)| {
            ta.cmp(tb).then_with(|| by_distance(a, b))
        });
        return tiered.into_iter().map(|(_, h)| h).collect();
    }
    match sort {
        // Ords are in id order unless facilities were appended since the build.
        Sort::Id if c.appended => hits.sort_by(|a, b| {
            c.facilities[a.ord as usize]
                .id
                .cmp(&c.facilities[b.ord as usize].id)
        }),
        Sort::Id => {}
        Sort::Relevance => {
            let lift = |h: &Hit| {
                if plain {
                    super::relax::name_lift(&c.names[h.ord as usize], &probes)
                } else {
                    0
                }
            };
            let mut keyed: Vec<(u8, Hit)> = hits.into_iter().map(|h| (lift(&h), h)).collect();
            sort_head(&mut keyed, need, |(la, a), (lb, b)| {
                lb.cmp(la)
                    .then(b.score.unwrap_or(0.0).total_cmp(&a.score.unwrap_or(0.0)))
                    // At an equal score the hospital before its own station or pharmacy.
                    .then_with(|| {
                        let k =
                            |h: &Hit| c.facilities[h.ord as usize].kind == FacilityKind::Hospital;
                        k(b).cmp(&k(a))
                    })
                    .then(a.ord.cmp(&b.ord))
            });
            hits = keyed.into_iter().map(|(_, h)| h).collect();
        }
        Sort::Distance => sort_head(&mut hits, need, by_distance),
        Sort::Name => sort_head(&mut hits, need, |a, b| {
            c.reading[a.ord as usize]
                .cmp(&c.reading[b.ord as usize])
                .then(a.ord.cmp(&b.ord))
        }),
    }
    hits
}

/// Sorts the first `need` places of `v` by `cmp` (a total order); the rest, never shown on
/// this page, stay in any order. The next page sorts its own head the same way.
fn sort_head<T>(v: &mut [T], need: usize, cmp: impl Fn(&T, &T) -> std::cmp::Ordering) {
    if need < v.len() {
        v.select_nth_unstable_by(need, &cmp);
        v[..need].sort_by(&cmp);
    } else {
        v.sort_by(cmp);
    }
}

/// A hit whose score is at least this share of the best one is a good match (for ordering
/// text near a point by distance).
pub const GOOD_SHARE: f32 = 0.5;

/// Facets (of strict matches only) and one page of sorted hits.
fn page(
    c: &Catalog,
    q: &Query,
    hits: &[Hit],
    relaxed: Option<Vec<String>>,
    strict: Option<usize>,
    offset: usize,
    limit: usize,
) -> Results {
    let counted = match (&relaxed, strict) {
        (Some(_), _) => &[][..],
        (None, Some(n)) => &hits[..n.min(hits.len())],
        (None, None) => hits,
    };
    let facets = facets(c, &q.facets, counted);
    Results {
        total: hits.len(),
        hits: hits.iter().skip(offset).take(limit).copied().collect(),
        facets,
        relaxed,
        strict,
    }
}

/// The ords allowed by radius, box and reach (`None`: no spatial constraint).
fn allowed_bits(c: &Catalog, q: &Query) -> Option<Bits> {
    let mut allowed: Option<Bits> = None;
    let mut constrain = |ords: Vec<u32>| {
        let mut b = Bits::empty(c.facilities.len());
        ords.into_iter().for_each(|o| b.insert(o));
        match &mut allowed {
            None => allowed = Some(b),
            Some(a) => a.and(&b),
        }
    };
    if let (Some(p), Some(r)) = (q.point, q.radius_m) {
        constrain(
            c.spatial
                .within(p.0, p.1, r)
                .into_iter()
                .map(|(o, _)| o)
                .collect(),
        );
    }
    if let Some([min_lng, min_lat, max_lng, max_lat]) = q.bbox {
        constrain(c.spatial.in_bbox(min_lng, min_lat, max_lng, max_lat));
    }
    if let Some(p) = q.reaches {
        let radius = |ord: u32| c.reach_m[ord as usize];
        constrain(
            c.spatial
                .reaching(p.0, p.1, radius, c.max_reach_m)
                .into_iter()
                .map(|(o, _)| o)
                .collect(),
        );
    }
    allowed
}

fn facets(
    c: &Catalog,
    which: &[Facet],
    hits: &[Hit],
) -> BTreeMap<&'static str, BTreeMap<String, usize>> {
    let mut out = BTreeMap::new();
    for facet in which {
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for h in hits {
            let f = &c.facilities[h.ord as usize];
            match facet {
                Facet::Kind => *counts.entry(f.kind.code().to_string()).or_default() += 1,
                Facet::Area => {
                    if let Some(a) = &f.area_code {
                        *counts.entry(a.to_string()).or_default() += 1;
                    }
                }
                Facet::Service => {
                    for s in ServiceKind::ALL {
                        if c.by_service.get(s).is_some_and(|b| b.contains(h.ord)) {
                            *counts.entry(s.code().to_string()).or_default() += 1;
                        }
                    }
                }
            }
        }
        out.insert(facet.code(), counts);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::Bits;

    #[test]
    fn bits_behave_like_a_set() {
        let mut a = Bits::empty(130);
        for i in [0, 63, 64, 129] {
            a.insert(i);
        }
        assert_eq!(a.iter().collect::<Vec<_>>(), [0, 63, 64, 129]);
        assert_eq!(Bits::full(130).count(), 130);
        let mut b = Bits::full(130);
        b.and(&a);
        assert_eq!(b, a);
        assert!(a.contains(129) && !a.contains(128) && !a.contains(1000));
    }
}

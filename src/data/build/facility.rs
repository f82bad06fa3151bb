//! A facility record from any source: its address, placement (source point, geocoded town or
//! municipality point), municipality and 二次医療圏, with the source's provenance.

use super::matcher::JoinKey;
use super::places::Places;
use super::{address, geo, norm, sources as src};
use crate::domain::{
    Address, Facility, FacilityKind, Hours, Identifiers, LatLng, Placement, Provenance,
};

pub(super) struct Ctx<'a> {
    pub pref_code: &'a str,
    pub places: &'a Places,
}

impl Ctx<'_> {
    pub fn key(&self, name: &str, address: &str, muni: Option<String>) -> JoinKey {
        JoinKey {
            name: norm::facility_name(name),
            addr: address::join_key(address, &self.places.prefecture),
            muni: muni.or_else(|| self.places.muni_of(address)),
        }
    }

    /// A facility with its address and placement filled in.
    #[allow(clippy::too_many_arguments)]
    pub fn facility(
        &self,
        id: String,
        kind: FacilityKind,
        name: &str,
        address_text: String,
        known_muni: Option<String>,
        source_point: Option<(f64, f64)>,
        source: &str,
    ) -> Facility {
        let info = src::info(source);
        let mut source_point = source_point.filter(|&(lat, lng)| geo::in_japan(lat, lng));
        let mut geocoded = None;
        if let Some((lat, lng)) = source_point {
            // A source point outside the prefecture is usually wrong (another prefecture's
            // coordinates); prefer the geocoded point when that one lies inside.
            if !self.places.outline.is_empty() && !self.places.outline.contains(lat, lng) {
                let p = self.places.place(&address_text, known_muni.as_deref());
                if let Some(l) = p
                    .location
                    .filter(|l| self.places.outline.contains(l.lat, l.lng))
                    && (l.lat - lat).abs() + (l.lng - lng).abs() > 0.03
                {
                    source_point = None;
                }
                geocoded = Some(p);
            }
        }
        let (location, placement, muni) = match source_point {
            Some((lat, lng)) => {
                let muni = known_muni
                    .clone()
                    .or_else(|| self.places.muni_at(lat, lng))
                    .or_else(|| self.places.place(&address_text, None).muni_code);
                (
                    Some(LatLng {
                        lat: geo::round6(lat),
                        lng: geo::round6(lng),
                    }),
                    Placement::Source,
                    muni,
                )
            }
            None => {
                let p = geocoded
                    .unwrap_or_else(|| self.places.place(&address_text, known_muni.as_deref()));
                let muni = known_muni.or(p.muni_code).or_else(|| {
                    let l = p.location?;
                    self.places.muni_at(l.lat, l.lng)
                });
                (p.location, p.placement, muni)
            }
        };
        let area_code = muni
            .as_ref()
            .and_then(|m| self.places.muni_area.get(m).cloned());
        Facility {
            id,
            kind,
            name: name.trim().to_string(),
            name_kana: None,
            identifiers: Identifiers::default(),
            address: Address {
                postal_code: None,
                prefecture: self.places.prefecture.clone(),
                municipality: muni
                    .as_ref()
                    .and_then(|m| self.places.muni_display.get(m).cloned()),
                municipality_code: muni,
                text: address_text,
            },
            location,
            placement,
            area_code,
            contacts: Vec::new(),
            hours: Hours::default(),
            after_hours: None,
            specialists: None,
            partners: Vec::new(),
            consultations: Vec::new(),
            gathering: None,
            url: None,
            notes: None,
            services: Vec::new(),
            provenance: Provenance::dataset(info.name, info.snapshot),
            updated_at: info.snapshot.to_string(),
            verified_at: None,
            verified_by: None,
            status: Default::default(),
            version: 0,
        }
    }
}

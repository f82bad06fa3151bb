//! 二次医療圏 (secondary medical areas) and 市区町村 (municipalities).
//! Geometries are kept as GeoJSON geometry objects (lon,lat order).

use serde::{Deserialize, Serialize};

/// 二次医療圏 (構想区域): the unit a region plans palliative care in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Area {
    /// 4-digit code, e.g. `1104` (さいたま).
    pub code: String,
    pub name: String,
    pub pref_code: String,
    pub prefecture: String,
    /// 令和2年国勢調査 population.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub population: Option<u64>,
    /// GeoJSON MultiPolygon geometry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geometry: Option<serde_json::Value>,
}

/// 市区町村 (政令市は区単位).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Municipality {
    /// 5-digit code without check digit, e.g. `11101`.
    pub code: String,
    pub name: String,
    pub pref_code: String,
    pub area_code: String,
    /// GeoJSON (Multi)Polygon geometry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geometry: Option<serde_json::Value>,
}

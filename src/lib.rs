//! pallimap: a regional directory and map of palliative-care resources.
//! Layers: `domain` ← `store`, `catalog`, `geocode` ← `http` ← the binary.
#![forbid(unsafe_code)]

pub mod catalog;
pub mod config;
pub mod data;
pub mod domain;
pub mod geocode;
pub mod http;
pub mod store;

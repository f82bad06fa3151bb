//! pallimap: a regional directory and map of palliative-care resources.
//!
//! Layers, each knowing only those to its left:
//! `domain` ← `store`, `catalog`, `geocode` ← `app`, `http` ← the binary (`main`).
//! `data` (building and reading the default dataset) uses `domain` and `geocode` and is called
//! by `app` and the CLI. `sheet` (facilities as table rows: the import template and the CSV /
//! XLSX columns, 和暦 dates) uses `domain` only. `domain` holds plain types and pure functions (incl. the one Japanese
//! text module) and does no I/O; `store` is the only layer that names diesel, `catalog` the
//! only one that names tantivy and rstar, `http` the only one that names actix-web.
#![deny(unsafe_code)] // Two exceptions in `app`: `return_freed_memory` (malloc_trim, mi_collect) and `yield_to_others` (setpriority).

pub mod app;
pub mod auth;
pub mod catalog;
pub mod check;
pub mod config;
pub mod data;
pub mod domain;
#[doc(hidden)]
pub mod fuzzing;
pub mod geocode;
pub mod http;
pub mod import;
pub mod sheet;
pub mod store;

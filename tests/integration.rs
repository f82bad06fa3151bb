//! All integration tests, compiled into one binary for fast linking.

mod accounts;
mod admissions;
mod api;
// The longest test (Chromium through the whole front end, some 4 minutes): libtest starts tests
// in name order, so its module sorts early and the other tests run beside it.
mod browser;
mod cli;
mod common;
mod coverage;
mod data;
mod desk;
mod events;
mod export;
mod faults;
mod formulary;
mod fuzz;
mod hardening;
mod imports;
mod instances;
mod maplayer;
mod people;
mod search;
mod search_quality;
mod store;
mod surveys;
mod team;

//! cargo-fuzz target: the `survey` harness of `pallimap::fuzzing`.
#![no_main]

libfuzzer_sys::fuzz_target!(
    init: pallimap::fuzzing::warm_up(),
    |data: &[u8]| pallimap::fuzzing::survey(data)
);

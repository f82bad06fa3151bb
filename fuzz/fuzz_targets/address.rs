//! cargo-fuzz target: the `address` harness of `pallimap::fuzzing`.
#![no_main]

libfuzzer_sys::fuzz_target!(
    init: pallimap::fuzzing::warm_up(),
    |data: &[u8]| pallimap::fuzzing::address(data)
);

#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| wire::fuzz::metrics_structured(data));

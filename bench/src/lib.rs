//! Shared code of `sluice-loadgen` and the criterion benches (none yet).

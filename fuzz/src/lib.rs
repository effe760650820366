//! sluice's fuzz workspace.
//!
//! Empty for now: the targets arrive with the decoders they exercise (protobuf and
//! JSON decoders into columns, gRPC framing, decompression, RowBinary), each a
//! one-liner into a `#[cfg(fuzzing)]` bridge module in `wire`. See the fuzzing issue.

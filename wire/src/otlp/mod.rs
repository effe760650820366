//! OTLP decoding: protobuf (and JSON) requests straight into column buffers.
//!
//! | module | what |
//! |---|---|
//! | [`value`] | `AnyValue` as the OTel collector stringifies it (`pcommon.Value.AsString`) |

pub mod value;

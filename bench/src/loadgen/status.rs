//! `google.rpc.Status`, OTLP's error answer (the gRPC `grpc-status-details-bin`
//! trailer, the OTLP/HTTP error body), and the retry information it may carry
//! (`google.rpc.RetryInfo`, which the OTLP spec asks servers to send with a
//! retryable refusal).

use std::time::Duration;

use prost::Message as _;

/// The `type_url` of a `google.rpc.RetryInfo` detail.
pub const RETRY_INFO: &str = "type.googleapis.com/google.rpc.RetryInfo";

/// `google.rpc.Status`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpcStatus {
    #[prost(int32, tag = "1")]
    pub code: i32,
    #[prost(string, tag = "2")]
    pub message: String,
    #[prost(message, repeated, tag = "3")]
    pub details: Vec<Any>,
}

/// `google.protobuf.Any`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Any {
    #[prost(string, tag = "1")]
    pub type_url: String,
    #[prost(bytes = "vec", tag = "2")]
    pub value: Vec<u8>,
}

/// `google.rpc.RetryInfo`.
#[derive(Clone, PartialEq, prost::Message)]
struct RetryInfo {
    #[prost(message, optional, tag = "1")]
    retry_delay: Option<PbDuration>,
}

/// `google.protobuf.Duration`.
#[derive(Clone, PartialEq, prost::Message)]
struct PbDuration {
    #[prost(int64, tag = "1")]
    seconds: i64,
    #[prost(int32, tag = "2")]
    nanos: i32,
}

impl RpcStatus {
    /// The delay its `RetryInfo` detail asks for, if it carries one.
    pub fn retry_delay(&self) -> Option<Duration> {
        let detail = self.details.iter().find(|d| d.type_url == RETRY_INFO)?;
        let delay = RetryInfo::decode(detail.value.as_slice())
            .ok()?
            .retry_delay
            .unwrap_or_default();
        Some(Duration::new(
            u64::try_from(delay.seconds).unwrap_or(0),
            u32::try_from(delay.nanos).unwrap_or(0),
        ))
    }

    /// The status in a `grpc-status-details-bin` value: base64, padded or not (gRPC's
    /// PROTOCOL-HTTP2.md lets senders leave the padding out).
    pub fn from_details_header(value: &[u8]) -> Option<RpcStatus> {
        use base64::Engine as _;
        let engine = base64::engine::GeneralPurpose::new(
            &base64::alphabet::STANDARD,
            base64::engine::GeneralPurposeConfig::new()
                .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
        );
        let bytes = engine.decode(value).ok()?;
        RpcStatus::decode(bytes.as_slice()).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sluices_details_trailer_reads_back_with_its_delay() {
        let header = wire::grpc::status_details_header(
            wire::grpc::Code::Unavailable,
            "overloaded",
            Some(Duration::from_millis(1500)),
        );
        let status = RpcStatus::from_details_header(header.as_bytes()).unwrap();
        assert_eq!(status.code, 14);
        assert_eq!(status.message, "overloaded");
        assert_eq!(status.retry_delay(), Some(Duration::from_millis(1500)));
        let plain = wire::grpc::status_details_header(wire::grpc::Code::Internal, "x", None);
        let status = RpcStatus::from_details_header(plain.as_bytes()).unwrap();
        assert_eq!(status.retry_delay(), None);
        assert!(RpcStatus::from_details_header(b"!!").is_none());
    }
}

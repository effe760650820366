//! One request body per send: copy the template, patch the stamps, compress, frame.
//!
//! Each worker owns a [`BodyWriter`]; it allocates one buffer per request (the body
//! handed to `h2` / `hyper`, which keep it until the bytes are on the wire) and reuses
//! its scratch buffer and zstd context across sends. Nothing is allocated per record.
//! Compression runs after patching, so a compressed run compresses every send; the
//! time it takes is returned so the report can show it.

use std::io::Write;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::cli::Compression;
use super::pool::Template;

/// Bytes before a gRPC message: the compressed flag and a big-endian u32 length
/// (gRPC PROTOCOL-HTTP2.md, "Length-Prefixed-Message").
pub const GRPC_PREFIX_LEN: usize = wire::grpc::PREFIX_LEN;

/// zstd level: the library's default, as OTel exporters use it.
const ZSTD_LEVEL: i32 = 3;

/// A built body.
#[derive(Debug)]
pub struct Body {
    pub bytes: Bytes,
    /// The encoded request before compression (no gRPC prefix).
    pub raw_len: usize,
    /// Time spent compressing.
    pub compress: Duration,
}

/// Why a body could not be built (compression errors; they do not happen with
/// in-memory buffers, but the libraries' signatures say they could).
#[derive(Debug, thiserror::Error)]
#[error("{codec} compression failed: {source}")]
pub struct BodyError {
    codec: &'static str,
    source: std::io::Error,
}

/// Builds bodies for one worker.
pub struct BodyWriter {
    compression: Compression,
    /// gRPC framing (5-byte prefix) or a bare OTLP/HTTP body.
    grpc: bool,
    /// The patched, uncompressed request when compressing.
    scratch: Vec<u8>,
    zstd: Option<zstd::bulk::Compressor<'static>>,
}

impl std::fmt::Debug for BodyWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BodyWriter")
            .field("compression", &self.compression)
            .field("grpc", &self.grpc)
            .finish_non_exhaustive()
    }
}

impl BodyWriter {
    pub fn new(compression: Compression, grpc: bool) -> Result<BodyWriter, BodyError> {
        let zstd = match compression {
            Compression::Zstd => Some(zstd::bulk::Compressor::new(ZSTD_LEVEL).map_err(
                |source| BodyError {
                    codec: "zstd",
                    source,
                },
            )?),
            _ => None,
        };
        Ok(BodyWriter {
            compression,
            grpc,
            scratch: Vec::new(),
            zstd,
        })
    }

    /// The body of request `request`, whose records start at `seq_base`.
    pub fn build(&mut self, t: &Template, request: u64, seq_base: u64) -> Result<Body, BodyError> {
        let prefix = if self.grpc { GRPC_PREFIX_LEN } else { 0 };
        let raw_len = t.bytes.len();
        if self.compression == Compression::None {
            let mut out = Vec::with_capacity(prefix + raw_len);
            out.resize(prefix, 0);
            out.extend_from_slice(&t.bytes);
            t.patch(&mut out[prefix..], request, seq_base);
            self.frame(&mut out, false);
            return Ok(Body {
                bytes: Bytes::from(out),
                raw_len,
                compress: Duration::ZERO,
            });
        }
        self.scratch.clear();
        self.scratch.extend_from_slice(&t.bytes);
        t.patch(&mut self.scratch, request, seq_base);
        let started = Instant::now();
        let mut out = match (&mut self.zstd, self.compression) {
            (Some(z), _) => {
                let mut out = vec![0; prefix + zstd::zstd_safe::compress_bound(raw_len)];
                let n = z
                    .compress_to_buffer(&self.scratch, &mut out[prefix..])
                    .map_err(|source| BodyError {
                        codec: "zstd",
                        source,
                    })?;
                out.truncate(prefix + n);
                out
            }
            _ => {
                let mut out = Vec::with_capacity(prefix + raw_len / 4);
                out.resize(prefix, 0);
                let mut gz = flate2::write::GzEncoder::new(out, flate2::Compression::default());
                gz.write_all(&self.scratch)
                    .and_then(|()| gz.finish())
                    .map_err(|source| BodyError {
                        codec: "gzip",
                        source,
                    })?
            }
        };
        let compress = started.elapsed();
        self.frame(&mut out, true);
        Ok(Body {
            bytes: Bytes::from(out),
            raw_len,
            compress,
        })
    }

    /// Writes the gRPC prefix into the first bytes of `out`.
    fn frame(&self, out: &mut [u8], compressed: bool) {
        if self.grpc {
            let len = u32::try_from(out.len() - GRPC_PREFIX_LEN).unwrap_or(u32::MAX);
            out[0] = u8::from(compressed);
            out[1..GRPC_PREFIX_LEN].copy_from_slice(&len.to_be_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;
    use crate::generate::{Shape, Stamps};
    use crate::loadgen::cli::{Encoding, Signal};
    use crate::loadgen::pool::Pool;

    fn template() -> Template {
        let shape = Shape {
            records: 20,
            ..Shape::default()
        };
        let stamps = Stamps {
            request: true,
            ..Stamps::default()
        };
        let mut pool =
            Pool::build(&[Signal::Logs], &shape, &stamps, Encoding::Protobuf, 1).unwrap();
        pool.templates.remove(0)
    }

    fn expected(t: &Template, request: u64) -> Vec<u8> {
        let mut b = t.bytes.clone();
        t.patch(&mut b, request, 0);
        b
    }

    #[test]
    fn grpc_frames_carry_the_flag_and_length() {
        let t = template();
        for compression in [Compression::None, Compression::Gzip, Compression::Zstd] {
            let mut w = BodyWriter::new(compression, true).unwrap();
            let body = w.build(&t, 7, 0).unwrap();
            let b = &body.bytes;
            assert_eq!(body.raw_len, t.bytes.len());
            let len = u32::from_be_bytes([b[1], b[2], b[3], b[4]]) as usize;
            assert_eq!(len, b.len() - GRPC_PREFIX_LEN);
            assert_eq!(b[0], u8::from(compression != Compression::None));
            let msg = &b[GRPC_PREFIX_LEN..];
            let plain = match compression {
                Compression::None => msg.to_vec(),
                Compression::Gzip => {
                    let mut v = Vec::new();
                    flate2::read::GzDecoder::new(msg)
                        .read_to_end(&mut v)
                        .unwrap();
                    v
                }
                Compression::Zstd => zstd::decode_all(msg).unwrap(),
            };
            assert_eq!(plain, expected(&t, 7), "{compression:?}");
        }
    }

    #[test]
    fn http_bodies_are_bare() {
        let t = template();
        let mut w = BodyWriter::new(Compression::None, false).unwrap();
        assert_eq!(&w.build(&t, 3, 0).unwrap().bytes[..], &expected(&t, 3)[..]);
        let mut w = BodyWriter::new(Compression::Zstd, false).unwrap();
        // The context is reused: a second body decodes as well as the first.
        let _ = w.build(&t, 3, 0).unwrap();
        let b = w.build(&t, 4, 0).unwrap();
        assert_eq!(zstd::decode_all(&b.bytes[..]).unwrap(), expected(&t, 4));
    }
}

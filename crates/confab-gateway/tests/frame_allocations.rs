//! What decoding one frame may allocate (issue 13, item 3: no unbounded
//! allocation): a gzip bomb is refused having unpacked no more than the
//! limit, and a frame of repeated empty protobuf records, the densest
//! input there is, allocates a bounded multiple of its size.
//!
//! The allocator counts every thread's allocations, so this binary holds
//! one test, which measures its cases one after the other.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::Engine;
use confab_core::{Platform, UserId};
use confab_gateway::{Codec, Frame, OpenImCodec};
use confab_service::Caller;
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};
use std::alloc::System;
use std::io::Write;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

fn caller() -> Caller {
    Caller {
        user_id: UserId::parse("u", "alice").unwrap(),
        platform: Platform::Web,
        is_admin: false,
    }
}

fn gzip_best(bytes: &[u8]) -> Vec<u8> {
    let mut out = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    out.write_all(bytes).unwrap();
    out.finish().unwrap()
}

/// Bytes allocated (growth included) while `codec` decodes `frame`.
fn allocated_by(codec: OpenImCodec, frame: Vec<u8>) -> usize {
    let caller = caller();
    let frame = Frame::Binary(frame.into());
    let region = Region::new(GLOBAL);
    let decoded = codec.decode(&caller, frame);
    let change = region.change();
    drop(decoded);
    change.bytes_allocated + usize::try_from(change.bytes_reallocated).unwrap_or(0)
}

/// A request frame whose `data` is the base64 of `protobuf`.
fn request(ident: i32, protobuf: &[u8]) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "reqIdentifier": ident, "msgIncr": "m", "sendID": "alice", "operationID": "op",
        "data": base64::engine::general_purpose::STANDARD.encode(protobuf),
    }))
    .unwrap()
}

/// The densest protobuf of each request: its repeated field's records,
/// empty, one after the other, `len` bytes in all.
fn dense_requests(len: usize) -> Vec<(i32, Vec<u8>)> {
    vec![
        // 1002: repeated SeqRange seqRanges = 2, `12 00` each.
        (1002, [0x12, 0x00].repeat(len / 2)),
        // 1005: repeated ConversationSeqs conversations = 2.
        (1005, [0x12, 0x00].repeat(len / 2)),
        // 1006: repeated string conversationIDs = 2.
        (1006, [0x12, 0x00].repeat(len / 2)),
        // 2005: repeated string subscribeUserID = 1.
        (2005, [0x0a, 0x00].repeat(len / 2)),
        // 1003: MsgData's repeated string atUserIDList = 21 (`aa 01 00`).
        (1003, [0xaa, 0x01, 0x00].repeat(len / 3)),
    ]
}

/// The server's frame limit by default: 64 KiB of content, 16 KiB more.
const FRAME_LIMIT: usize = 80 * 1024;

#[test]
fn decoding_allocates_a_bounded_amount() {
    // A frame of a valid request padded to 64 MiB: 64 KiB gzipped, which
    // the gateway's frame limit lets through.
    let mut padded =
        br#"{"reqIdentifier":1001,"msgIncr":"m","sendID":"alice","operationID":"op","data":""}"#
            .to_vec();
    padded.resize(64 << 20, b' ');
    let bomb = gzip_best(&padded);
    drop(padded);
    assert!(bomb.len() < 80 * 1024, "{}", bomb.len());
    let bytes = allocated_by(OpenImCodec::GZIP, bomb.clone());
    assert!(bytes < 8 << 20, "a bomb allocated {bytes} bytes");
    let bytes = allocated_by(OpenImCodec::GZIP.with_max_unzipped(FRAME_LIMIT), bomb);
    assert!(bytes < 8 * FRAME_LIMIT, "a bomb allocated {bytes} bytes");

    // The densest plain frames of the server's default frame limit (64
    // KiB of content and 16 KiB more): some eighty times their size, the
    // most a frame the limit lets in allocates.
    for (ident, protobuf) in dense_requests(58 * 1024) {
        let frame = request(ident, &protobuf);
        let len = frame.len();
        assert!(len <= FRAME_LIMIT, "{len}");
        let bytes = allocated_by(OpenImCodec::PLAIN, frame);
        assert!(bytes < 96 * len, "{ident}: {len} bytes allocated {bytes}");
    }

    // Gzipped, the same frames are a few hundred bytes: what they unpack
    // to, bounded by the frame limit, bounds what they allocate.
    let gzip = OpenImCodec::GZIP.with_max_unzipped(FRAME_LIMIT);
    for (ident, protobuf) in dense_requests(58 * 1024) {
        let frame = request(ident, &protobuf);
        let len = frame.len();
        let packed = gzip_best(&frame);
        assert!(packed.len() < 1024, "{}", packed.len());
        let bytes = allocated_by(gzip, packed);
        assert!(bytes < 96 * len, "{ident}: {len} bytes allocated {bytes}");
    }

    // Found here: a gzip frame could unpack to 1 MiB whatever the frame
    // limit, so 1.6 KiB of gzip allocated 98 MB (a 1005). Now more than
    // the frame limit once unpacked is refused, having unpacked no more.
    for (ident, protobuf) in dense_requests(760 * 1024) {
        let packed = gzip_best(&request(ident, &protobuf));
        assert!(packed.len() < 2048, "{}", packed.len());
        let bytes = allocated_by(gzip, packed);
        assert!(bytes < 8 * FRAME_LIMIT, "{ident}: allocated {bytes}");
    }
}

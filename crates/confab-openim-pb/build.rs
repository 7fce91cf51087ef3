//! Compiles `proto/` with protox (a protobuf compiler in Rust, so no `protoc`
//! is needed) and hands the descriptors to prost-build.

use std::error::Error;
use std::path::PathBuf;

const PROTO_ROOT: &str = "proto";

const FILES: &[&str] = &[
    "wrapperspb/wrapperspb.proto",
    "sdkws/sdkws.proto",
    "msg/msg.proto",
    "conversation/conversation.proto",
    "relation/relation.proto",
    "jssdk/jssdk.proto",
];

/// prost snake-cases OpenIM's `conversationIDs` as `conversation_i_ds` and
/// `iOSPushSound` as `i_os_push_sound`. Field names are not on the wire
/// (prost encodes by tag), so the generated field declarations are renamed to
/// what a Rust reader expects.
const RENAMES: &[(&str, &str)] = &[("_i_ds:", "_ids:"), ("pub i_os_", "pub ios_")];

fn main() -> Result<(), Box<dyn Error>> {
    println!("cargo:rerun-if-changed={PROTO_ROOT}");
    for file in FILES {
        println!("cargo:rerun-if-changed={PROTO_ROOT}/{file}");
    }

    let descriptors = protox::compile(FILES, [PROTO_ROOT])?;
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    prost_build::Config::new()
        .out_dir(&out_dir)
        // OpenIM keys every map by conversation or user ID; a BTreeMap makes
        // encoding deterministic, which keeps tests and captures stable.
        .btree_map(["."])
        .compile_fds(descriptors)?;

    for entry in std::fs::read_dir(&out_dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|ext| ext == "rs") {
            let mut code = std::fs::read_to_string(&path)?;
            for (from, to) in RENAMES {
                code = code.replace(from, to);
            }
            std::fs::write(&path, code)?;
        }
    }
    Ok(())
}

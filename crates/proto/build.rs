//! Compiles `proto/` with protox (no system protoc) into prost messages, ProtoJSON
//! serde implementations (pbjson) and, per feature, tonic clients and servers.

use std::path::PathBuf;

use prost::Message;

const FILES: &[&str] = &[
    "grafeas/v1/grafeas.proto",
    "google/devtools/containeranalysis/v1/containeranalysis.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?).join("../../proto");
    println!("cargo:rerun-if-changed={}", root.display());
    let out = PathBuf::from(std::env::var("OUT_DIR")?);

    let fds = protox::compile(FILES, [&root])?;
    let descriptor_path = out.join("descriptors.bin");
    std::fs::write(&descriptor_path, fds.encode_to_vec())?;

    let client = std::env::var_os("CARGO_FEATURE_CLIENT").is_some();
    let server = std::env::var_os("CARGO_FEATURE_SERVER").is_some();
    tonic_prost_build::configure()
        .build_client(client)
        .build_server(server)
        .build_transport(false)
        .compile_well_known_types(true)
        .extern_path(".google.protobuf.Timestamp", "crate::wkt::Timestamp")
        .extern_path(".google.protobuf", "::pbjson_types")
        .compile_fds(fds)?;

    let descriptors = std::fs::read(&descriptor_path)?;
    pbjson_build::Builder::new()
        .register_descriptors(&descriptors)?
        .ignore_unknown_fields()
        .build(&[
            ".grafeas.v1",
            ".google.devtools.containeranalysis.v1",
            ".google.rpc",
        ])?;
    Ok(())
}

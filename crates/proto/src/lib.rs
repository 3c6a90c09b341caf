//! `gar-proto`: the Grafeas v1 and Container Analysis v1 wire types gar uses.
//!
//! Generated at build time from the project's own minimal `.proto` files in `proto/`
//! (names and numbers equal to the public API). Every message has prost encoding for
//! gRPC and ProtoJSON serde (camelCase names, enums by name, int64 as strings,
//! RFC 3339 timestamps) for the REST form of the same calls. The tonic clients are
//! behind the `client` feature, the servers behind `server`.
//!
//! ```
//! use gar_proto::grafeas::v1::{NoteKind, Occurrence};
//!
//! let occ = Occurrence { name: "projects/p/occurrences/o1".into(), kind: NoteKind::Vulnerability as i32, ..Default::default() };
//! let json = serde_json::to_value(&occ).unwrap();
//! assert_eq!(json["kind"], "VULNERABILITY");
//! ```

pub mod json;
pub mod wkt;

/// Generated code: documentation lives in the `.proto` files.
#[allow(
    missing_docs,
    clippy::all,
    clippy::pedantic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
pub mod google {
    /// `google.rpc`.
    pub mod rpc {
        include!(concat!(env!("OUT_DIR"), "/google.rpc.rs"));
        include!(concat!(env!("OUT_DIR"), "/google.rpc.serde.rs"));
    }
    /// `google.devtools`.
    pub mod devtools {
        /// `google.devtools.containeranalysis`.
        pub mod containeranalysis {
            /// `google.devtools.containeranalysis.v1`.
            pub mod v1 {
                include!(concat!(
                    env!("OUT_DIR"),
                    "/google.devtools.containeranalysis.v1.rs"
                ));
                include!(concat!(
                    env!("OUT_DIR"),
                    "/google.devtools.containeranalysis.v1.serde.rs"
                ));
            }
        }
    }
}

/// Generated code: documentation lives in the `.proto` files.
#[allow(
    missing_docs,
    clippy::all,
    clippy::pedantic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
pub mod grafeas {
    /// `grafeas.v1`.
    pub mod v1 {
        include!(concat!(env!("OUT_DIR"), "/grafeas.v1.rs"));
        include!(concat!(env!("OUT_DIR"), "/grafeas.v1.serde.rs"));
    }
}

/// The encoded `FileDescriptorSet` of every file, for reflection and tests.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/descriptors.bin"));

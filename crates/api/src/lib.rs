//! The contracts of the shebao mesh: messages, clients and servers generated
//! from `proto/` at build time. Import one package under one alias, e.g.
//! `use shebao_api::registration::v1 as registration_v1;`.
#![allow(clippy::all, missing_docs)]

/// Shared enums: insurance types, sex.
pub mod common {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("shebao.common.v1");
    }
}

/// Registration of persons, employers and employments (R2.1).
pub mod registration {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("shebao.registration.v1");
    }
}

/// Wage declarations, contributions and individual accounts (R2.2, R2.4).
pub mod contribution {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("shebao.contribution.v1");
    }
}

/// Assembled personal records.
pub mod query {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("shebao.query.v1");
    }
}

/// The tamper-evident lookup log (R21.1, R28.3).
pub mod audit {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("shebao.audit.v1");
    }
}

/// The purpose-bound door for outside callers.
pub mod gateway {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("shebao.gateway.v1");
    }
}

/// The encoded descriptor set of every shebao proto file, for server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/shebao_descriptor.bin"));

/// The protobuf timestamp used by every message.
pub use prost_types::Timestamp;

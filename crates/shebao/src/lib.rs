//! The `shebao` command's library: the whole mesh started in one process
//! (`shebao dev`, and the integration tests), and the demo region.
#![forbid(unsafe_code)]

pub mod demo;
pub mod mesh;

pub use mesh::{Mesh, MeshOptions, Ports, Storage};

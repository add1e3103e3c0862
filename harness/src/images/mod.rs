//! Offline images: every image the platform runs is built on this machine, because no registry
//! is reachable where the harness is built and tested. A Debian base rootfs comes from
//! mmdebstrap and the host's own apt sources; one Dockerfile per service adds what the service
//! needs. Tags are content hashes of each image's inputs, so an unchanged image is never
//! rebuilt, and a manifest records the tags of the last build for `Platform` to start.

mod base;
mod binaries;
mod build;
mod context;
mod manifest;
mod service;

pub use build::{build_all, remove_built, BuildOptions, BuildReport};
pub use manifest::Manifest;
pub use service::Service;

/// Cargo's target folder of the workspace: `CARGO_TARGET_DIR` if set, else `target/`. The
/// release binaries and the image manifest live there.
pub(crate) fn target_dir(workspace: &std::path::Path) -> std::path::PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| workspace.join("target"))
}

//! The manifest of the last image build: which tag each service runs. `harness images build`
//! writes it; `Platform` reads it, so that starting never re-hashes inputs or rebuilds.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::Service;
use crate::error::{Error, Result};

/// Image references per service, as built (or overridden by configuration).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// The base image every service image starts from.
    pub base: String,
    /// The image each service runs.
    pub images: BTreeMap<Service, String>,
}

impl Manifest {
    /// Where the manifest of a workspace lives.
    pub fn path(workspace: &Path) -> PathBuf {
        super::target_dir(workspace)
            .join("harness")
            .join("images.json")
    }

    /// Reads the manifest; a missing one says to build the images.
    pub fn load(workspace: &Path) -> Result<Self> {
        let path = Self::path(workspace);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            Error::io(
                &path,
                "no image manifest: run `cargo run -p harness -- images build` first",
                e,
            )
        })?;
        serde_json::from_str(&text)
            .map_err(|e| Error::config(path.display().to_string(), e.to_string()))
    }

    pub(crate) fn save(&self, workspace: &Path) -> Result<()> {
        let path = Self::path(workspace);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::io(dir, "creating the manifest folder", e))?;
        }
        let text = serde_json::to_string_pretty(self).expect("a manifest always serialises");
        std::fs::write(&path, text).map_err(|e| Error::io(&path, "writing the image manifest", e))
    }

    /// The image of a service: `HARNESS_IMAGE_<SERVICE>` if set, else the built one.
    pub fn image(&self, service: Service) -> Option<String> {
        std::env::var(service.override_var())
            .ok()
            .filter(|v| !v.is_empty())
            .or_else(|| self.images.get(&service).cloned())
    }
}

//! Build contexts and their content hashes: the files of `docker/<service>/` plus the binaries
//! an image COPYs, hashed by name and content so that the tag changes exactly when an input does.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// The files of one image's build context: (name inside the context, file on disk).
#[derive(Debug, Clone, Default)]
pub(crate) struct Context {
    files: Vec<(String, PathBuf)>,
    /// Extra inputs that change the image without being files (e.g. the base image's tag).
    salt: Vec<String>,
}

impl Context {
    /// Every regular file directly inside `dir`.
    pub(crate) fn from_dir(dir: &Path) -> Result<Self> {
        let entries = std::fs::read_dir(dir)
            .map_err(|e| Error::io(dir, "reading the image recipe folder", e))?;
        let mut files = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| Error::io(dir, "reading the image recipe folder", e))?;
            let path = entry.path();
            if path.is_file() {
                files.push((entry.file_name().to_string_lossy().into_owned(), path));
            }
        }
        files.sort();
        Ok(Self {
            files,
            salt: Vec::new(),
        })
    }

    pub(crate) fn with_file(mut self, name: &str, path: PathBuf) -> Self {
        self.files.push((name.to_string(), path));
        self.files.sort();
        self
    }

    /// Every regular file under `dir`, recursively, placed under `prefix/` in the context.
    pub(crate) fn with_dir(mut self, prefix: &str, dir: &Path) -> Result<Self> {
        let entries = std::fs::read_dir(dir)
            .map_err(|e| Error::io(dir, "reading an image input folder", e))?;
        for entry in entries {
            let entry = entry.map_err(|e| Error::io(dir, "reading an image input folder", e))?;
            let path = entry.path();
            let name = format!("{prefix}/{}", entry.file_name().to_string_lossy());
            if path.is_dir() {
                self = self.with_dir(&name, &path)?;
            } else if path.is_file() {
                self.files.push((name, path));
            }
        }
        self.files.sort();
        Ok(self)
    }

    pub(crate) fn with_salt(mut self, salt: impl Into<String>) -> Self {
        self.salt.push(salt.into());
        self
    }

    /// The first 16 hex digits of a SHA-256 over names, modes and contents.
    pub(crate) fn tag(&self) -> Result<String> {
        let mut hasher = Sha256::new();
        for salt in &self.salt {
            hasher.update(salt.as_bytes());
            hasher.update([0]);
        }
        for (name, path) in &self.files {
            hasher.update(name.as_bytes());
            hasher.update([0]);
            let mut file = std::fs::File::open(path)
                .map_err(|e| Error::io(path, "reading an image input", e))?;
            std::io::copy(&mut file, &mut hasher)
                .map_err(|e| Error::io(path, "reading an image input", e))?;
            hasher.update([u8::from(is_executable(path))]);
        }
        Ok(hex::encode(&hasher.finalize()[..8]))
    }

    /// The context as a tar archive, as the Docker build API takes it.
    pub(crate) fn tar(&self) -> Result<Vec<u8>> {
        let mut builder = tar::Builder::new(Vec::new());
        for (name, path) in &self.files {
            // A plain header per file: the tar crate would write a GNU sparse entry for a file
            // with holes (a linked binary can have them), which Docker's builder rejects.
            let file = std::fs::File::open(path)
                .map_err(|e| Error::io(path, "packing the build context", e))?;
            let metadata = file
                .metadata()
                .map_err(|e| Error::io(path, "packing the build context", e))?;
            let mut header = tar::Header::new_gnu();
            header.set_entry_type(tar::EntryType::Regular);
            header.set_size(metadata.len());
            header.set_mode(if is_executable(path) { 0o755 } else { 0o644 });
            header.set_mtime(0);
            header.set_cksum();
            builder
                .append_data(&mut header, name, file)
                .map_err(|e| Error::io(path, "packing the build context", e))?;
        }
        builder
            .into_inner()
            .map_err(|e| Error::io(".", "packing the build context", e))
    }
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|m| m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::Context;

    #[test]
    fn tag_changes_with_content_and_salt_only() {
        let dir = std::env::temp_dir().join(format!("harness-ctx-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("Dockerfile"), "FROM x\n").unwrap();
        let a = Context::from_dir(&dir).unwrap().tag().unwrap();
        let again = Context::from_dir(&dir).unwrap().tag().unwrap();
        assert_eq!(a, again);
        let salted = Context::from_dir(&dir)
            .unwrap()
            .with_salt("base:1")
            .tag()
            .unwrap();
        assert_ne!(a, salted);
        std::fs::write(dir.join("Dockerfile"), "FROM y\n").unwrap();
        let b = Context::from_dir(&dir).unwrap().tag().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 16);
        let tar = Context::from_dir(&dir).unwrap().tar().unwrap();
        assert!(
            tar.len() >= 1024,
            "a tar with one file has a header and a block"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

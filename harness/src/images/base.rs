//! The offline base image: a Debian bookworm rootfs made with mmdebstrap from the host's own apt
//! sources, imported into Docker. Every service image starts `FROM` it.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use futures::StreamExt;
use testcontainers::bollard::{body_full, query_parameters::CreateImageOptions, Docker};

use super::context::Context;
use crate::error::{Error, Result};

/// mmdebstrap options that shape the rootfs; part of the base image's tag.
const MMDEBSTRAP_OPTIONS: &[&str] = &[
    "--variant=minbase",
    "--dpkgopt=path-exclude=/usr/share/doc/*",
    "--dpkgopt=path-exclude=/usr/share/man/*",
    "--dpkgopt=path-exclude=/usr/share/locale/*",
];
const SUITE: &str = "bookworm";

/// The host's apt sources, which mmdebstrap reads instead of a mirror named here.
fn apt_sources() -> Result<PathBuf> {
    let candidates = [
        "/etc/apt/sources.list.d/debian.sources",
        "/etc/apt/sources.list",
    ];
    candidates
        .iter()
        .map(PathBuf::from)
        .find(|p| std::fs::metadata(p).map(|m| m.len() > 0).unwrap_or(false))
        .ok_or_else(|| Error::MissingTool {
            tool: "apt sources".into(),
            hint: "the base image is made from the host's apt sources; neither \
                   /etc/apt/sources.list.d/debian.sources nor /etc/apt/sources.list exists"
                .into(),
        })
}

/// The packages of `docker/base/packages.txt`, without comments and blank lines.
fn packages(recipe_dir: &Path) -> Result<Vec<String>> {
    let path = recipe_dir.join("packages.txt");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Error::io(&path, "reading the base packages", e))?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect())
}

/// The base image's context for hashing: its recipe, the options and the host's apt sources.
pub(crate) fn context(recipe_dir: &Path) -> Result<Context> {
    Ok(Context::from_dir(recipe_dir)?
        .with_file("apt.sources", apt_sources()?)
        .with_salt(SUITE)
        .with_salt(MMDEBSTRAP_OPTIONS.join(" ")))
}

/// Builds the rootfs with mmdebstrap into `work_dir` and imports it as `image`.
pub(crate) async fn build(
    docker: &Docker,
    recipe_dir: &Path,
    work_dir: &Path,
    image: &str,
) -> Result<()> {
    if which("mmdebstrap").is_none() {
        return Err(Error::MissingTool {
            tool: "mmdebstrap".into(),
            hint: "run `bash scripts/bootstrap` (it installs Debian's mmdebstrap package)".into(),
        });
    }
    std::fs::create_dir_all(work_dir)
        .map_err(|e| Error::io(work_dir, "creating the work folder", e))?;
    let tarball = work_dir.join("base-rootfs.tar");
    let include = format!("--include={}", packages(recipe_dir)?.join(","));
    let sources = apt_sources()?;
    let mut command = tokio::process::Command::new("mmdebstrap");
    command
        .args(MMDEBSTRAP_OPTIONS)
        .arg(&include)
        .arg(SUITE)
        .arg(&tarball)
        .arg(&sources)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    tracing::info!(
        image,
        "building the base rootfs with mmdebstrap (about a minute)"
    );
    let output = command
        .output()
        .await
        .map_err(|e| Error::io("mmdebstrap", "running mmdebstrap", e))?;
    if !output.status.success() {
        return Err(Error::Command {
            command: format!("mmdebstrap {include} {SUITE}"),
            status: output.status.to_string(),
            stderr_tail: tail(&String::from_utf8_lossy(&output.stderr), 20),
        });
    }
    let bytes = tokio::fs::read(&tarball)
        .await
        .map_err(|e| Error::io(&tarball, "reading the rootfs", e))?;
    let (repo, tag) = image.rsplit_once(':').unwrap_or((image, "latest"));
    let options = CreateImageOptions {
        from_src: Some("-".into()),
        repo: Some(repo.into()),
        tag: Some(tag.into()),
        changes: vec![
            "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into(),
            "ENV LANG=C.UTF-8".into(),
            "CMD [\"/bin/bash\"]".into(),
        ],
        ..Default::default()
    };
    let mut stream = docker.create_image(Some(options), Some(body_full(bytes.into())), None);
    while let Some(item) = stream.next().await {
        let info = item.map_err(|e| Error::docker(format!("importing {image}"), e))?;
        if let Some(detail) = info.error_detail.and_then(|d| d.message) {
            return Err(Error::ImageBuild {
                image: image.into(),
                reason: detail,
            });
        }
    }
    let _ = std::fs::remove_file(&tarball);
    Ok(())
}

pub(crate) fn which(tool: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|dir| Path::new(dir).join(tool))
        .find(|p| p.is_file())
}

pub(crate) fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

//! `harness images build`: builds what is missing, in dependency order (binaries, base, services),
//! under a file lock so that concurrent test binaries never build the same image twice.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use futures::StreamExt;
use testcontainers::bollard::{body_full, query_parameters::BuildImageOptions, Docker};

use super::context::Context;
use super::{base, binaries, Manifest, Service};
use crate::error::{Error, Result};

/// The workspace's server binaries that images COPY: (package, binary).
const WORKSPACE_BINS: &[(&str, &str)] = &[
    ("faultproxy", "faultproxy"),
    ("mock-ctp", "mock-ctp"),
    ("engine", "engine"),
];

/// Where the image build finds its inputs and keeps its caches.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// The workspace root (holding `docker/` and the server crates).
    pub workspace: PathBuf,
    /// The cache outside the clone (tansu binary, lock file, rootfs work folder).
    pub cache_dir: PathBuf,
}

impl Default for BuildOptions {
    fn default() -> Self {
        Self {
            workspace: crate::workspace_root(),
            cache_dir: crate::cache_dir(),
        }
    }
}

/// What a build did.
#[derive(Debug, Clone)]
pub struct BuildReport {
    pub manifest: Manifest,
    /// Images built by this call.
    pub built: Vec<String>,
    /// Images that already existed with the same inputs.
    pub reused: Vec<String>,
    pub elapsed: Duration,
}

/// Builds every image whose inputs changed and writes the manifest.
pub async fn build_all(options: &BuildOptions) -> Result<BuildReport> {
    let started = Instant::now();
    let _lock = lock(&options.cache_dir).await?;
    let docker = crate::docker::client().await?;
    let docker_dir = options.workspace.join("docker");
    let bin_dir = binaries::build_workspace_bins(&options.workspace, WORKSPACE_BINS).await?;
    let tansu = binaries::tansu(&options.cache_dir).await?;

    let mut report = BuildReport {
        manifest: Manifest::default(),
        built: vec![],
        reused: vec![],
        elapsed: Duration::ZERO,
    };
    let base_dir = docker_dir.join("base");
    let base_image = format!("harness/base:{}", base::context(&base_dir)?.tag()?);
    if exists(&docker, &base_image).await? {
        report.reused.push(base_image.clone());
    } else {
        base::build(
            &docker,
            &base_dir,
            &options.cache_dir.join("work"),
            &base_image,
        )
        .await?;
        report.built.push(base_image.clone());
    }
    report.manifest.base = base_image.clone();

    for service in Service::ALL {
        let dir = docker_dir.join(service.name());
        let mut context = Context::from_dir(&dir)?.with_salt(base_image.as_str());
        context = match service {
            Service::Kafka => context.with_file("tansu", tansu.clone()),
            Service::FaultProxy => context.with_file("faultproxy", bin_dir.join("faultproxy")),
            Service::MockCtp => context
                .with_file("mock-ctp", bin_dir.join("mock-ctp"))
                .with_dir("fixtures", &options.workspace.join("fixtures"))?,
            Service::Engine => context
                .with_file("engine", bin_dir.join("engine"))
                .with_dir("fixtures", &options.workspace.join("fixtures"))?,
            Service::Postgres | Service::Redis => context,
        };
        let image = format!("{}:{}", service.repository(), context.tag()?);
        if exists(&docker, &image).await? {
            report.reused.push(image.clone());
        } else {
            tracing::info!(%image, "building");
            build_one(&docker, &context, &image, &base_image).await?;
            report.built.push(image.clone());
        }
        report.manifest.images.insert(service, image);
    }
    report.manifest.save(&options.workspace)?;
    report.elapsed = started.elapsed();
    Ok(report)
}

async fn exists(docker: &Docker, image: &str) -> Result<bool> {
    match docker.inspect_image(image).await {
        Ok(_) => Ok(true),
        Err(testcontainers::bollard::errors::Error::DockerResponseServerError {
            status_code: 404,
            ..
        }) => Ok(false),
        Err(e) => Err(Error::docker(format!("inspecting image {image}"), e)),
    }
}

async fn build_one(
    docker: &Docker,
    context: &Context,
    image: &str,
    base_image: &str,
) -> Result<()> {
    let tar = context.tar()?;
    let options = BuildImageOptions {
        dockerfile: "Dockerfile".into(),
        t: Some(image.into()),
        rm: true,
        forcerm: true,
        buildargs: Some(HashMap::from([
            ("BASE".to_string(), base_image.to_string()),
            ("VERSION".to_string(), version_of(image).to_string()),
        ])),
        labels: Some(HashMap::from([
            ("harness.image".to_string(), "true".to_string()),
            (
                "org.opencontainers.image.version".to_string(),
                version_of(image).to_string(),
            ),
        ])),
        ..Default::default()
    };
    let mut stream = docker.build_image(options, None, Some(body_full(tar.into())));
    let mut log = String::new();
    while let Some(item) = stream.next().await {
        let info = item.map_err(|e| Error::ImageBuild {
            image: image.into(),
            reason: format!("{e}\n{}", base::tail(&log, 20)),
        })?;
        if let Some(line) = info.stream {
            log.push_str(&line);
        }
        if let Some(error) = info.error_detail.and_then(|d| d.message) {
            return Err(Error::ImageBuild {
                image: image.into(),
                reason: format!("{error}\n{}", base::tail(&log, 20)),
            });
        }
    }
    Ok(())
}

/// An image's version: its tag (a content hash of its inputs), `harness/engine:0a1b2c` → `0a1b2c`.
pub(crate) fn version_of(image: &str) -> &str {
    image
        .rsplit_once(':')
        .filter(|(_, tag)| !tag.contains('/'))
        .map_or("latest", |(_, tag)| tag)
}

/// An exclusive lock on the image cache, held until dropped.
async fn lock(cache_dir: &Path) -> Result<std::fs::File> {
    std::fs::create_dir_all(cache_dir)
        .map_err(|e| Error::io(cache_dir, "creating the cache folder", e))?;
    let path = cache_dir.join("images.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| Error::io(&path, "opening the image build lock", e))?;
    tokio::task::spawn_blocking(move || fs2::FileExt::lock_exclusive(&file).map(|()| file))
        .await
        .expect("the lock task never panics")
        .map_err(|e| Error::io(path, "locking the image build", e))
}

/// Removes every image this harness built (base and services); returns how many.
pub async fn remove_built() -> Result<usize> {
    use testcontainers::bollard::query_parameters::{ListImagesOptions, RemoveImageOptions};
    let docker = crate::docker::client().await?;
    let images = docker
        .list_images(Some(ListImagesOptions {
            all: false,
            ..Default::default()
        }))
        .await
        .map_err(|e| Error::docker("listing images", e))?;
    let mut removed = 0;
    for image in images {
        for tag in image.repo_tags.iter().filter(|t| t.starts_with("harness/")) {
            docker
                .remove_image(
                    tag,
                    Some(RemoveImageOptions {
                        force: true,
                        ..Default::default()
                    }),
                    None,
                )
                .await
                .map_err(|e| Error::docker(format!("removing image {tag}"), e))?;
            removed += 1;
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::version_of;

    #[rstest::rstest]
    #[case::content_tag("harness/engine:0a1b2c3d", "0a1b2c3d")]
    #[case::registry_port_without_tag("registry.local:5000/engine", "latest")]
    #[case::registry_port_and_tag("registry.local:5000/engine:1.4.2", "1.4.2")]
    #[case::no_tag("engine", "latest")]
    fn an_images_version_is_its_tag(#[case] image: &str, #[case] version: &str) {
        assert_eq!(version_of(image), version);
    }
}

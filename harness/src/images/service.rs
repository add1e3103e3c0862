//! The services whose images the harness builds, and what goes into each image.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A service of the platform under test that runs from an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Service {
    Postgres,
    Redis,
    Kafka,
    FaultProxy,
    MockCtp,
    Engine,
}

impl Service {
    /// Every service, in a stable order.
    pub const ALL: [Service; 6] = [
        Service::Postgres,
        Service::Redis,
        Service::Kafka,
        Service::FaultProxy,
        Service::MockCtp,
        Service::Engine,
    ];

    /// The short name used in image names, container names, logs and errors.
    pub fn name(self) -> &'static str {
        match self {
            Service::Postgres => "postgres",
            Service::Redis => "redis",
            Service::Kafka => "kafka",
            Service::FaultProxy => "faultproxy",
            Service::MockCtp => "mock-ctp",
            Service::Engine => "engine",
        }
    }

    /// The environment variable that overrides this service's image (e.g. with `postgres:16`).
    pub fn override_var(self) -> String {
        format!(
            "HARNESS_IMAGE_{}",
            self.name().replace('-', "_").to_uppercase()
        )
    }

    /// The repository name of the locally built image.
    pub fn repository(self) -> String {
        format!("harness/{}", self.name())
    }

    /// Parses a service name as the CLI and configuration spell it.
    pub fn parse(name: &str) -> Option<Service> {
        Service::ALL.into_iter().find(|s| s.name() == name)
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

//! Datacenters, the roles of the services inside them, and the replication mode of the line
//! between them. Roles are typed (`dc2/postgres`), parsed from text with an error that names
//! what was wrong, and map onto container names so that a single-datacenter platform keeps the
//! names it always had (`postgres`, `engine`) and the second datacenter's carry its prefix
//! (`dc2-postgres`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::images::Service;

/// One of the platform's two datacenters: `dc1` is the primary site, `dc2` the DR site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dc {
    Dc1,
    Dc2,
}

impl Dc {
    pub const ALL: [Dc; 2] = [Dc::Dc1, Dc::Dc2];

    pub fn as_str(self) -> &'static str {
        match self {
            Dc::Dc1 => "dc1",
            Dc::Dc2 => "dc2",
        }
    }

    /// The other datacenter.
    pub fn peer(self) -> Dc {
        match self {
            Dc::Dc1 => Dc::Dc2,
            Dc::Dc2 => Dc::Dc1,
        }
    }

    /// The prefix of this datacenter's container role names: none for dc1 (the names a
    /// single-datacenter platform has always had), `dc2-` for dc2.
    pub(crate) fn role_name(self, service: &str) -> String {
        match self {
            Dc::Dc1 => service.to_string(),
            Dc::Dc2 => format!("dc2-{service}"),
        }
    }
}

impl fmt::Display for Dc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Dc {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        match text {
            "dc1" => Ok(Dc::Dc1),
            "dc2" => Ok(Dc::Dc2),
            other => Err(Error::config(
                "datacenter",
                format!("{other:?} is not a datacenter: dc1 or dc2"),
            )),
        }
    }
}

/// A service inside one datacenter, e.g. `dc2/postgres`. The mock CTP front is outside every
/// datacenter and the inter-DC line is between them, so neither is a `Role`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Role {
    pub dc: Dc,
    pub service: Service,
}

/// The container roles of every service a datacenter runs (its fault proxy, PostgreSQL,
/// Redis, Kafka and engine), whether or not a platform started them all.
pub(crate) fn site_roles(dc: Dc) -> Vec<String> {
    [
        Service::Engine,
        Service::Kafka,
        Service::Redis,
        Service::Postgres,
        Service::FaultProxy,
    ]
    .into_iter()
    .map(|service| Role::new(dc, service).container_role())
    .collect()
}

impl Role {
    pub fn new(dc: Dc, service: Service) -> Self {
        Self { dc, service }
    }

    /// The role's name in container names, labels and `Platform::services` (`postgres`,
    /// `dc2-engine`, …).
    pub fn container_role(self) -> String {
        self.dc.role_name(self.service.name())
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.dc, self.service.name())
    }
}

impl FromStr for Role {
    type Err = Error;

    /// `dc2/postgres`, or a bare `postgres` for dc1 (the only datacenter of a single-DC
    /// platform).
    fn from_str(text: &str) -> Result<Self, Error> {
        let (dc, service) = match text.split_once('/') {
            Some((dc, service)) => (dc.parse()?, service),
            None => (Dc::Dc1, text),
        };
        let service = Service::ALL
            .into_iter()
            .find(|s| s.name() == service)
            .ok_or_else(|| {
                Error::config(
                    "role",
                    format!(
                        "{text:?} names no service: postgres, redis, kafka, faultproxy or engine, \
                         optionally after dc1/ or dc2/"
                    ),
                )
            })?;
        if service == Service::MockCtp {
            return Err(Error::config(
                "role",
                format!(
                    "{text:?}: the mock CTP front is outside every datacenter; name it mock-ctp"
                ),
            ));
        }
        Ok(Role { dc, service })
    }
}

/// How the dc1 primary replicates to the dc2 standby across the inter-DC line.
///
/// `sync` sets `synchronous_standby_names` to the standby and `synchronous_commit =
/// remote_apply`: a commit returns only once the standby has replayed it, so every
/// acknowledged order is already visible on dc2 when the client hears of it. `on` (remote
/// flush) would give the same RPO = 0 after a promotion, but an order read on the standby
/// right after its acknowledgement could still be missing, and the harness's RPO meter and the
/// planned switchover's catch-up read the standby directly: `remote_apply` makes "acknowledged
/// implies on dc2" true at every instant, for the price of the standby's replay in each
/// commit. `async` commits locally and streams afterwards: a lost primary loses what had not
/// crossed the line yet (RPO > 0), which is what the DR drills must be able to measure.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Replication {
    #[default]
    Sync,
    Async,
}

impl Replication {
    pub fn as_str(self) -> &'static str {
        match self {
            Replication::Sync => "sync",
            Replication::Async => "async",
        }
    }
}

impl fmt::Display for Replication {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Replication {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        match text {
            "sync" => Ok(Replication::Sync),
            "async" => Ok(Replication::Async),
            other => Err(Error::config(
                "replication",
                format!("{other:?} is not a replication mode: sync or async"),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    #[rstest]
    #[case::bare_name_is_dc1("postgres", Dc::Dc1, Service::Postgres)]
    #[case::dc1_engine("dc1/engine", Dc::Dc1, Service::Engine)]
    #[case::dc2_kafka("dc2/kafka", Dc::Dc2, Service::Kafka)]
    #[case::dc2_proxy("dc2/faultproxy", Dc::Dc2, Service::FaultProxy)]
    fn parses_roles(#[case] text: &str, #[case] dc: Dc, #[case] service: Service) {
        let role: Role = text.parse().unwrap();
        assert_eq!(role, Role::new(dc, service));
        assert_eq!(role.to_string().parse::<Role>().unwrap(), role);
    }

    #[rstest]
    #[case::unknown_datacenter("dc3/postgres", "datacenter", "dc3")]
    #[case::unknown_service("dc2/mysql", "role", "mysql")]
    #[case::empty_service("dc1/", "role", "dc1/")]
    #[case::mock_front_is_outside("dc2/mock-ctp", "role", "outside every datacenter")]
    #[case::upper_case_datacenter("DC2/postgres", "datacenter", "DC2")]
    fn refuses_bad_roles(#[case] text: &str, #[case] field: &str, #[case] says: &str) {
        let err = text.parse::<Role>().unwrap_err();
        let Error::Config {
            field: named,
            reason,
        } = &err
        else {
            panic!("expected a config error, got {err}")
        };
        assert_eq!(named, field);
        assert!(reason.contains(says), "{reason}");
    }

    #[rstest]
    #[case::semi_sync("semi")]
    #[case::upper_case("SYNC")]
    #[case::postgres_word("remote_apply")]
    #[case::empty("")]
    fn refuses_unknown_replication_modes(#[case] text: &str) {
        let err = text.parse::<Replication>().unwrap_err();
        let Error::Config { field, reason } = &err else {
            panic!("expected a config error, got {err}")
        };
        assert_eq!(field, "replication");
        assert!(reason.contains("sync or async"), "{reason}");
    }

    #[test]
    fn container_roles_keep_single_dc_names() {
        assert_eq!(
            Role::new(Dc::Dc1, Service::Engine).container_role(),
            "engine"
        );
        assert_eq!(
            Role::new(Dc::Dc2, Service::Postgres).container_role(),
            "dc2-postgres"
        );
    }
}

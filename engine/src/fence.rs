//! Site fencing: at most one datacenter acknowledges, routes or applies anything at a time.
//!
//! The fencing token is `(site, epoch)` in the `site_fence` row of each site's PostgreSQL. A
//! site's first active engine writes `(its site, 1)`; promotion takes `max(every epoch it can
//! read) + 1` for its own site in its (just promoted) database. Every engine of a site serves
//! under its site's token, so several instances of the active site may serve at once (an
//! upgrade); the token is per site, not per process.
//!
//! An engine reads the peers' rows (`FENCE_PEER_URLS`, the other datacenters' PostgreSQL over
//! the inter-DC line): before it turns active at start (before its first write, which under
//! synchronous replication would wait for a standby that may have been promoted away), and
//! every [`WATCH_INTERVAL`] while active. A peer holding a higher epoch fences it: it refuses
//! every order, routes nothing, applies no return and relays nothing, until it is rebuilt as a
//! standby of the new primary. `contract/ENGINE_CONTRACT.md` gives the failure cases.

use std::str::FromStr;
use std::time::Duration;

use tokio_postgres::NoTls;

use crate::db::Pg;
use crate::error::EngineError;

/// How often an active engine reads its peers' fences.
pub const WATCH_INTERVAL: Duration = Duration::from_secs(1);
/// How long one read of a peer's fence may take before the peer counts as unreachable.
const PEER_TIMEOUT: Duration = Duration::from_secs(2);

/// One site's fencing token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub site: String,
    pub epoch: i64,
}

impl std::fmt::Display for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} at epoch {}", self.site, self.epoch)
    }
}

const READ: &str = "SELECT site, epoch FROM site_fence WHERE id = 1";

fn missing_table(e: &tokio_postgres::Error) -> bool {
    e.code() == Some(&tokio_postgres::error::SqlState::UNDEFINED_TABLE)
}

/// The token in `pg`'s database; `None` if no engine has written one (or no schema yet).
pub async fn read(pg: &mut Pg) -> Result<Option<Token>, EngineError> {
    let c = pg.get().await?;
    match c.query_opt(READ, &[]).await {
        Ok(row) => Ok(row.map(|r| Token {
            site: r.get(0),
            epoch: r.get(1),
        })),
        Err(e) if missing_table(&e) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The token of the peer at `url`; `None` if it has none or cannot be read in time (the
/// reason is logged).
async fn read_peer(url: &str) -> Option<Token> {
    let read = async {
        let config = tokio_postgres::Config::from_str(url).ok()?;
        let (client, conn) = config.connect(NoTls).await.ok()?;
        let task = tokio::spawn(conn);
        let row = client.query_opt(READ, &[]).await;
        task.abort();
        match row {
            Ok(row) => row.map(|r| Token {
                site: r.get(0),
                epoch: r.get(1),
            }),
            Err(e) if missing_table(&e) => None,
            Err(e) => {
                tracing::debug!(error = %e, "peer fence unreadable");
                None
            }
        }
    };
    tokio::time::timeout(PEER_TIMEOUT, read)
        .await
        .ok()
        .flatten()
}

/// Every peer's token that could be read now.
pub async fn peers(urls: &[String]) -> Vec<Token> {
    let reads = urls.iter().map(|u| read_peer(u));
    futures::future::join_all(reads)
        .await
        .into_iter()
        .flatten()
        .collect()
}

impl Token {
    /// Tokens are ordered by epoch, then by site: two promotions that took the same epoch
    /// while cut off from each other (two sites promoted by mistake) are still ordered, so
    /// once they read each other exactly one site serves (a ballot number's rule).
    fn rank(&self) -> (i64, &str) {
        (self.epoch, &self.site)
    }
}

/// Why `site` may not serve under `own` given what the peers hold, or `None` if it may.
pub fn superseded_by(site: &str, own: Option<&Token>, peers: &[Token]) -> Option<Token> {
    if let Some(own) = own {
        if own.site != site {
            return Some(own.clone());
        }
    }
    let rank = (own.map_or(0, |t| t.epoch), site);
    peers
        .iter()
        .filter(|p| p.site != site && p.rank() > rank)
        .max_by(|a, b| a.rank().cmp(&b.rank()))
        .cloned()
}

/// The token a promotion takes: one above every epoch it can see.
pub fn next(site: &str, own: Option<&Token>, peers: &[Token]) -> Token {
    let seen = own
        .into_iter()
        .chain(peers)
        .map(|t| t.epoch)
        .max()
        .unwrap_or(0);
    Token {
        site: site.into(),
        epoch: seen + 1,
    }
}

/// Writes `token` as the database's fence (a promotion, or a site's first active start).
pub async fn write(pg: &mut Pg, token: &Token) -> Result<(), EngineError> {
    pg.get()
        .await?
        .execute(
            "INSERT INTO site_fence (id, site, epoch) VALUES (1, $1, $2) \
             ON CONFLICT (id) DO UPDATE SET site = $1, epoch = $2, taken_at = now()",
            &[&token.site, &token.epoch],
        )
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(site: &str, epoch: i64) -> Token {
        Token {
            site: site.into(),
            epoch,
        }
    }

    #[test]
    fn a_site_under_its_own_token_with_peers_behind_or_level_serves() {
        assert_eq!(
            superseded_by("dc1", Some(&t("dc1", 1)), &[t("dc1", 1)]),
            None
        );
        assert_eq!(superseded_by("dc1", None, &[]), None);
        assert_eq!(
            superseded_by("dc2", Some(&t("dc2", 3)), &[t("dc1", 2)]),
            None
        );
    }

    #[test]
    fn a_peer_with_a_higher_epoch_fences() {
        assert_eq!(
            superseded_by("dc1", Some(&t("dc1", 1)), &[t("dc2", 2)]),
            Some(t("dc2", 2))
        );
        assert_eq!(
            superseded_by("dc1", None, &[t("dc2", 1)]),
            Some(t("dc2", 1))
        );
    }

    #[test]
    fn of_two_sites_promoted_to_the_same_epoch_exactly_one_serves() {
        assert_eq!(
            superseded_by("dc1", Some(&t("dc1", 2)), &[t("dc2", 2)]),
            Some(t("dc2", 2))
        );
        assert_eq!(
            superseded_by("dc2", Some(&t("dc2", 2)), &[t("dc1", 2)]),
            None
        );
    }

    #[test]
    fn a_higher_epoch_wins_whatever_the_sites_names() {
        assert_eq!(
            superseded_by("dc2", Some(&t("dc2", 2)), &[t("dc1", 3)]),
            Some(t("dc1", 3))
        );
    }

    #[test]
    fn a_database_naming_another_site_fences() {
        assert_eq!(
            superseded_by("dc1", Some(&t("dc2", 2)), &[]),
            Some(t("dc2", 2))
        );
    }

    #[test]
    fn promotion_takes_one_above_everything_seen() {
        assert_eq!(next("dc2", Some(&t("dc1", 1)), &[]), t("dc2", 2));
        assert_eq!(next("dc1", Some(&t("dc1", 2)), &[t("dc2", 5)]), t("dc1", 6));
        assert_eq!(next("dc1", None, &[]), t("dc1", 1));
    }
}

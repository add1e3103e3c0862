//! Real-container tests of the two-datacenter topology: both sites start with their own
//! networks, dc2's PostgreSQL streams from dc1's across the inter-DC line, `sync` holds each
//! commit until dc2 has applied it while `async` does not, dc2's engine is a standby that takes
//! no order until promoted, once dc2 is promoted dc1 acknowledges nothing (alive or restarted:
//! the site fence), and nothing is left behind, also after a SIGINT mid-start. Needs the images
//! (`cargo run -p harness -- images build`).
//!
//! Each test takes the whole machine (`.config/nextest.toml`; run it with `cargo nextest run`
//! or `scripts/stage integration`): a two-datacenter platform is twelve containers with two
//! Kafka brokers, and two of them starting at once on two cores would measure the machine, not
//! the platform.

mod cleanup;
mod datacenter_loss;
mod fencing;
mod replication;
mod router;
mod standby_site;

use std::time::Duration;

use harness::platform::resources_of_run;
use harness::{Platform, Topology};

/// Two Kafka brokers and a base backup start on two cores: more than one site's 60 s.
const READY: Duration = Duration::from_secs(120);

/// Starts `topology`.
async fn start(topology: Topology) -> Platform {
    Platform::builder()
        .topology(topology)
        .readiness_timeout(READY)
        .start()
        .await
        .expect("the two-datacenter platform starts")
}

/// Shuts `platform` down and asserts that nothing of its run is left.
async fn shutdown_leaves_nothing(platform: Platform) {
    let run = platform.run_id().to_string();
    platform.shutdown().await.expect("the platform shuts down");
    let left = resources_of_run(&run).await.unwrap();
    assert!(left.is_empty(), "the shutdown left {left:?}");
}

/// A connected tokio-postgres client (its connection driven by a task).
async fn connect(conn: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(conn, tokio_postgres::NoTls)
        .await
        .expect("PostgreSQL answers");
    tokio::spawn(connection);
    client
}

/// The rows of `probe` with `id` on the database of `client`.
async fn probe_rows(client: &tokio_postgres::Client, id: i64) -> i64 {
    client
        .query_one("SELECT count(*) FROM dr_probe WHERE id = $1", &[&id])
        .await
        .expect("dr_probe reads")
        .get(0)
}

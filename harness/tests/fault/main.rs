//! Real-container tests of the fault catalogue (`harness::fault`): one platform with the
//! engine for the whole binary, and one module per fault class. The cases run one after the
//! other (faults on one platform must not overlap), each caught on its own so that every
//! failure is reported by name; after each, the runner checks that no toxic is left on the
//! proxy and every link is up. They need the images (`cargo run -p harness -- images build`).

mod bad_input;
mod exchange;
mod network;
mod panic;
mod partition;
mod process;
mod schedule;

use std::future::Future;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::time::{Duration, Instant};

use futures::FutureExt;
use harness::fault::ToxiproxyClient;
use harness::{Platform, Topology};

type CaseFuture<'a> = Pin<Box<dyn Future<Output = anyhow::Result<()>> + 'a>>;
type Case = for<'a> fn(&'a Platform) -> CaseFuture<'a>;

macro_rules! case {
    ($f:path) => {
        (stringify!($f), (|p| Box::pin($f(p))) as Case)
    };
}

/// One Redis PING's round trip on a fresh connection to `addr`, within `wait`.
pub async fn redis_ping(addr: SocketAddr, wait: Duration) -> anyhow::Result<Duration> {
    let client = redis::Client::open(format!("redis://{addr}/"))?;
    let work = async {
        let mut conn = client.get_multiplexed_async_connection().await?;
        let started = Instant::now();
        let pong: String = redis::cmd("PING").query_async(&mut conn).await?;
        anyhow::ensure!(pong == "PONG", "PING answered {pong}");
        Ok(started.elapsed())
    };
    tokio::time::timeout(wait, work)
        .await
        .map_err(|_| anyhow::anyhow!("no PONG from {addr} within {wait:?}"))?
}

/// The median of five PING round trips.
pub async fn median_ping(addr: SocketAddr) -> anyhow::Result<Duration> {
    let mut samples = Vec::new();
    for _ in 0..5 {
        samples.push(redis_ping(addr, Duration::from_secs(5)).await?);
    }
    samples.sort();
    Ok(samples[2])
}

/// No toxic on any link, and every link enabled.
pub async fn proxy_is_clean(platform: &Platform) -> anyhow::Result<()> {
    let proxies = ToxiproxyClient::new(&platform.endpoints().faultproxy_api)
        .proxies()
        .await?;
    for (name, proxy) in proxies {
        anyhow::ensure!(
            proxy.toxics.is_empty(),
            "link {name} keeps {:?}",
            proxy.toxics
        );
        anyhow::ensure!(proxy.enabled, "link {name} is left down");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_fault_catalogue_on_one_platform() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "harness=info".into()),
        )
        .with_test_writer()
        .try_init();
    let started = Instant::now();
    let platform = Platform::builder()
        .topology(Topology::single_dc().with_engine())
        .start()
        .await
        .expect("the platform with the engine starts");
    eprintln!("platform up in {:?}", started.elapsed());
    let cases: Vec<(&str, Case)> = vec![
        case!(bad_input::unknown_link_and_service_are_named_with_the_known_ones),
        case!(bad_input::an_invalid_attribute_is_named),
        case!(bad_input::a_fault_that_cannot_be_applied_is_an_error_and_nothing_stays_active),
        case!(network::latency_raises_the_round_trip_and_heal_restores_it),
        case!(network::reset_peer_resets_connections),
        case!(network::down_refuses_and_heal_reopens),
        case!(network::limit_data_closes_after_the_limit),
        case!(network::timeout_blackholes_the_link),
        case!(network::bandwidth_slicer_and_a_composition_inject_and_heal),
        case!(exchange::delayed_returns_and_rejects_show_on_the_front_and_heal),
        case!(exchange::front_disconnect_with_a_reason_closes_the_engine_session),
        case!(schedule::a_schedule_plays_and_records_its_fault_windows),
        case!(schedule::a_schedule_naming_an_unknown_service_injects_nothing),
        case!(panic::heal_all_runs_after_a_panic_in_the_test_body),
        case!(partition::partition_cuts_the_service_and_heal_keeps_its_address),
        case!(process::pause_freezes_and_resume_answers),
        case!(process::kill_9_postgres_then_restart_with_the_same_address),
        case!(process::kill_9_engine_then_restart_ready_with_the_same_address),
    ];
    let mut failures = Vec::new();
    for (name, case) in cases {
        let took = Instant::now();
        let outcome = AssertUnwindSafe(case(&platform)).catch_unwind().await;
        let outcome = match outcome {
            Ok(Ok(())) => proxy_is_clean(&platform).await,
            Ok(Err(e)) => Err(e),
            Err(panic) => Err(anyhow::anyhow!(
                "panicked: {}",
                panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default()
            )),
        };
        match outcome {
            Ok(()) => eprintln!("ok   {name} ({:?})", took.elapsed()),
            Err(e) => {
                eprintln!("FAIL {name}: {e:#}");
                failures.push(format!("{name}: {e:#}"));
            }
        }
    }
    platform.shutdown().await.expect("the platform is removed");
    eprintln!("binary done in {:?}", started.elapsed());
    assert!(
        failures.is_empty(),
        "failed cases:\n{}",
        failures.join("\n")
    );
}

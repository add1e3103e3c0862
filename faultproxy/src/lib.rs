//! faultproxy: a TCP fault proxy that serves the Toxiproxy 2.x HTTP API.
//!
//! The harness injects network faults on every link of the platform under test (engine to
//! postgres, redis, kafka, the CTP fronts) through this API. Shopify's Go server cannot be
//! built where the project is built, so this is a server of the same API that existing
//! Toxiproxy clients (`noxious-client`, `toxiproxy_rust`) drive unchanged, with one thing
//! Toxiproxy lacks: every random choice (toxicity, jitter, slice sizes) comes from one seed,
//! so a chaos run that failed can be replayed.
//!
//! ```no_run
//! # async fn run() -> Result<(), faultproxy::Error> {
//! let server = faultproxy::Server::bind("127.0.0.1:0".parse().unwrap(), 42).await?;
//! let api = server.url(); // give this to a Toxiproxy client
//! # drop(api);
//! server.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! Layout: `api` (HTTP handlers) over `registry` (the proxies and their operations) over
//! `proxy` (one proxy's listener and toxics) over `link` (one connection and its two pumps)
//! and `toxic` (the toxics, one file per type). `rng` derives the seeded random streams.
//!
//! Known gaps: see `link::pump` (a blocked write delays toxic changes on that link).

mod api;
mod error;
mod link;
mod proxy;
mod registry;
mod rng;
mod server;
mod toxic;

pub use error::Error;
pub use proxy::{ProxyConfig, ProxyView};
pub use rng::seed_from_time;
pub use server::Server;
pub use toxic::{Stream, Toxic, ToxicKind, ToxicView};

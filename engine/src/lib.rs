//! The reference trading engine: gRPC order entry, pre-trade risk, durable group commit before
//! acknowledgement, routing to the CTP front exactly once (OrderRef persisted before the
//! request; reconciliation, never a blind re-send, after a reconnect or restart), private-flow
//! returns applied in one transaction each with the flow position and the outbox, an outbox
//! relay to Kafka, positions cached in Redis, market data for the price band, graceful
//! shutdown within 30 s, and a standby role. `contract/ENGINE_CONTRACT.md` is its contract.
//!
//! Known gaps: one CTP investor per engine; no order amendment; no P&L or fees (the mock
//! exchange models none); the book holds the trading day in memory.

pub mod book;
pub mod cache;
pub mod committer;
pub mod config;
pub mod convert;
pub mod ctp;
pub mod db;
pub mod engine;
pub mod error;
pub mod fence;
pub mod grpc;
pub mod http;
pub mod md;
pub mod metrics;
pub mod order_state;
pub mod outbox;
pub mod persist;
pub mod refusal;
pub mod returns;
pub mod risk;
pub mod router;
pub mod run;
pub mod validate;

pub use config::Config;
pub use error::{ConfigError, EngineError};

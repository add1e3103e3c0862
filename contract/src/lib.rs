//! The contract between the harness and any trading engine under test: the gRPC order-entry
//! types (generated from `proto/trading.proto` with protox, so no `protoc` is needed), the
//! PostgreSQL schema, the Kafka event schemas and the fixture seed. `ENGINE_CONTRACT.md`
//! states the rest (environment, HTTP endpoints, guarantees).
//!
//! Known gaps: no schema migrations beyond `IF NOT EXISTS` (a changed column needs a new
//! table or a manual migration); events are JSON, not a registry-backed schema.

pub mod error;
pub mod events;
pub mod fixtures;
pub mod model;

pub use error::ContractError;

/// The engine's tables, idempotent (`IF NOT EXISTS`): apply it at every start.
pub const SCHEMA_SQL: &str = include_str!("../schema.sql");

/// The generated gRPC types and client/server of `trading.v1`.
pub mod trading {
    pub mod v1 {
        #![allow(clippy::all, missing_docs)]
        tonic::include_proto!("trading.v1");
    }
}

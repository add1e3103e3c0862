//! The mock CTP front: a simulated exchange gateway that speaks a documented protocol mirroring
//! CTP's requests and callbacks field for field (see `PROTOCOL.md`), for the harness to test a
//! trading engine against, including the failures that lose orders in production.
//!
//! - [`protocol`]: messages and the length-prefixed JSON codec, shared by both sides.
//! - [`exchange`]: instruments, accounts, matching, private flows and the record.
//! - [`server`]: the trade and market-data fronts and the admin HTTP API.
//! - [`client`]: the async client library an engine uses (`TraderClient`, `MdClient`).
//!
//! Known gaps are listed in each module's documentation and in `PROTOCOL.md`.

pub mod client;
pub mod clock;
pub mod error;
pub mod exchange;
pub mod protocol;
pub mod server;

pub use error::{ClientError, CodecError, FrameError, ServerError};

//! The running mock: trade front, market-data front and admin API on three listeners, plus the
//! matching driver and the market-data replay.

pub mod admin;
pub mod conn;
pub mod flow_log;
pub mod md_front;
pub mod md_replay;
pub mod mock_server;
pub mod session;
pub mod shared;

pub use flow_log::{FlowLog, FlowMark};
pub use mock_server::{MockServer, MockServerBuilder};
pub use shared::{Control, FrontConfig, SessionInfo, Shared};

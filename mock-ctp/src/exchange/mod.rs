//! The simulated exchange behind the fronts: instruments, accounts, matching, private flows and
//! the record.

pub mod accounts;
pub mod core;
pub mod flow_control;
pub mod instruments;
pub mod matching;
pub mod ops;
pub mod private_flow;
pub mod record;
pub mod sessions;

pub use self::core::{Exchange, ExchangeConfig, RejectFault, SessionCtx};
pub use instruments::{InstrumentSpec, MatchingModel};
pub use record::{Record, RecordedDisconnect, RecordedOrder, RecordedTrade};

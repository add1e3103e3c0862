//! The async client library an engine uses in place of CTP's C++ API (see PROTOCOL.md).

pub mod conn;
pub mod events;
pub mod md;
pub mod trader;
mod trader_task;

pub use conn::ClientConfig;
pub use events::{Events, MdEvent, MdEvents, TraderEvent, TraderEvents};
pub use md::MdClient;
pub use trader::{TraderClient, TraderClientBuilder};

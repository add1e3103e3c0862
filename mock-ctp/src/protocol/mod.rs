//! The wire protocol shared by the fronts and the client library (see PROTOCOL.md).

pub mod codec;
pub mod fields;
pub mod md_fields;
pub mod messages;
pub mod types;

pub use codec::CtpCodec;
pub use fields::*;
pub use md_fields::*;
pub use messages::*;
pub use types::*;

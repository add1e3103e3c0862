//! Links: one proxied TCP connection (`connection`), each of its two directions pumped
//! through that direction's toxics (`pump`, `chain`), over shared references to the sockets
//! (`sock`) so that the connection can still set SO_LINGER on them after the pumps stop.

pub(crate) mod chain;
pub(crate) mod connection;
pub(crate) mod pump;
pub(crate) mod sock;

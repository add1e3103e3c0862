//! Integration tests: the server in-process on loopback, an echo upstream, and the two
//! existing Toxiproxy client crates driving it unchanged (`noxious_client` async,
//! `toxiproxy_rust` blocking), plus raw HTTP for the error shapes and the toxics the clients
//! cannot express (reset_peer, slicer), and hostile clients that must not disturb another.

mod api;
mod common;
mod determinism;
mod hostile;
mod noxious;
mod toxiproxy_rust_client;

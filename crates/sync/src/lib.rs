//! How workstations and the branch server talk. No Tauri and no server framework in here: the
//! desktop app, the branch server and the tests share these types and checks.
//!
//! - [`protocol`]: the wire types of enrolment, push, pull, checkpoints and proofs.
//! - [`merkle`]: the RFC 6962 Merkle log's hashing and proofs (inclusion, consistency).
//! - [`auth`]: device-bound access tokens with proof of possession (after RFC 9449 DPoP).
//! - [`tls`]: the server's self-made certificate and the workstation's pinned TLS client.
//! - [`client`]: the workstation side of enrolment and sync.

pub mod auth;
pub mod client;
pub mod merkle;
pub mod protocol;
pub mod tls;

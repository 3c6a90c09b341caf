//! The facade against the emulator over loopback.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod analysis;
mod common;
mod config;
mod images;
mod locations;
mod platforms;
mod services;
mod user_agent;

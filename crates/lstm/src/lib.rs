//! # zoo-lstm
//!
//! The seed LSTM ([`model::LstmNet`]: `LSTM(input, hidden 32) → last step → Linear`, with
//! stacked, bidirectional and forget-bias options) and [`cell::SeedLstmCell`], one LSTM cell
//! written from the seed's gate equations and tested against Burn's `nn::Lstm`.

pub mod cell;
pub mod fused;
pub mod model;

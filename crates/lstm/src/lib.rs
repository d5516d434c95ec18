//! zoo-lstm

//! zoo-rnn

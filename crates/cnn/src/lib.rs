//! zoo-cnn

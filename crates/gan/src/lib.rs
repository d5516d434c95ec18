//! zoo-gan

//! A process-wide setting per backend type: how the zoo's generic code learns, at run time,
//! that a backend has a faster path (the fused recurrent operation of [`crate::recurrent`],
//! the CNN's native convolution in `zoo_cnn::conv`). The binaries set it once per dispatch;
//! model code reads it on every call, so reads take a shared lock only.

use std::any::TypeId;
use std::collections::HashMap;
use std::sync::{OnceLock, RwLock};

/// A value per type, for use in a `static`.
pub struct PerBackend<V> {
    map: OnceLock<RwLock<HashMap<TypeId, V>>>,
}

impl<V: Copy> PerBackend<V> {
    /// Empty: no type has a value.
    pub const fn new() -> Self {
        Self {
            map: OnceLock::new(),
        }
    }

    fn map(&self) -> &RwLock<HashMap<TypeId, V>> {
        self.map.get_or_init(Default::default)
    }

    /// Gives `B` the value (`Some`) or takes it away (`None`).
    pub fn set<B: 'static>(&self, value: Option<V>) {
        // A poisoned lock means a panic elsewhere mid-update of a plain map; its contents
        // are still whole, so keep using it.
        let mut map = self.map().write().unwrap_or_else(|e| e.into_inner());
        match value {
            Some(v) => map.insert(TypeId::of::<B>(), v),
            None => map.remove(&TypeId::of::<B>()),
        };
    }

    /// `B`'s value, if it has one.
    pub fn get<B: 'static>(&self) -> Option<V> {
        let map = self.map().read().unwrap_or_else(|e| e.into_inner());
        map.get(&TypeId::of::<B>()).copied()
    }
}

impl<V: Copy> Default for PerBackend<V> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_kept_per_type_and_can_be_taken_away() {
        static TABLE: PerBackend<u8> = PerBackend::new();
        assert_eq!(TABLE.get::<f32>(), None);
        TABLE.set::<f32>(Some(1));
        TABLE.set::<f64>(Some(2));
        assert_eq!((TABLE.get::<f32>(), TABLE.get::<f64>()), (Some(1), Some(2)));
        TABLE.set::<f32>(Some(3));
        TABLE.set::<f64>(None);
        assert_eq!((TABLE.get::<f32>(), TABLE.get::<f64>()), (Some(3), None));
        assert_eq!(TABLE.get::<u8>(), None);
    }
}

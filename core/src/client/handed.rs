//! [`Handed`]: the objects of one kind a client has handed out (its
//! timelines, its verifications), each holding one matrix-sdk object in a
//! [`Slot`].
//!
//! The guarantee: the client's drain takes every live object's matrix-sdk
//! object out, once, and drops it inside the runtime before the stores
//! close; a call on the object afterwards gets `ClientClosed`. An object
//! handed out while a drain begins is released at once instead.

use std::sync::{Arc, Mutex, Weak};

use super::state::check_usable;
use super::ClientCore;
use crate::api::{CoreError, CoreResult};
use crate::runtime;

/// The matrix-sdk object a handed-out object holds, until it is taken out
/// once (by the drain, or when the object is released).
pub(crate) struct Slot<S>(Mutex<Option<S>>);

impl<S> Slot<S> {
    pub(crate) fn new(sdk: S) -> Self {
        Self(Mutex::new(Some(sdk)))
    }

    /// A clone of the object; `ClientClosed` once it was taken out.
    pub(crate) fn get(&self) -> CoreResult<S>
    where
        S: Clone,
    {
        self.lock().clone().ok_or(CoreError::ClientClosed)
    }

    /// Takes the object out; `None` if it was taken already.
    fn take(&self) -> Option<S> {
        self.lock().take()
    }

    /// Takes the object out, if it is still here, and drops it inside the
    /// runtime of `generation` (outside it once that runtime has ended).
    pub(crate) fn release(&self, generation: u64) {
        if let Some(sdk) = self.take() {
            match runtime::handle_of(generation, true) {
                Ok(handle) => {
                    let _entered = handle.enter();
                    drop(sdk);
                }
                Err(_) => drop(sdk),
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<S>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// An object a client hands out that holds one matrix-sdk object.
pub(crate) trait Holds {
    /// The matrix-sdk object held.
    type Sdk;
    /// Where it is held.
    fn slot(&self) -> &Slot<Self::Sdk>;
}

/// The objects of one kind a client has handed out, held weakly (the app's
/// references keep them alive), for the client's drain.
pub(crate) struct Handed<T>(Mutex<Vec<Weak<T>>>);

impl<T> Default for Handed<T> {
    fn default() -> Self {
        Self(Mutex::new(Vec::new()))
    }
}

impl<T: Holds> Handed<T> {
    /// Records `handed`, a new object of `client`, and returns it; once the
    /// client is no longer usable (a drain that took the list before it
    /// joined would miss it), releases its matrix-sdk object inside the
    /// runtime instead and returns `ClientClosed`.
    pub(crate) fn adopt(&self, client: &ClientCore, handed: Arc<T>) -> CoreResult<Arc<T>> {
        {
            let mut list = self.0.lock().unwrap_or_else(|p| p.into_inner());
            list.retain(|t| t.strong_count() > 0);
            list.push(Arc::downgrade(&handed));
        }
        if check_usable(client.state()).is_err() {
            handed.slot().release(client.generation);
            return Err(CoreError::ClientClosed);
        }
        Ok(handed)
    }

    /// Empties the list and takes every live object's matrix-sdk object
    /// out, once: the caller drops them inside the runtime.
    pub(crate) fn take_all(&self) -> Vec<T::Sdk> {
        let list = std::mem::take(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner()));
        list.iter()
            .filter_map(Weak::upgrade)
            .filter_map(|t| t.slot().take())
            .collect()
    }
}

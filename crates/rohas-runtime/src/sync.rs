//! Locks that stay usable after a panic while they were held.
//!
//! The runtimes share a few maps and tables between the engine's threads
//! and their own (pending calls, worker slots, the loaded library). A panic
//! while one is held is already reported where it happened; refusing every
//! later call because the lock is "poisoned" would turn one failed request
//! into a dead server, so these take the data as it is.

use std::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|poisoned| poisoned.into_inner())
}

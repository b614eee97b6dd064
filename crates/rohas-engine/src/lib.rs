//! The engine: everything between the network and a handler runtime.

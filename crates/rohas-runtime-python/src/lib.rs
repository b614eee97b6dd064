//! Python handlers on an embedded CPython.

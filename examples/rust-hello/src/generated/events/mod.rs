//! One module per event: the type its handlers receive.
// Written by `rohas codegen`. Do not edit: every run rewrites src/generated/.

#![allow(
    non_snake_case,
    non_camel_case_types,
    clippy::upper_case_acronyms,
    clippy::enum_variant_names,
    clippy::doc_lazy_continuation,
    clippy::tabs_in_doc_comments
)]

pub mod UserCreated;

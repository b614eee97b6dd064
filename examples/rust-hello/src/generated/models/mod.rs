//! Models, inputs, types and enums of the schema, one module each.
// Written by `rohas codegen`. Do not edit: every run rewrites src/generated/.

#![allow(
    non_snake_case,
    non_camel_case_types,
    clippy::upper_case_acronyms,
    clippy::enum_variant_names,
    clippy::doc_lazy_continuation,
    clippy::tabs_in_doc_comments
)]

pub mod ChatMessage;
pub mod CreateUserInput;
pub mod HealthResponse;
pub mod User;

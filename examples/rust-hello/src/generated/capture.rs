//! `println!`, `print!`, `eprintln!` and `eprint!` in your handler files: while
//! a handler runs, each call is a log record tagged with the handler and trace
//! id (stderr at `warn`); elsewhere they print as usual.
// Written by `rohas codegen`. Do not edit: every run rewrites src/generated/.

#![allow(unused_macros)]

macro_rules! println {
    () => {
        rohas_runtime::capture::line(false, String::new())
    };
    ($($arg:tt)*) => {
        rohas_runtime::capture::line(false, format!($($arg)*))
    };
}

macro_rules! print {
    ($($arg:tt)*) => {
        rohas_runtime::capture::text(false, format!($($arg)*))
    };
}

macro_rules! eprintln {
    () => {
        rohas_runtime::capture::line(true, String::new())
    };
    ($($arg:tt)*) => {
        rohas_runtime::capture::line(true, format!($($arg)*))
    };
}

macro_rules! eprint {
    ($($arg:tt)*) => {
        rohas_runtime::capture::text(true, format!($($arg)*))
    };
}

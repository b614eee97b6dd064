//! Embedding CPython links `libpythonX.Y.so`; when that library is not in a
//! system folder (pyenv, a custom prefix), record its folder as an rpath so the
//! crate's test binaries start without `LD_LIBRARY_PATH`. The `rohas` binary
//! does the same in its own build script.

fn main() {
    let config = pyo3_build_config::get();
    if let Some(dir) = &config.lib_dir {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
    }
}

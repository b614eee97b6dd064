//! `rohas` embeds CPython and links `libpythonX.Y.so`. When that library lives
//! outside the system folders (pyenv, a custom prefix), record its folder as an
//! rpath so the binary runs without `LD_LIBRARY_PATH` on a machine with the
//! same Python.

fn main() {
    let config = pyo3_build_config::get();
    if let Some(dir) = &config.lib_dir {
        println!("cargo:rustc-link-arg-bins=-Wl,-rpath,{dir}");
    }
}

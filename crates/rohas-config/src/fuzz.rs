//! One input through the loader, for the libFuzzer target in `fuzz/` and for
//! the tests that replay its corpus, so both check the same thing.

use std::path::Path;

/// Loads one arbitrary input as a config file plus environment, and formats
/// whatever comes out. The bytes before the first NUL are the file (decoded
/// lossily as UTF-8); each line after it is one `NAME=VALUE` variable, with
/// `ROHAS_` put in front of a name that lacks it so most variables reach the
/// override parser.
///
/// # Panics
///
/// Only if loading or formatting the result panics: that panic is what the
/// fuzzer reports. Errors and warnings are expected outcomes.
pub fn fuzz_one(data: &[u8]) {
    let (file, env) = match data.iter().position(|&b| b == 0) {
        Some(nul) => (&data[..nul], &data[nul + 1..]),
        None => (data, &[][..]),
    };
    let text = String::from_utf8_lossy(file);
    let env = String::from_utf8_lossy(env);
    let vars = env.lines().filter_map(|line| {
        let (name, value) = line.split_once('=')?;
        let name = if name.starts_with("ROHAS_") {
            name.to_string()
        } else {
            format!("ROHAS_{name}")
        };
        Some((name, value.to_string()))
    });
    match crate::load_file(Some(Path::new("config/rohas.toml")), Some(&text), vars) {
        Ok(loaded) => {
            for warning in &loaded.warnings {
                let _ = warning.to_string();
            }
        }
        Err(error) => {
            let _ = error.to_string();
        }
    }
}

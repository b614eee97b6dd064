//! Handler results written as JSON in Rust, walking the Python objects
//! directly (as orjson does), instead of `json.JSONEncoder` calling back
//! into Python for every generated object.
//!
//! The output is, byte for byte, what the Python encoder the runtime used
//! before wrote: `json.JSONEncoder(ensure_ascii=False, separators=(",",
//! ":"), allow_nan=False, check_circular=False, default=wire_default)`, fed
//! by `wire_top`. `tests/json_reference.py` keeps that encoder as the
//! specification, and the tests in `tests.rs` compare the two on generated
//! values. So the rules below are `json`'s, in its order:
//!
//! - `None`, `True`, `False`; then str, int, float, list and tuple, dict,
//!   *including their subclasses* (an `IntEnum` member is an int, a `(str,
//!   Enum)` member a string);
//! - dict keys are str, or int, float, bool and None written as strings;
//! - anything else is what `wire.rs` turns it into (the old
//!   `wire_default`: enums, datetimes, generated classes, dataclasses,
//!   pydantic models, sets), or a `TypeError` saying what can be returned;
//! - a generated record's `to_wire()` is written by `record.rs` from the
//!   class's description of it, without calling it, where that is sure to
//!   give the same text.
//!
//! The GIL is held throughout: the caller is Python. Nesting deeper than
//! [`MAX_DEPTH`] (a cycle, say) raises `RecursionError`, as `json` does
//! past Python's recursion limit, instead of overflowing the stack.

mod escape;
mod float;
mod record;
mod wire;

#[cfg(test)]
mod tests;

use pyo3::exceptions::{PyRecursionError, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use pyo3::{intern, PyTypeInfo};
use std::ffi::CStr;

/// How deeply containers (and values that `wire.rs` converts) may nest:
/// about where `json` stops at Python's default recursion limit, and well
/// inside the stack of every thread that encodes (the loop thread's, the
/// handler pool's).
pub(crate) const MAX_DEPTH: u32 = 1000;

/// Writes JSON into one buffer; see the module docs for the rules.
pub(crate) struct Encoder<'py> {
    py: Python<'py>,
    out: Vec<u8>,
    depth: u32,
    /// A string held a lone surrogate: the output is WTF-8, not UTF-8.
    surrogates: bool,
    /// Generated records' descriptions met so far (`record.rs`).
    records: record::Records<'py>,
}

impl<'py> Encoder<'py> {
    pub(crate) fn new(py: Python<'py>, buffer: Vec<u8>) -> Self {
        Encoder {
            py,
            out: buffer,
            depth: 0,
            surrogates: false,
            records: record::Records::default(),
        }
    }

    /// Append text that is already JSON.
    pub(crate) fn raw(&mut self, text: &str) {
        self.out.extend_from_slice(text.as_bytes());
    }

    /// A handler's returned value, as `wire_top` treated it before the
    /// encoder saw it: a generated object, or a list whose first item is
    /// one, is turned into its wire form through `to_wire` (each item that
    /// has one), whatever else it is.
    pub(crate) fn returned(&mut self, value: &Bound<'py, PyAny>) -> PyResult<()> {
        let to_wire = intern!(self.py, "to_wire");
        if let Ok(list) = value.cast_exact::<PyList>() {
            let first = match list.len() {
                0 => None,
                _ => Some(list.get_item(0)?),
            };
            if !first.map(|f| f.hasattr(to_wire)).transpose()?.unwrap_or(false) {
                return self.value(value);
            }
            // Each item's wire form is written as soon as it is made, and
            // dropped (the old code made them all first: only which error
            // comes first, when two items fail, can differ).
            return self.nested(|e| {
                e.out.push(b'[');
                for (i, item) in list.iter().enumerate() {
                    if i > 0 {
                        e.out.push(b',');
                    }
                    match wire::attribute(&item, to_wire)? {
                        Some(own) => e.wire_form(&item, &own)?,
                        None => e.value(&item)?,
                    }
                }
                e.out.push(b']');
                Ok(())
            });
        }
        match wire::attribute(value, to_wire)? {
            Some(own) if !own.is_none() && !value.is_instance_of::<pyo3::types::PyType>() => {
                self.wire_form(value, &own)
            }
            _ => self.value(value),
        }
    }

    /// Any value, as `json` writes it.
    pub(crate) fn value(&mut self, value: &Bound<'py, PyAny>) -> PyResult<()> {
        // The exact built-in types first: nearly every value is one.
        if let Ok(text) = value.cast_exact::<PyString>() {
            return self.string(text);
        }
        if let Ok(list) = value.cast_exact::<PyList>() {
            return self.nested(|e| e.items(list.iter()));
        }
        if let Ok(dict) = value.cast_exact::<PyDict>() {
            return self.nested(|e| e.dict(dict));
        }
        if let Ok(number) = value.cast_exact::<PyInt>() {
            return self.int(number);
        }
        if let Ok(number) = value.cast_exact::<PyFloat>() {
            return self.float(number.value());
        }
        if let Ok(flag) = value.cast_exact::<PyBool>() {
            self.raw(if flag.is_true() { "true" } else { "false" });
            return Ok(());
        }
        if value.is_none() {
            self.raw("null");
            return Ok(());
        }
        if let Ok(tuple) = value.cast_exact::<PyTuple>() {
            return self.nested(|e| e.items(tuple.iter()));
        }
        self.subclass_or_other(value)
    }

    /// `json`'s checks on subclasses of the built-in types (which come
    /// before its `default`, whatever else the class is), then `wire.rs`.
    fn subclass_or_other(&mut self, value: &Bound<'py, PyAny>) -> PyResult<()> {
        if let Ok(text) = value.cast::<PyString>() {
            return self.string(text);
        }
        if let Ok(number) = value.cast::<PyInt>() {
            return self.int(number);
        }
        if let Ok(number) = value.cast::<PyFloat>() {
            return self.float(number.value());
        }
        if value.is_instance_of::<PyList>() || value.is_instance_of::<PyTuple>() {
            // `json` takes a subclass's items through its `__iter__`.
            let items = value.try_iter()?.collect::<PyResult<Vec<_>>>()?;
            return self.nested(|e| e.items(items.iter()));
        }
        if let Ok(dict) = value.cast::<PyDict>() {
            return self.nested(|e| e.dict_subclass(dict));
        }
        match wire::convert(value)? {
            wire::Converted::Value(other) => self.nested(|e| e.value(&other)),
            wire::Converted::ToWire(own) => self.nested(|e| e.wire_form(value, &own)),
        }
    }

    /// One level deeper for the duration of `write`.
    fn nested(&mut self, write: impl FnOnce(&mut Self) -> PyResult<()>) -> PyResult<()> {
        if self.depth >= MAX_DEPTH {
            return Err(PyRecursionError::new_err(
                "maximum recursion depth exceeded while encoding a JSON object \
                 (a value that contains itself, or nesting deeper than 1000 levels)",
            ));
        }
        self.depth += 1;
        let written = write(self);
        self.depth -= 1;
        written
    }

    fn string(&mut self, text: &Bound<'py, PyString>) -> PyResult<()> {
        match text.to_str() {
            Ok(utf8) => {
                escape::write_str(&mut self.out, utf8.as_bytes());
                Ok(())
            }
            Err(_) => self.surrogate_string(text),
        }
    }

    #[cold]
    #[inline(never)]
    fn surrogate_string(&mut self, text: &Bound<'py, PyString>) -> PyResult<()> {
        // Only a lone surrogate stops UTF-8: `json` copies it into its
        // output, so this writes it as WTF-8 (see `into_py_string`).
        let bytes = PyString::type_object(self.py)
            .call_method1(intern!(self.py, "encode"), (text, "utf-8", "surrogatepass"))?;
        escape::write_str(&mut self.out, bytes.cast::<PyBytes>()?.as_bytes());
        self.surrogates = true;
        Ok(())
    }

    fn int(&mut self, number: &Bound<'py, PyInt>) -> PyResult<()> {
        match number.extract::<i64>() {
            Ok(small) => {
                self.raw(itoa::Buffer::new().format(small));
                Ok(())
            }
            Err(_) => self.big_int(number),
        }
    }

    #[cold]
    #[inline(never)]
    fn big_int(&mut self, number: &Bound<'py, PyInt>) -> PyResult<()> {
        // Beyond 64 bits: `int.__repr__`, which is what `json` calls (an
        // `int` subclass's own `__repr__` is not).
        static INT_REPR: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
        let repr = INT_REPR
            .import(self.py, "builtins", "int")?
            .getattr(intern!(self.py, "__repr__"))?;
        let text = repr.call1((number,))?;
        self.raw(text.cast::<PyString>()?.to_str()?);
        Ok(())
    }

    fn float(&mut self, number: f64) -> PyResult<()> {
        if !number.is_finite() {
            return Err(PyValueError::new_err(
                "Out of range float values are not JSON compliant",
            ));
        }
        float::write_repr(&mut self.out, number);
        Ok(())
    }

    /// `[a,b,…]` of `items`.
    pub(crate) fn items<I, T>(&mut self, items: I) -> PyResult<()>
    where
        I: IntoIterator<Item = T>,
        T: std::borrow::Borrow<Bound<'py, PyAny>>,
    {
        self.out.push(b'[');
        let mut first = true;
        for item in items {
            if !first {
                self.out.push(b',');
            }
            first = false;
            self.value(item.borrow())?;
        }
        self.out.push(b']');
        Ok(())
    }

    fn dict(&mut self, dict: &Bound<'py, PyDict>) -> PyResult<()> {
        self.out.push(b'{');
        let mut first = true;
        for (key, value) in dict.iter() {
            if !first {
                self.out.push(b',');
            }
            first = false;
            self.key(&key)?;
            self.out.push(b':');
            self.value(&value)?;
        }
        self.out.push(b'}');
        Ok(())
    }

    /// A dict subclass: its own `items()`, as `json` reads it.
    fn dict_subclass(&mut self, dict: &Bound<'py, PyDict>) -> PyResult<()> {
        if dict.is_empty() {
            self.raw("{}");
            return Ok(());
        }
        let items = dict.call_method0(intern!(self.py, "items"))?;
        let items = items.try_iter()?.collect::<PyResult<Vec<_>>>()?;
        self.out.push(b'{');
        for (i, item) in items.iter().enumerate() {
            let pair = match item.cast::<PyTuple>() {
                Ok(pair) if pair.len() == 2 => pair,
                _ => return Err(PyValueError::new_err("items must return 2-tuples")),
            };
            if i > 0 {
                self.out.push(b',');
            }
            self.key(&pair.get_item(0)?)?;
            self.out.push(b':');
            self.value(&pair.get_item(1)?)?;
        }
        self.out.push(b'}');
        Ok(())
    }

    /// A dict key: a string, or an int, float, bool or None as one.
    fn key(&mut self, key: &Bound<'py, PyAny>) -> PyResult<()> {
        if let Ok(text) = key.cast::<PyString>() {
            return self.string(text);
        }
        self.out.push(b'"');
        if let Ok(number) = key.cast::<PyFloat>() {
            self.float(number.value())?;
        } else if let Ok(flag) = key.cast_exact::<PyBool>() {
            self.raw(if flag.is_true() { "true" } else { "false" });
        } else if key.is_none() {
            self.raw("null");
        } else if let Ok(number) = key.cast::<PyInt>() {
            self.int(number)?;
        } else {
            return Err(PyTypeError::new_err(format!(
                "keys must be str, int, float, bool or None, not {}",
                type_name(key)
            )));
        }
        self.out.push(b'"');
        Ok(())
    }

    /// Text to hand back to Rust (the engine reads it as UTF-8).
    pub(crate) fn into_string(self) -> PyResult<String> {
        if self.surrogates {
            return Err(PyValueError::new_err(
                "a string holds a lone surrogate (half of a UTF-16 pair, as a bad `\\ud800` escape \
                 or a `surrogateescape` decode leaves), which UTF-8 cannot carry: clean the text first, \
                 e.g. `text.encode('utf-8', 'replace').decode()`",
            ));
        }
        String::from_utf8(self.out).map_err(|e| PyRuntimeError::new_err(format!("JSON writer bug: {e}")))
    }

    /// Text for Python, lone surrogates and all (as `json` gives them).
    pub(crate) fn into_py_string(self) -> PyResult<(Bound<'py, PyString>, Vec<u8>)> {
        let text = if self.surrogates {
            PyString::from_encoded_object(
                &PyBytes::new(self.py, &self.out),
                Some(c"utf-8"),
                Some(c"surrogatepass"),
            )?
        } else {
            let utf8 =
                std::str::from_utf8(&self.out).map_err(|e| PyRuntimeError::new_err(format!("JSON writer bug: {e}")))?;
            PyString::new(self.py, utf8)
        };
        Ok((text, self.out))
    }
}

/// Run `encode`, turning a panic into a `RuntimeError`: PyO3 panics when
/// a dict changes size while it is walked (a `to_wire` that edits the dict
/// holding it), and a panic would reach Python as `PanicException`, which
/// `except Exception` does not catch.
pub(crate) fn guarded<T>(encode: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(encode)).unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        Err(PyRuntimeError::new_err(format!(
            "the value changed while it was written as JSON ({what}): \
             do not change a returned dict or list from `to_wire` or a property"
        )))
    })
}

/// The C-level name of a value's type, as `json`'s messages give it
/// (`tuple`, `datetime.date`, `MyClass`).
fn type_name(value: &Bound<'_, PyAny>) -> String {
    // SAFETY: every object has a type, and every type a NUL-terminated
    // `tp_name` that lives as long as the type (kept alive by `value`).
    let name = unsafe { CStr::from_ptr((*pyo3::ffi::Py_TYPE(value.as_ptr())).tp_name) };
    name.to_string_lossy().into_owned()
}

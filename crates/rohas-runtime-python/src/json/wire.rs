//! What `json` cannot write by itself, and what it becomes (the runtime's
//! former `wire_default`, in its order): an enum its value, a datetime its
//! ISO text (a naive one taken as local time), a date or time its ISO
//! text, an object with a `to_wire` method (generated classes) what that
//! returns, a dataclass its fields, a pydantic model its JSON dump, a set a
//! list. Anything else is a `TypeError` naming the type and what a handler
//! may return.

use pyo3::exceptions::{PyAttributeError, PyTypeError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDate, PyDateTime, PyDict, PyFrozenSet, PyList, PySet, PyString, PyTime, PyType};

/// `getattr(value, name, None)`: `None` when the attribute is missing,
/// other errors (a failing property) raised.
pub(crate) fn attribute<'py>(
    value: &Bound<'py, PyAny>,
    name: &Bound<'py, PyString>,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    match value.getattr(name) {
        Ok(found) => Ok(Some(found)),
        Err(e) if e.is_instance_of::<PyAttributeError>(value.py()) => Ok(None),
        Err(e) => Err(e),
    }
}

/// What [`convert`] says to write.
pub(crate) enum Converted<'py> {
    /// This object instead.
    Value(Bound<'py, PyAny>),
    /// What this method, the value's own `to_wire`, returns (which the
    /// encoder may write without calling it: see `record.rs`).
    ToWire(Bound<'py, PyAny>),
}

/// What a value none of `json`'s own checks took is written as: like
/// `json`'s `default`, it returns the object to write instead, so that
/// this function's frame is off the stack while that object is walked.
#[inline(never)]
pub(crate) fn convert<'py>(value: &Bound<'py, PyAny>) -> PyResult<Converted<'py>> {
    let py = value.py();
    static ENUM: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    if value.is_instance(ENUM.import(py, "enum", "Enum")?)? {
        return value.getattr(intern!(py, "value")).map(Converted::Value);
    }
    if value.is_instance_of::<PyDateTime>() {
        let mut value = value.clone();
        if value.getattr(intern!(py, "tzinfo"))?.is_none() {
            value = value.call_method0(intern!(py, "astimezone"))?;
        }
        return value.call_method0(intern!(py, "isoformat")).map(Converted::Value);
    }
    if value.is_instance_of::<PyDate>() || value.is_instance_of::<PyTime>() {
        return value.call_method0(intern!(py, "isoformat")).map(Converted::Value);
    }
    let is_class = value.is_instance_of::<PyType>();
    if let Some(own) = attribute(value, intern!(py, "to_wire"))? {
        if own.is_callable() && !is_class {
            return Ok(Converted::ToWire(own));
        }
    }
    if !is_class && value.get_type().hasattr(intern!(py, "__dataclass_fields__"))? {
        return dataclass_fields(value).map(Converted::Value);
    }
    if let Some(dump) = attribute(value, intern!(py, "model_dump"))? {
        if dump.is_callable() {
            let options = PyDict::new(py);
            options.set_item(intern!(py, "mode"), intern!(py, "json"))?;
            return dump.call((), Some(&options)).map(Converted::Value);
        }
    }
    if let Some(legacy) = attribute(value, intern!(py, "dict"))? {
        if legacy.is_callable() && value.hasattr(intern!(py, "__fields__"))? {
            return legacy.call0().map(Converted::Value);
        }
    }
    if value.is_instance_of::<PySet>() || value.is_instance_of::<PyFrozenSet>() {
        let items = value.try_iter()?.collect::<PyResult<Vec<_>>>()?;
        return Ok(Converted::Value(PyList::new(py, items)?.into_any()));
    }
    let class = value.get_type();
    Err(PyTypeError::new_err(format!(
        "cannot send a `{}.{}` object as JSON: return a generated type, a dataclass, dict, list, str, \
         int, float, bool, None, datetime, enum or pydantic model",
        class.getattr(intern!(py, "__module__"))?,
        class.getattr(intern!(py, "__qualname__"))?,
    )))
}

/// `{field: value}` over `dataclasses.fields(value)`.
fn dataclass_fields<'py>(value: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let py = value.py();
    static FIELDS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let fields = FIELDS.import(py, "dataclasses", "fields")?.call1((value,))?;
    let dict = PyDict::new(py);
    for field in fields.try_iter()? {
        let name = field?.getattr(intern!(py, "name"))?;
        dict.set_item(&name, value.getattr(name.cast::<PyString>()?)?)?;
    }
    Ok(dict.into_any())
}

//! Generated records written without running their `to_wire`: the class
//! says what its `to_wire` does in `__rohas_wire__` (written by
//! `rohas-codegen`'s `python/classes.rs`), and the encoder reads each
//! attribute and writes `{"wire":value,…}` itself. A reply of 100 small
//! records spent about half its time in those Python calls.
//!
//! The output must be exactly `to_wire()`'s, written as JSON, so:
//!
//! - the description is used only when `obj.to_wire` is a method bound to
//!   `obj` whose function is the one the description names: a subclass's
//!   override, a patched class or an instance attribute get `to_wire()`;
//! - each shape does what `to_wire`'s expression does, with the same calls
//!   (`.value`, `.to_wire()`, `format_datetime`'s `tzinfo`, `astimezone` and
//!   `isoformat`), and what cannot be read (an unknown shape, a runtime
//!   older than the code) gets `to_wire()`;
//! - `to_wire` converts every field before `json` writes any: when two
//!   things fail, which error is raised depends on that order. So when the
//!   walk fails, the outermost record is written again the old way (its
//!   `to_wire()`, then the writer, with no walking inside), and that error
//!   is the one raised. Only conversions written in Python by the user
//!   (a pydantic model's `model_dump` inside a field, say) see a different
//!   order of calls when nothing fails.

use super::Encoder;
use pyo3::ffi;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyList, PyString, PyTuple};
use std::rc::Rc;

// CPython's bound-method API (`Include/cpython/classobject.h`), which
// `pyo3-ffi` does not declare.
unsafe extern "C" {
    static mut PyMethod_Type: ffi::PyTypeObject;
    fn PyMethod_Function(method: *mut ffi::PyObject) -> *mut ffi::PyObject;
    fn PyMethod_Self(method: *mut ffi::PyObject) -> *mut ffi::PyObject;
}

/// What one record's `to_wire` writes, in its key order.
pub(crate) struct Record<'py> {
    fields: Vec<Field<'py>>,
}

struct Field<'py> {
    attr: Bound<'py, PyString>,
    /// `"wire":`, escaped as `json` escapes keys.
    key: Vec<u8>,
    /// Left out when the attribute is None (an optional field).
    drop_none: bool,
    shape: Shape,
}

/// What `to_wire` does to an attribute's value (`wire_shape` in codegen).
#[derive(Debug, PartialEq)]
enum Shape {
    /// The value itself.
    Plain,
    /// `value.value`.
    Enum,
    /// `format_datetime(value)`.
    DateTime,
    /// `value.to_wire()`.
    Record,
    /// `None` as it is, else the inner shape.
    Optional(Box<Shape>),
    /// Each item, with the inner shape, in a list.
    List(Box<Shape>),
}

impl Shape {
    fn parse(text: &str) -> Option<Shape> {
        if let Some(inner) = text.strip_prefix("[]") {
            return Some(Shape::List(Box::new(Shape::parse(inner)?)));
        }
        if let Some(inner) = text.strip_prefix('?') {
            return Some(Shape::Optional(Box::new(Shape::parse(inner)?)));
        }
        match text {
            "" => Some(Shape::Plain),
            "enum" => Some(Shape::Enum),
            "datetime" => Some(Shape::DateTime),
            "record" => Some(Shape::Record),
            _ => None,
        }
    }
}

/// The types seen while writing one value: which `to_wire` functions have
/// a usable description (cached for the call only, so a class changed
/// between replies is read again).
#[derive(Default)]
pub(crate) struct Records<'py> {
    seen: Vec<(Bound<'py, PyAny>, Option<Rc<Record<'py>>>)>,
    /// Inside a walk: a failure is left to the outermost record to retry.
    walking: bool,
    /// Writing the old way (a retry): no walks at all.
    off: bool,
}

impl<'py> Encoder<'py> {
    /// `value.to_wire()` written, where `method` is `value.to_wire`:
    /// walked when it is a generated record's plain mapping, else called.
    pub(crate) fn wire_form(&mut self, value: &Bound<'py, PyAny>, method: &Bound<'py, PyAny>) -> PyResult<()> {
        if !self.records.off {
            if let Some(record) = self.record_of(value, method) {
                return self.walk(value, &record, method);
            }
        }
        self.value(&method.call0()?)
    }

    /// The description `method` (the object's `to_wire`) matches, if any.
    fn record_of(&mut self, value: &Bound<'py, PyAny>, method: &Bound<'py, PyAny>) -> Option<Rc<Record<'py>>> {
        let bound = method.as_ptr();
        // SAFETY: `bound` is a live object (held by `method`); the method
        // accessors are only called on an exact bound method, and return
        // borrowed references that `method` keeps alive.
        let function = unsafe {
            if ffi::Py_TYPE(bound) != &raw mut PyMethod_Type || PyMethod_Self(bound) != value.as_ptr() {
                return None;
            }
            PyMethod_Function(bound)
        };
        if let Some((_, record)) = self.records.seen.iter().find(|(f, _)| f.as_ptr() == function) {
            return record.clone();
        }
        // SAFETY: a borrowed reference to the method's function, made strong.
        let function = unsafe { Bound::from_borrowed_ptr(self.py, function) };
        let record = description(value, &function)
            .and_then(|description| parse(&description, &function))
            .map(Rc::new);
        self.records.seen.push((function, record.clone()));
        record
    }

    /// Write `value` as `record` says; the outermost record, when that
    /// fails, again through its `to_wire` (see the module docs).
    fn walk(&mut self, value: &Bound<'py, PyAny>, record: &Record<'py>, method: &Bound<'py, PyAny>) -> PyResult<()> {
        if self.records.walking {
            return self.nested(|e| e.fields(value, record));
        }
        let (start, surrogates) = (self.out.len(), self.surrogates);
        self.records.walking = true;
        let walked = self.nested(|e| e.fields(value, record));
        self.records.walking = false;
        if walked.is_ok() {
            return walked;
        }
        self.out.truncate(start);
        self.surrogates = surrogates;
        self.records.off = true;
        let again = method.call0().and_then(|wire| self.value(&wire));
        self.records.off = false;
        again
    }

    fn fields(&mut self, value: &Bound<'py, PyAny>, record: &Record<'py>) -> PyResult<()> {
        self.out.push(b'{');
        let mut first = true;
        for field in &record.fields {
            let item = value.getattr(&field.attr)?;
            if field.drop_none && item.is_none() {
                continue;
            }
            if !first {
                self.out.push(b',');
            }
            first = false;
            self.out.extend_from_slice(&field.key);
            self.shaped(&item, &field.shape)?;
        }
        self.out.push(b'}');
        Ok(())
    }

    /// `item` as `to_wire`'s expression for `shape` turns it, written.
    fn shaped(&mut self, item: &Bound<'py, PyAny>, shape: &Shape) -> PyResult<()> {
        match shape {
            Shape::Plain => self.value(item),
            Shape::Enum => self.value(&item.getattr(intern!(self.py, "value"))?),
            Shape::DateTime => self.format_datetime(item),
            Shape::Record => self.wire_form(item, &item.getattr(intern!(self.py, "to_wire"))?),
            Shape::Optional(_) if item.is_none() => {
                self.raw("null");
                Ok(())
            }
            Shape::Optional(inner) => self.shaped(item, inner),
            Shape::List(inner) => self.nested(|e| e.list(item, inner)),
        }
    }

    /// `list(item)` or `[… for x in item]`: the items, each shaped.
    fn list(&mut self, item: &Bound<'py, PyAny>, inner: &Shape) -> PyResult<()> {
        if let (Ok(list), Shape::Plain) = (item.cast_exact::<PyList>(), inner) {
            return self.items(list.iter());
        }
        self.out.push(b'[');
        for (i, each) in item.try_iter()?.enumerate() {
            if i > 0 {
                self.out.push(b',');
            }
            self.shaped(&each?, inner)?;
        }
        self.out.push(b']');
        Ok(())
    }

    /// The runtime's `format_datetime`: a naive datetime taken as local
    /// time, then `isoformat()`.
    fn format_datetime(&mut self, item: &Bound<'py, PyAny>) -> PyResult<()> {
        let py = self.py;
        let text = if item.getattr(intern!(py, "tzinfo"))?.is_none() {
            item.call_method0(intern!(py, "astimezone"))?
                .call_method0(intern!(py, "isoformat"))?
        } else {
            item.call_method0(intern!(py, "isoformat"))?
        };
        self.value(&text)
    }
}

/// The `__rohas_wire__` of the class that defines the `to_wire` in use
/// (`function`): the first class in the MRO with a `to_wire`, from its own
/// `__dict__`. Only the class that wrote `to_wire` describes it: a
/// subclass's own `__rohas_wire__` is not read.
fn description<'py>(value: &Bound<'py, PyAny>, function: &Bound<'py, PyAny>) -> Option<Bound<'py, PyAny>> {
    let py = value.py();
    let mro = value.get_type().getattr(intern!(py, "__mro__")).ok()?;
    for class in mro.cast::<PyTuple>().ok()?.iter() {
        let own = class.getattr(intern!(py, "__dict__")).ok()?;
        if let Ok(to_wire) = own.get_item(intern!(py, "to_wire")) {
            if !to_wire.is(function) {
                return None;
            }
            return own.get_item(intern!(py, "__rohas_wire__")).ok();
        }
    }
    None
}

/// `(to_wire, ((attr, wire, drop_if_none, shape), …))`, when it is that and
/// names `function`.
fn parse<'py>(description: &Bound<'py, PyAny>, function: &Bound<'py, PyAny>) -> Option<Record<'py>> {
    let description = description.cast::<PyTuple>().ok()?;
    if description.len() != 2 || !description.get_item(0).ok()?.is(function) {
        return None;
    }
    let entries = description.get_item(1).ok()?;
    let entries = entries.cast::<PyTuple>().ok()?;
    let mut fields = Vec::with_capacity(entries.len());
    for entry in entries.iter() {
        let entry = entry.cast_into::<PyTuple>().ok()?;
        if entry.len() != 4 {
            return None;
        }
        let attr = entry.get_item(0).ok()?.cast_into_exact::<PyString>().ok()?;
        let wire = entry.get_item(1).ok()?;
        let wire = wire.cast_exact::<PyString>().ok()?.to_str().ok()?;
        let drop_none = entry.get_item(2).ok()?.cast_exact::<PyBool>().ok()?.is_true();
        let shape = entry.get_item(3).ok()?;
        let shape = Shape::parse(shape.cast_exact::<PyString>().ok()?.to_str().ok()?)?;
        let mut key = Vec::with_capacity(wire.len() + 3);
        super::escape::write_str(&mut key, wire.as_bytes());
        key.push(b':');
        fields.push(Field {
            attr,
            key,
            drop_none,
            shape,
        });
    }
    Some(Record { fields })
}

#[cfg(test)]
mod shape_tests {
    use super::Shape;

    #[test]
    fn shapes_read_as_codegen_writes_them() {
        let list = |s| Shape::List(Box::new(s));
        let optional = |s| Shape::Optional(Box::new(s));
        assert_eq!(Shape::parse(""), Some(Shape::Plain));
        assert_eq!(Shape::parse("[]"), Some(list(Shape::Plain)));
        assert_eq!(Shape::parse("[]?enum"), Some(list(optional(Shape::Enum))));
        assert_eq!(Shape::parse("?[][]record"), Some(optional(list(list(Shape::Record)))));
        assert_eq!(Shape::parse("[]datetime"), Some(list(Shape::DateTime)));
        assert_eq!(Shape::parse("json"), None);
        assert_eq!(Shape::parse("[]bytes"), None);
    }
}

//! JSON Schema → the OpenAPI 3.0 subset Gemini accepts in `parameters` and `responseSchema`.
//!
//! Gemini's `Schema` object knows `type` (one, upper-case), `format`, `description`, `nullable`, `enum`
//! (strings), `properties`, `required`, `items`, `anyOf`, `propertyOrdering` and the numeric/length/count
//! bounds; it rejects requests containing anything else (`$schema`, `additionalProperties`, `$ref`, …).
//! Clients write full JSON Schema, so this translates what has an equivalent and drops the rest:
//! - `type: ["string", "null"]` → `type: STRING, nullable: true`; `const` → a one-value `enum`;
//! - `oneOf` → `anyOf` (a `{"type":"null"}` branch becomes `nullable`); `allOf` is merged into one schema;
//! - local `$ref`s (`#/$defs/…`, `#/definitions/…`) are inlined, to a bounded depth so recursive schemas
//!   terminate, and within a bounded number of converted nodes ([`MAX_NODES`]): a definition that refers
//!   to itself k times would otherwise expand to k⁸ nodes — a few hundred bytes of request could cost
//!   minutes of CPU and gigabytes. Past the bound, what is left becomes an unconstrained schema;
//!   unresolvable `$ref`s too;
//! - `enum` on non-string types moves into the description, since Gemini's enums are strings;
//! - `format` is kept only where Gemini supports it; everything else is dropped.

use serde_json::{Map, Value, json};

/// How deep `$ref`s are inlined before giving up (recursive schemas would never end).
const MAX_REF_DEPTH: usize = 8;

/// Most schema nodes one conversion produces (far above any real tool schema).
pub(super) const MAX_NODES: usize = 10_000;

/// Converts `schema`; definitions are looked up in `schema` itself (`$defs` / `definitions`).
pub(super) fn to_gemini_schema(schema: &Value) -> Value {
    Converter {
        root: schema,
        budget: std::cell::Cell::new(MAX_NODES),
    }
    .convert(schema, 0)
}

struct Converter<'a> {
    root: &'a Value,
    /// Nodes still allowed ([`MAX_NODES`]).
    budget: std::cell::Cell<usize>,
}

impl Converter<'_> {
    fn resolve(&self, reference: &str) -> Option<&Value> {
        let path = reference.strip_prefix("#/")?;
        path.split('/').try_fold(self.root, |node, segment| {
            node.get(segment.replace("~1", "/").replace("~0", "~"))
        })
    }

    fn convert(&self, schema: &Value, depth: usize) -> Value {
        let left = self.budget.get();
        if left == 0 {
            return json!({});
        }
        self.budget.set(left - 1);
        let Value::Object(map) = schema else {
            // `true` / `false` schemas and garbage: no constraint Gemini could express.
            return json!({});
        };
        if let Some(reference) = map.get("$ref").and_then(Value::as_str) {
            return self.convert_ref(map, reference, depth);
        }
        let mut node = Node::default();
        for (key, value) in map {
            self.keyword(&mut node, key, value, depth);
        }
        finish(node.out, node.type_name, node.nullable)
    }

    /// A schema with a `$ref`: the target inlined (within [`MAX_REF_DEPTH`]), under the keywords beside it.
    fn convert_ref(&self, map: &Map<String, Value>, reference: &str, depth: usize) -> Value {
        let target = match self.resolve(reference) {
            Some(target) if depth < MAX_REF_DEPTH => self.convert(target, depth + 1),
            _ => json!({}),
        };
        // Keywords next to the `$ref` (usually a description) are more specific than the target's.
        let mut siblings = map.clone();
        siblings.remove("$ref");
        merge(self.convert(&Value::Object(siblings), depth), target)
    }

    /// One JSON Schema keyword: translated into `node`, or dropped.
    fn keyword(&self, node: &mut Node, key: &str, value: &Value, depth: usize) {
        match key {
            "type" => node.read_type(value),
            "nullable" => node.nullable |= value.as_bool().unwrap_or(false),
            "description" | "pattern" | "minLength" | "maxLength" | "minItems" | "maxItems"
            | "minimum" | "maximum" | "minProperties" | "maxProperties" | "propertyOrdering" => {
                node.out.insert(key.to_owned(), value.clone());
            }
            "enum" => {
                if let Value::Array(values) = value {
                    node.nullable |= values.iter().any(Value::is_null);
                    node.out.insert("enum".into(), enum_strings(values).into());
                }
            }
            "const" if !value.is_null() => {
                let values = enum_strings(std::slice::from_ref(value));
                node.out.insert("enum".into(), values.into());
            }
            "properties" => {
                if let Value::Object(properties) = value {
                    let converted: Map<String, Value> = properties
                        .iter()
                        .map(|(name, property)| (name.clone(), self.convert(property, depth)))
                        .collect();
                    node.out.insert("properties".into(), converted.into());
                }
            }
            "required" => {
                if let Value::Array(names) = value {
                    node.out.insert("required".into(), names.clone().into());
                }
            }
            "items" => {
                let items = match value {
                    // Tuple validation has no equivalent; the first item type is the best guess.
                    Value::Array(tuple) => tuple.first().cloned().unwrap_or_else(|| json!({})),
                    single => single.clone(),
                };
                node.out.insert("items".into(), self.convert(&items, depth));
            }
            "anyOf" | "oneOf" => {
                if let Value::Array(branches) = value {
                    self.any_of(node, branches, depth);
                }
            }
            "allOf" => {
                if let Value::Array(branches) = value {
                    for branch in branches {
                        node.merge_in(self.convert(branch, depth));
                    }
                }
            }
            "format" => {
                if let Value::String(format) = value {
                    node.out.insert("format".into(), format.clone().into());
                }
            }
            // $schema, $id, $defs, definitions, additionalProperties, title, default, examples, …
            _ => {}
        }
    }

    /// `anyOf` / `oneOf`: a `null` branch makes the schema nullable; a single other branch is merged in.
    fn any_of(&self, node: &mut Node, branches: &[Value], depth: usize) {
        let mut converted = Vec::new();
        for branch in branches {
            if branch.get("type").and_then(Value::as_str) == Some("null") {
                node.nullable = true;
            } else {
                converted.push(self.convert(branch, depth));
            }
        }
        match converted.len() {
            0 => {}
            1 => node.merge_in(converted.pop().unwrap_or_default()),
            _ => {
                node.out.insert("anyOf".into(), converted.into());
            }
        }
    }
}

/// A schema being converted: its Gemini keywords so far, and what `type` and `nullable` said.
#[derive(Default)]
struct Node {
    out: Map<String, Value>,
    nullable: bool,
    type_name: Option<String>,
}

impl Node {
    /// `type`: one name or a list of them; `"null"` makes the schema nullable, the first other name is its
    /// type.
    fn read_type(&mut self, value: &Value) {
        match value {
            Value::String(name) if name == "null" => self.nullable = true,
            Value::String(name) => self.type_name = Some(name.clone()),
            Value::Array(names) => {
                for name in names.iter().filter_map(Value::as_str) {
                    if name == "null" {
                        self.nullable = true;
                    } else if self.type_name.is_none() {
                        self.type_name = Some(name.to_owned());
                    }
                }
            }
            _ => {}
        }
    }

    /// Merges a converted schema into this one (see [`merge`]).
    fn merge_in(&mut self, converted: Value) {
        let out = std::mem::take(&mut self.out);
        self.out = match merge(Value::Object(out), converted) {
            Value::Object(merged) => merged,
            _ => Map::new(),
        };
    }
}

/// Sets the upper-case type (inferring it when absent), fixes what only fits some types, and drops
/// `required` names that are not properties (Gemini rejects those).
fn finish(mut out: Map<String, Value>, type_name: Option<String>, nullable: bool) -> Value {
    let type_name = type_name
        .map(|name| name.to_ascii_uppercase())
        .or_else(|| out.get("type").and_then(Value::as_str).map(str::to_owned))
        .or_else(|| infer_type(&out).map(str::to_owned));
    if let Some(type_name) = &type_name {
        out.insert("type".into(), type_name.clone().into());
    }
    let type_name = type_name.as_deref();
    drop_unsupported_format(&mut out, type_name);
    // Gemini enums are strings; on other types the allowed values can only be described.
    if type_name.is_some_and(|name| name != "STRING") {
        describe_enum(&mut out);
    }
    fit_required(&mut out, type_name == Some("OBJECT"));
    if nullable {
        out.insert("nullable".into(), true.into());
    }
    Value::Object(out)
}

/// The type a schema without one evidently has.
fn infer_type(out: &Map<String, Value>) -> Option<&'static str> {
    if out.contains_key("properties") {
        Some("OBJECT")
    } else if out.contains_key("items") {
        Some("ARRAY")
    } else if out.contains_key("enum") {
        Some("STRING")
    } else {
        None
    }
}

/// Keeps `format` only where Gemini supports it for the type.
fn drop_unsupported_format(out: &mut Map<String, Value>, type_name: Option<&str>) {
    if let Some(Value::String(format)) = out.get("format") {
        let supported = match type_name {
            Some("STRING") => matches!(format.as_str(), "enum" | "date-time"),
            Some("NUMBER") => matches!(format.as_str(), "float" | "double"),
            Some("INTEGER") => matches!(format.as_str(), "int32" | "int64"),
            _ => false,
        };
        if !supported {
            out.remove("format");
        }
    }
}

/// Moves `enum` into the description (`Allowed values: …`).
fn describe_enum(out: &mut Map<String, Value>) {
    if let Some(Value::Array(values)) = out.remove("enum") {
        let allowed: Vec<&str> = values.iter().filter_map(Value::as_str).collect();
        let note = format!("Allowed values: {}.", allowed.join(", "));
        let description = match out.get("description").and_then(Value::as_str) {
            Some(description) => format!("{description} {note}"),
            None => note,
        };
        out.insert("description".into(), description.into());
    }
}

/// Keeps `required` only on objects, naming only their properties, and never empty; drops an empty
/// `properties` map, which Gemini rejects on an OBJECT.
fn fit_required(out: &mut Map<String, Value>, is_object: bool) {
    if is_object || out.contains_key("properties") {
        let names: Vec<String> = out
            .get("properties")
            .and_then(Value::as_object)
            .map(|properties| properties.keys().cloned().collect())
            .unwrap_or_default();
        if let Some(Value::Array(required)) = out.get_mut("required") {
            required.retain(|name| name.as_str().is_some_and(|n| names.iter().any(|p| p == n)));
        }
        if names.is_empty() {
            out.remove("properties");
            out.remove("required");
        }
    } else {
        out.remove("required");
    }
    if matches!(out.get("required"), Some(Value::Array(required)) if required.is_empty()) {
        out.remove("required");
    }
}

/// Gemini enums are strings: strings stay, numbers and booleans are written out, `null` is dropped.
fn enum_strings(values: &[Value]) -> Vec<Value> {
    values
        .iter()
        .filter_map(|value| match value {
            Value::Null => None,
            Value::String(s) => Some(Value::String(s.clone())),
            other => Some(Value::String(other.to_string())),
        })
        .collect()
}

/// Merges two converted schemas: properties and required lists are united, other keys keep `base`'s value.
fn merge(base: Value, extra: Value) -> Value {
    let (Value::Object(mut base), Value::Object(extra)) = (base, extra) else {
        return json!({});
    };
    for (key, value) in extra {
        match (key.as_str(), base.get_mut(&key), value) {
            ("properties", Some(Value::Object(mine)), Value::Object(theirs)) => {
                for (name, property) in theirs {
                    mine.entry(name).or_insert(property);
                }
            }
            ("required", Some(Value::Array(mine)), Value::Array(theirs)) => {
                for name in theirs {
                    if !mine.contains(&name) {
                        mine.push(name);
                    }
                }
            }
            (_, Some(_), _) => {}
            (_, None, value) => {
                base.insert(key, value);
            }
        }
    }
    Value::Object(base)
}

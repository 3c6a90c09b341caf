//! Reading ProtoJSON robustly.
//!
//! The generated serde code reads enums by their canonical names and by numbers, but
//! fails on an alias (`COMPLETE` for `FINISHED_SUCCESS`) and on a name this version
//! does not know yet, and one new enum value from a server would then fail a whole
//! listing. [`from_value`] first rewrites every enum name in the JSON into its number,
//! guided by the descriptors, and drops values it does not know (an unknown value
//! reads as the field's default, as protobuf does for unknown enum numbers).
//!
//! ```
//! use gar_proto::grafeas::v1::DiscoveryOccurrence;
//!
//! let json = serde_json::json!({"analysisStatus": "COMPLETE", "continuousAnalysis": "SOMETHING_NEW"});
//! let d: DiscoveryOccurrence = gar_proto::json::from_value("grafeas.v1.DiscoveryOccurrence", json).unwrap();
//! assert_eq!(d.analysis_status, 3);
//! assert_eq!(d.continuous_analysis, 0);
//! ```

use std::collections::HashMap;
use std::sync::OnceLock;

use prost::Message;
use prost_types::field_descriptor_proto::Type;
use prost_types::{DescriptorProto, FileDescriptorSet};
use serde::de::DeserializeOwned;
use serde_json::Value;

struct Index {
    messages: HashMap<String, DescriptorProto>,
    enums: HashMap<String, HashMap<String, i32>>,
}

fn index() -> &'static Index {
    static INDEX: OnceLock<Index> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut idx = Index {
            messages: HashMap::new(),
            enums: HashMap::new(),
        };
        if let Ok(fds) = FileDescriptorSet::decode(crate::FILE_DESCRIPTOR_SET) {
            for file in fds.file {
                let prefix = format!(".{}", file.package());
                for e in &file.enum_type {
                    add_enum(&mut idx, &prefix, e);
                }
                for m in file.message_type {
                    add_message(&mut idx, &prefix, m);
                }
            }
        }
        idx
    })
}

fn add_enum(idx: &mut Index, prefix: &str, e: &prost_types::EnumDescriptorProto) {
    let values = e
        .value
        .iter()
        .map(|v| (v.name().to_owned(), v.number()))
        .collect();
    idx.enums.insert(format!("{prefix}.{}", e.name()), values);
}

fn add_message(idx: &mut Index, prefix: &str, m: DescriptorProto) {
    let name = format!("{prefix}.{}", m.name());
    for e in &m.enum_type {
        add_enum(idx, &name, e);
    }
    for nested in m.nested_type.clone() {
        add_message(idx, &name, nested);
    }
    idx.messages.insert(name, m);
}

/// Rewrites enum names in `value` (a JSON form of message `message`, such as
/// `grafeas.v1.Occurrence`) into numbers, dropping unknown ones.
pub fn normalize(message: &str, value: &mut Value) {
    let full = if message.starts_with('.') {
        message.to_owned()
    } else {
        format!(".{message}")
    };
    normalize_message(index(), &full, value);
}

fn normalize_message(idx: &Index, message: &str, value: &mut Value) {
    let (Some(desc), Value::Object(map)) = (idx.messages.get(message), value) else {
        return;
    };
    let mut drop = Vec::new();
    for (key, v) in map.iter_mut() {
        let Some(field) = desc
            .field
            .iter()
            .find(|f| f.json_name() == key || f.name() == key)
        else {
            continue;
        };
        let type_name = field.type_name();
        match field.r#type() {
            Type::Enum => {
                let keep = match v {
                    Value::Array(items) => {
                        items.retain_mut(|item| enum_value(idx, type_name, item));
                        true
                    }
                    other => enum_value(idx, type_name, other),
                };
                if !keep {
                    drop.push(key.clone());
                }
            }
            Type::Message => {
                let map_entry = idx
                    .messages
                    .get(type_name)
                    .is_some_and(|m| m.options.as_ref().is_some_and(|o| o.map_entry()));
                if map_entry {
                    normalize_map(idx, type_name, v);
                } else if let Value::Array(items) = v {
                    for item in items {
                        normalize_message(idx, type_name, item);
                    }
                } else {
                    normalize_message(idx, type_name, v);
                }
            }
            _ => {}
        }
    }
    for key in drop {
        map.remove(&key);
    }
}

fn normalize_map(idx: &Index, entry: &str, v: &mut Value) {
    let Some(value_field) = idx
        .messages
        .get(entry)
        .and_then(|m| m.field.iter().find(|f| f.number() == 2))
    else {
        return;
    };
    let Value::Object(entries) = v else { return };
    match value_field.r#type() {
        Type::Enum => {
            entries.retain(|_, item| enum_value(idx, value_field.type_name(), item));
        }
        Type::Message => {
            for item in entries.values_mut() {
                normalize_message(idx, value_field.type_name(), item);
            }
        }
        _ => {}
    }
}

/// Turns one enum value into its number; `false` when it is unknown.
fn enum_value(idx: &Index, enum_name: &str, v: &mut Value) -> bool {
    match v {
        Value::String(name) => match idx.enums.get(enum_name).and_then(|e| e.get(name.as_str())) {
            Some(n) => {
                *v = Value::from(*n);
                true
            }
            None => false,
        },
        Value::Number(_) | Value::Null => true,
        _ => false,
    }
}

/// Reads message `message` (its full proto name, such as `grafeas.v1.Occurrence`)
/// from ProtoJSON, accepting enum aliases and unknown enum values.
pub fn from_value<T: DeserializeOwned>(
    message: &str,
    mut value: Value,
) -> Result<T, serde_json::Error> {
    normalize(message, &mut value);
    serde_json::from_value(value)
}

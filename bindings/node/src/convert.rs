//! Conversions between facade values and JavaScript-bound JSON.

use serde::Serialize;
use serde_json::Value;

/// `value` as JSON in its ProtoJSON shape (int64 as strings, enums as names).
pub(crate) fn to_json<T: Serialize>(value: &T) -> gar::Result<Value> {
    serde_json::to_value(value).map_err(|e| {
        gar::Error::new(
            gar::ErrorKind::InvalidResponse,
            format!("a result could not be converted for JavaScript: {e}"),
        )
    })
}

/// `value` as JSON with its snake_case field names in camelCase, for the report
/// types that serialize Rust field names. Only keys that look like identifiers
/// (`resource_uri`) change; data keys (resource URLs, severities, algorithms) stay.
pub(crate) fn to_camel_json<T: Serialize>(value: &T) -> gar::Result<Value> {
    Ok(camel(to_json(value)?))
}

fn camel(v: Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (camel_key(k), camel(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(camel).collect()),
        other => other,
    }
}

fn camel_key(k: String) -> String {
    let identifier = k.starts_with(|c: char| c.is_ascii_lowercase())
        && k.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !identifier || !k.contains('_') {
        return k;
    }
    let mut out = String::with_capacity(k.len());
    let mut upper = false;
    for c in k.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// One page of a list as JSON text, written straight from the items (no
/// `Value` tree in between: a list's pages are the most frequent results).
pub(crate) fn page<T: Serialize>(
    items: &[T],
    next_page_token: Option<&str>,
) -> gar::Result<String> {
    #[derive(Serialize)]
    struct Page<'a, T> {
        items: &'a [T],
        #[serde(rename = "nextPageToken")]
        next_page_token: Option<&'a str>,
    }
    serde_json::to_string(&Page {
        items,
        next_page_token,
    })
    .map_err(|e| {
        gar::Error::new(
            gar::ErrorKind::InvalidResponse,
            format!("a result could not be converted for JavaScript: {e}"),
        )
    })
}

/// A JSON value given by JavaScript as the facade type `T`; `what` names it in the error.
pub(crate) fn from_json<T: serde::de::DeserializeOwned>(
    value: Value,
    what: &str,
) -> gar::Result<T> {
    serde_json::from_value(value).map_err(|e| {
        gar::Error::new(
            gar::ErrorKind::InvalidArgument,
            format!("{what} is not valid: {e}"),
        )
    })
}

/// Milliseconds from JavaScript as a duration.
pub(crate) fn millis(ms: u32) -> std::time::Duration {
    std::time::Duration::from_millis(u64::from(ms))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_page_holds_its_items_and_token() {
        let p = page(&["a", "b"], Some("t")).unwrap();
        let v: Value = serde_json::from_str(&p).unwrap();
        assert_eq!(v, json!({"items": ["a", "b"], "nextPageToken": "t"}));
        let last = page::<String>(&[], None).unwrap();
        let v: Value = serde_json::from_str(&last).unwrap();
        assert_eq!(v, json!({"items": [], "nextPageToken": null}));
    }

    #[test]
    fn snake_case_fields_become_camel_case_but_data_keys_stay() {
        let v = json!({"resource_uri": "u", "counts": {"CRITICAL": {"total": 1}},
            "resources": {"https://x/a_b@sha256:0": {"fix_available": true}},
            "sbom_references": [{"mime_type": "m"}]});
        let c = camel(v);
        assert_eq!(
            c,
            json!({"resourceUri": "u", "counts": {"CRITICAL": {"total": 1}},
                "resources": {"https://x/a_b@sha256:0": {"fixAvailable": true}},
                "sbomReferences": [{"mimeType": "m"}]})
        );
    }

    #[test]
    fn bad_input_is_an_invalid_argument() {
        let e = from_json::<u32>(json!("x"), "the page size").unwrap_err();
        assert_eq!(e.kind(), gar::ErrorKind::InvalidArgument);
        assert!(e.to_string().starts_with("the page size is not valid"));
        assert_eq!(millis(1500), std::time::Duration::from_millis(1500));
    }
}

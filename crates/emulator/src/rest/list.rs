//! Listing: `pageSize` (at most 1000), `pageToken`, `filter` and `orderBy` over the
//! entries a handler collects.
//!
//! A page token is a cursor: the sort key of the last entry handed out (the
//! order always ends with the name, so keys are unique) and a fingerprint of the
//! parent, filter and order. The next page starts after that key, so tokens stay
//! valid while the listing proceeds, whatever is created or deleted meanwhile
//! (nothing is skipped or repeated); a token used with another filter or order
//! is refused.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use gar_core::protojson::Timestamp;
use serde_json::{Value, json};

use super::filter::Filter;
use super::{Call, invalid};
use crate::wire::Resp;

/// The default page size when the request gives none.
const DEFAULT_PAGE_SIZE: usize = 100;
/// The largest page size; larger requests are served this many.
const MAX_PAGE_SIZE: usize = 1000;

/// A sortable value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Key {
    /// Text (names).
    Str(String),
    /// Numbers and instants (nanoseconds since the epoch).
    Int(i128),
}

impl Key {
    /// An instant's key.
    pub(crate) fn time(t: &Timestamp) -> Self {
        Self::Int(i128::from(t.unix_seconds()) * 1_000_000_000 + i128::from(t.subsec_nanos()))
    }

    fn encode(&self) -> Value {
        match self {
            Self::Str(s) => json!({ "s": s }),
            Self::Int(n) => json!({ "i": n.to_string() }),
        }
    }

    fn decode(v: &Value) -> Option<Self> {
        if let Some(s) = v.get("s").and_then(Value::as_str) {
            return Some(Self::Str(s.to_owned()));
        }
        v.get("i")
            .and_then(Value::as_str)
            .and_then(|s| s.parse().ok())
            .map(Self::Int)
    }
}

/// One listable resource.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// Its full name.
    pub name: String,
    /// Its JSON.
    pub json: Value,
    /// Other text fields filters may name (`owner`, `version`).
    pub fields: Vec<(&'static str, String)>,
    /// Its annotations (for `annotations.` filters).
    pub annotations: BTreeMap<String, String>,
    /// Sortable fields besides the name (`create_time`, ...), snake_case.
    pub keys: Vec<(&'static str, Key)>,
}

impl Entry {
    /// An entry with no filterable or sortable fields besides its name.
    pub(crate) fn new(name: String, json: Value) -> Self {
        Self {
            name,
            json,
            fields: Vec::new(),
            annotations: BTreeMap::new(),
            keys: Vec::new(),
        }
    }

    /// Adds the sort keys `create_time` and `update_time`.
    pub(crate) fn times(mut self, create: &Timestamp, update: &Timestamp) -> Self {
        self.keys.push(("create_time", Key::time(create)));
        self.keys.push(("update_time", Key::time(update)));
        self
    }

    /// The text field `field`, for filters.
    pub(crate) fn text(&self, field: &str) -> Option<&str> {
        if field == "name" {
            return Some(&self.name);
        }
        self.fields
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, v)| v.as_str())
    }

    fn key(&self, field: &str) -> Key {
        if field == "name" {
            return Key::Str(self.name.clone());
        }
        self.keys
            .iter()
            .find(|(f, _)| *f == field)
            .map_or(Key::Int(i128::MIN), |(_, k)| k.clone())
    }
}

/// What a list supports.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Spec {
    /// The JSON key of the items (`versions`).
    pub key: &'static str,
    /// Fields `filter` may name; empty: no filter parameter.
    pub filter_fields: &'static [&'static str],
    /// Fields `orderBy` may name (snake_case); empty: no orderBy parameter.
    pub order_fields: &'static [&'static str],
}

/// `createTime` -> `create_time`.
pub(crate) fn snake_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    for c in s.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Parses `orderBy`: `field [asc|desc], ...`; the name ends every order.
fn parse_order(text: &str, allowed: &[&str]) -> Result<Vec<(String, bool)>, String> {
    let mut order = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let mut words = part.split_whitespace();
        let field = snake_case(words.next().unwrap_or_default());
        let desc = match words.next().map(str::to_ascii_lowercase).as_deref() {
            None | Some("asc") => false,
            Some("desc") => true,
            Some(other) => return Err(format!("orderBy: {other:?} is neither asc nor desc")),
        };
        if words.next().is_some() {
            return Err(format!("orderBy: cannot parse {part:?}"));
        }
        if !allowed.contains(&field.as_str()) {
            return Err(format!(
                "orderBy: the field {field:?} is not supported; use one of {}",
                allowed.join(", ")
            ));
        }
        order.push((field, desc));
    }
    if !order.iter().any(|(f, _)| f == "name") {
        order.push(("name".to_owned(), false));
    }
    Ok(order)
}

fn fingerprint(parts: &[&str]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain(std::iter::once(0)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

fn compare(a: &[Key], b: &[Key], order: &[(String, bool)]) -> Ordering {
    for ((x, y), (_, desc)) in a.iter().zip(b).zip(order) {
        let o = x.cmp(y);
        let o = if *desc { o.reverse() } else { o };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

/// One page of `entries` (filtered and sorted per the call) as the list's JSON:
/// `{key: [...], nextPageToken}`.
pub(crate) fn page(
    call: &Call,
    parent: &str,
    entries: Vec<Entry>,
    spec: Spec,
) -> Result<Value, Resp> {
    let page_size = match call.param("pageSize") {
        None | Some("") => DEFAULT_PAGE_SIZE,
        Some(s) => match s.parse::<i64>() {
            Ok(n) if n < 0 => return Err(invalid("pageSize must not be negative")),
            Ok(0) => DEFAULT_PAGE_SIZE,
            Ok(n) => usize::try_from(n)
                .unwrap_or(MAX_PAGE_SIZE)
                .min(MAX_PAGE_SIZE),
            Err(_) => return Err(invalid(&format!("pageSize {s:?} is not a number"))),
        },
    };
    let filter_text = if spec.filter_fields.is_empty() {
        ""
    } else {
        call.param("filter").unwrap_or_default()
    };
    let filter = Filter::parse(filter_text, spec.filter_fields).map_err(|e| invalid(&e))?;
    let order_text = if spec.order_fields.is_empty() {
        ""
    } else {
        call.param("orderBy").unwrap_or_default()
    };
    let order = parse_order(order_text, spec.order_fields).map_err(|e| invalid(&e))?;
    let print = fingerprint(&[parent, filter_text, order_text]);
    let cursor: Option<Vec<Key>> = match call.param("pageToken") {
        None | Some("") => None,
        Some(token) => Some(decode_token(token, &print, order.len()).ok_or_else(|| {
            invalid("the page token is not valid for this request (it belongs to another listing, filter or order)")
        })?),
    };
    let mut rows: Vec<(Vec<Key>, Entry)> = entries
        .into_iter()
        .filter(|e| filter.matches(e))
        .map(|e| (order.iter().map(|(f, _)| e.key(f)).collect(), e))
        .collect();
    rows.sort_by(|a, b| compare(&a.0, &b.0, &order));
    let start = match &cursor {
        None => 0,
        Some(c) => rows.partition_point(|(k, _)| compare(k, c, &order) != Ordering::Greater),
    };
    let rest = rows.len().saturating_sub(start);
    let take = rest.min(page_size);
    let mut items = Vec::with_capacity(take);
    let mut last_key = None;
    for (k, e) in rows.into_iter().skip(start).take(take) {
        items.push(e.json);
        last_key = Some(k);
    }
    let mut out = serde_json::Map::new();
    out.insert(spec.key.to_owned(), Value::Array(items));
    if rest > take
        && let Some(k) = last_key
    {
        out.insert(
            "nextPageToken".into(),
            Value::from(encode_token(&print, &k)),
        );
    }
    Ok(Value::Object(out))
}

fn encode_token(print: &str, keys: &[Key]) -> String {
    let v = json!({"p": print, "k": keys.iter().map(Key::encode).collect::<Vec<_>>()});
    URL_SAFE_NO_PAD.encode(v.to_string())
}

fn decode_token(token: &str, print: &str, len: usize) -> Option<Vec<Key>> {
    let bytes = URL_SAFE_NO_PAD.decode(token.trim_end_matches('=')).ok()?;
    let v: Value = serde_json::from_slice(&bytes).ok()?;
    if v.get("p").and_then(Value::as_str) != Some(print) {
        return None;
    }
    let keys: Vec<Key> = v
        .get("k")?
        .as_array()?
        .iter()
        .map(Key::decode)
        .collect::<Option<_>>()?;
    (keys.len() == len).then_some(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_parse() {
        assert_eq!(
            parse_order("createTime desc", &["name", "create_time"]).unwrap(),
            vec![("create_time".into(), true), ("name".into(), false)]
        );
        assert!(parse_order("size", &["name"]).is_err());
        assert!(parse_order("name sideways", &["name"]).is_err());
        let keys = vec![Key::Int(5), Key::Str("x".into())];
        let t = encode_token("abc", &keys);
        assert_eq!(decode_token(&t, "abc", 2), Some(keys));
        assert_eq!(decode_token(&t, "abd", 2), None);
        assert_eq!(decode_token("garbage", "abc", 2), None);
    }
}

//! The `filter` of list calls, as Artifact Registry documents it:
//!
//! - `name="projects/p/locations/l/repositories/r/packages/a%2Fb"`, with `*`
//!   wildcards anywhere in the value (`name="*/packages/app*"`);
//! - other text fields the same way (`owner=...` for files, `version=...` for tags);
//! - `annotations.KEY:VALUE` (also `=`), keys with dots in backticks
//!   (``annotations.`a.b/c`:`v` ``), `*` wildcards in keys and values, and
//!   `annotations:KEY` for "has the key";
//! - clauses joined by `AND` and `OR` (AND binds tighter), each optionally
//!   negated with `NOT` or `-`; `!=` negates a single comparison.

use super::list::Entry;

/// A parsed filter: OR of ANDs of clauses. The empty filter matches everything.
#[derive(Debug, Clone, Default)]
pub(crate) struct Filter {
    any: Vec<Vec<Clause>>,
}

#[derive(Debug, Clone)]
struct Clause {
    negate: bool,
    test: Test,
}

#[derive(Debug, Clone)]
enum Test {
    /// A text field against a pattern.
    Text { field: String, pattern: String },
    /// An annotation whose key and value match.
    Annotation { key: String, value: String },
    /// Some annotation key matches.
    HasAnnotation { key: String },
}

/// Splits on whitespace outside quotes and backticks.
fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    for c in text.chars() {
        match quote {
            Some(q) => {
                cur.push(c);
                if c == q {
                    quote = None;
                }
            }
            None if c == '"' || c == '`' => {
                quote = Some(c);
                cur.push(c);
            }
            None if c.is_whitespace() => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            None => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn unquote(s: &str) -> &str {
    let s = s.trim();
    for q in ['"', '`'] {
        if let Some(inner) = s.strip_prefix(q).and_then(|r| r.strip_suffix(q)) {
            return inner;
        }
    }
    s
}

/// Finds the comparison operator outside quotes: `!=`, `=` or `:`.
fn split_op(clause: &str) -> Option<(&str, &str, &str)> {
    let mut quote: Option<char> = None;
    let mut bracket = false;
    for (i, c) in clause.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                '"' | '`' => quote = Some(c),
                '[' => bracket = true,
                ']' => bracket = false,
                '!' if !bracket && clause.get(i + 1..i + 2) == Some("=") => {
                    return Some((clause.get(..i)?, "!=", clause.get(i + 2..)?));
                }
                '=' | ':' if !bracket => {
                    return Some((clause.get(..i)?, clause.get(i..=i)?, clause.get(i + 1..)?));
                }
                _ => {}
            },
        }
    }
    None
}

impl Filter {
    /// Parses `text`; fields other than `allowed` (and `annotations` when listed) are refused.
    pub(crate) fn parse(text: &str, allowed: &[&str]) -> Result<Self, String> {
        let mut any = Vec::new();
        let mut all = Vec::new();
        let mut clause_words: Vec<String> = Vec::new();
        let mut negate_next = false;
        let flush = |clause_words: &mut Vec<String>,
                     all: &mut Vec<Clause>,
                     negate: &mut bool|
         -> Result<(), String> {
            if clause_words.is_empty() {
                return Err(format!("filter {text:?}: an operand is missing"));
            }
            let joined = clause_words.join(" ");
            clause_words.clear();
            all.push(Self::clause(&joined, std::mem::take(negate), allowed)?);
            Ok(())
        };
        for w in words(text) {
            match w.as_str() {
                "AND" => flush(&mut clause_words, &mut all, &mut negate_next)?,
                "OR" => {
                    flush(&mut clause_words, &mut all, &mut negate_next)?;
                    any.push(std::mem::take(&mut all));
                }
                "NOT" if clause_words.is_empty() => negate_next = !negate_next,
                _ => clause_words.push(w),
            }
        }
        if !clause_words.is_empty() {
            flush(&mut clause_words, &mut all, &mut negate_next)?;
        } else if !all.is_empty() || !any.is_empty() {
            return Err(format!("filter {text:?} ends with an operator"));
        }
        if !all.is_empty() {
            any.push(all);
        }
        Ok(Self { any })
    }

    fn clause(text: &str, negate: bool, allowed: &[&str]) -> Result<Clause, String> {
        let (mut negate, text) = match text.strip_prefix('-') {
            Some(rest) => (!negate, rest),
            None => (negate, text),
        };
        let Some((field, op, value)) = split_op(text) else {
            return Err(format!(
                "filter clause {text:?} has no operator; write field=\"value\""
            ));
        };
        if op == "!=" {
            negate = !negate;
        }
        let field = field.trim();
        let value = unquote(value).to_owned();
        let test = if let Some(rest) = field.strip_prefix("annotations") {
            if !allowed.contains(&"annotations") {
                return Err("this list cannot be filtered by annotations".to_owned());
            }
            let key = rest.trim();
            if key.is_empty() {
                Test::HasAnnotation { key: value }
            } else {
                let key = key.strip_prefix('.').unwrap_or(key);
                let key = key
                    .strip_prefix('[')
                    .and_then(|k| k.strip_suffix(']'))
                    .unwrap_or(key);
                Test::Annotation {
                    key: unquote(key).to_owned(),
                    value,
                }
            }
        } else {
            if !allowed.contains(&field) {
                return Err(format!(
                    "the filter field {field:?} is not supported here; use {}",
                    allowed.join(", ")
                ));
            }
            Test::Text {
                field: field.to_owned(),
                pattern: value,
            }
        };
        Ok(Clause { negate, test })
    }

    /// Whether `entry` passes.
    pub(crate) fn matches(&self, entry: &Entry) -> bool {
        self.any.is_empty()
            || self
                .any
                .iter()
                .any(|all| all.iter().all(|c| c.matches(entry)))
    }
}

impl Clause {
    fn matches(&self, e: &Entry) -> bool {
        let hit = match &self.test {
            Test::Text { field, pattern } => e.text(field).is_some_and(|v| glob(pattern, v)),
            Test::Annotation { key, value } => e
                .annotations
                .iter()
                .any(|(k, v)| glob(key, k) && glob(value, v)),
            Test::HasAnnotation { key } => e.annotations.keys().any(|k| glob(key, k)),
        };
        hit != self.negate
    }
}

/// `*` matches any run of characters; everything else matches itself.
pub(crate) fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(c) if Some(c) == t.get(ti) => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p.get(pi..).unwrap_or_default().iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn entry(name: &str, annotations: &[(&str, &str)]) -> Entry {
        let mut e = Entry::new(name.into(), serde_json::Value::Null);
        e.annotations = annotations
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<BTreeMap<_, _>>();
        e.fields.push(("owner", "o/1".into()));
        e
    }

    #[test]
    fn globs() {
        assert!(glob("a*c", "abbbc"));
        assert!(glob("*", ""));
        assert!(glob("*b*", "abc"));
        assert!(!glob("a*c", "abcd"));
        assert!(glob("a%2F*", "a%2Fb"));
    }

    #[test]
    fn filters_match() {
        let fields = &["name", "owner", "annotations"];
        let e = entry("p/packages/app", &[("team", "web"), ("a.b/c", "x")]);
        let yes = [
            "",
            r#"name="p/packages/app""#,
            r#"name="*app""#,
            "name=*/packages/*",
            r#"annotations.team:"web""#,
            "annotations.team:*",
            "annotations.`a.b/c`:`x`",
            r#"annotations["a.b/c"]="x""#,
            "annotations:team",
            r#"name="nope" OR annotations.team=web"#,
            r#"name="*app" AND NOT owner="x""#,
            r#"-name="nope""#,
            r#"name!="nope""#,
            r#"owner="o/*""#,
        ];
        for f in yes {
            assert!(Filter::parse(f, fields).unwrap().matches(&e), "{f}");
        }
        let no = [
            r#"name="app""#,
            "annotations.team:db",
            "annotations:missing",
            r#"name="*app" AND annotations.team=db"#,
        ];
        for f in no {
            assert!(!Filter::parse(f, fields).unwrap().matches(&e), "{f}");
        }
        for bad in ["size=3", "name", "name=a AND", "annotations.x=y"] {
            assert!(Filter::parse(bad, &["name"]).is_err(), "{bad}");
        }
    }
}

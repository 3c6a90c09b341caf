//! The filter expressions of listings: conjunctions (`AND`) of equality terms,
//! `kind="VULNERABILITY" AND resourceUrl="https://..."`. Values may be quoted
//! (with `\"` and `\\` escapes) or bare words.

use gar_proto::grafeas::v1::{Note, NoteKind, Occurrence};

/// A field a filter can test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Key {
    /// The kind (`VULNERABILITY`, ...).
    Kind,
    /// An occurrence's resource (`resourceUrl`, the API's filter name for `resourceUri`).
    ResourceUrl,
    /// An occurrence's note name.
    NoteName,
    /// The last segment of an occurrence's note name.
    NoteId,
    /// A note's full name.
    Name,
}

impl Key {
    fn parse(word: &str) -> Option<Self> {
        Some(match word {
            "kind" => Self::Kind,
            "resourceUrl" | "resource_url" | "resourceUri" | "resource_uri" => Self::ResourceUrl,
            "noteName" | "note_name" => Self::NoteName,
            "noteId" | "note_id" => Self::NoteId,
            "name" => Self::Name,
            _ => return None,
        })
    }
}

/// The fields occurrence listings filter on.
pub(crate) const OCCURRENCE_KEYS: &[Key] =
    &[Key::Kind, Key::ResourceUrl, Key::NoteName, Key::NoteId];
/// The fields note listings filter on.
pub(crate) const NOTE_KEYS: &[Key] = &[Key::Kind, Key::Name];

/// A parsed filter; empty matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Filter {
    terms: Vec<(Key, String)>,
}

fn unsupported(allowed: &[Key]) -> String {
    let names: Vec<&str> = allowed
        .iter()
        .map(|k| match k {
            Key::Kind => "kind",
            Key::ResourceUrl => "resourceUrl",
            Key::NoteName => "noteName",
            Key::NoteId => "noteId",
            Key::Name => "name",
        })
        .collect();
    format!(
        "the emulator filters on {} with `=`, joined by AND",
        names.join(", ")
    )
}

impl Filter {
    /// Parses `text`, accepting only the fields in `allowed`.
    pub(crate) fn parse(text: &str, allowed: &[Key]) -> Result<Self, String> {
        let mut terms = Vec::new();
        let mut chars = text.chars().peekable();
        let skip_ws = |chars: &mut std::iter::Peekable<std::str::Chars<'_>>| {
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
        };
        loop {
            skip_ws(&mut chars);
            if chars.peek().is_none() {
                break;
            }
            if !terms.is_empty() {
                let word: String =
                    std::iter::from_fn(|| chars.next_if(|c| c.is_ascii_alphabetic())).collect();
                if word != "AND" {
                    return Err(format!(
                        "invalid filter {text:?}: expected AND, found {word:?}; {}",
                        unsupported(allowed)
                    ));
                }
                skip_ws(&mut chars);
            }
            let field: String =
                std::iter::from_fn(|| chars.next_if(|c| c.is_ascii_alphanumeric() || *c == '_'))
                    .collect();
            let key = Key::parse(&field)
                .filter(|k| allowed.contains(k))
                .ok_or_else(|| {
                    format!(
                        "invalid filter {text:?}: unsupported field {field:?}; {}",
                        unsupported(allowed)
                    )
                })?;
            skip_ws(&mut chars);
            if chars.next() != Some('=') {
                return Err(format!(
                    "invalid filter {text:?}: expected `=` after {field}; {}",
                    unsupported(allowed)
                ));
            }
            skip_ws(&mut chars);
            let value = if chars.peek() == Some(&'"') {
                chars.next();
                let mut v = String::new();
                loop {
                    match chars.next() {
                        None => {
                            return Err(format!("invalid filter {text:?}: unterminated string"));
                        }
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c) => v.push(c),
                            None => {
                                return Err(format!(
                                    "invalid filter {text:?}: unterminated string"
                                ));
                            }
                        },
                        Some(c) => v.push(c),
                    }
                }
                v
            } else {
                std::iter::from_fn(|| {
                    chars.next_if(|c| !c.is_whitespace() && *c != '(' && *c != ')')
                })
                .collect()
            };
            if value.is_empty() {
                return Err(format!("invalid filter {text:?}: {field} has no value"));
            }
            if key == Key::Kind && NoteKind::from_str_name(&value).is_none() {
                return Err(format!("invalid filter {text:?}: {value:?} is not a kind"));
            }
            terms.push((key, value));
        }
        Ok(Self { terms })
    }

    /// The value of the first term on `key`.
    pub(crate) fn value(&self, key: Key) -> Option<&str> {
        self.terms
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Whether `o` satisfies every term.
    pub(crate) fn matches_occurrence(&self, o: &Occurrence) -> bool {
        self.terms.iter().all(|(key, value)| match key {
            Key::Kind => kind_name(o.kind) == value,
            Key::ResourceUrl => o.resource_uri == *value,
            Key::NoteName => o.note_name == *value,
            Key::NoteId => o.note_name.rsplit('/').next() == Some(value.as_str()),
            Key::Name => o.name == *value,
        })
    }

    /// Whether `n` satisfies every term.
    pub(crate) fn matches_note(&self, n: &Note) -> bool {
        self.terms.iter().all(|(key, value)| match key {
            Key::Kind => kind_name(n.kind) == value,
            Key::Name => n.name == *value,
            Key::ResourceUrl | Key::NoteName | Key::NoteId => false,
        })
    }
}

fn kind_name(kind: i32) -> &'static str {
    NoteKind::try_from(kind).map_or("NOTE_KIND_UNSPECIFIED", |k| k.as_str_name())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_conjunctions_of_equalities() {
        let f = Filter::parse(
            r#"kind="VULNERABILITY" AND resourceUrl = "https://x/a\"b" AND noteId=CVE-1"#,
            OCCURRENCE_KEYS,
        )
        .unwrap();
        assert_eq!(f.value(Key::Kind), Some("VULNERABILITY"));
        assert_eq!(f.value(Key::ResourceUrl), Some("https://x/a\"b"));
        let o = Occurrence {
            kind: NoteKind::Vulnerability as i32,
            resource_uri: "https://x/a\"b".into(),
            note_name: "projects/goog-vulnz/notes/CVE-1".into(),
            ..Default::default()
        };
        assert!(f.matches_occurrence(&o));
        let other = Occurrence {
            kind: NoteKind::Discovery as i32,
            ..o.clone()
        };
        assert!(!f.matches_occurrence(&other));
        assert!(
            Filter::parse("", OCCURRENCE_KEYS)
                .unwrap()
                .matches_occurrence(&other)
        );
    }

    #[test]
    fn refuses_what_it_cannot_evaluate() {
        for bad in [
            r#"kind="VULNERABILITY" OR kind="DISCOVERY""#,
            r#"severity="HIGH""#,
            r#"kind="NOT_A_KIND""#,
            r#"kind="VULNERABILITY"#,
            "kind=",
            "kind",
            r#"name="x""#,
        ] {
            assert!(Filter::parse(bad, OCCURRENCE_KEYS).is_err(), "{bad}");
        }
        assert!(Filter::parse(r#"name="projects/p/notes/n""#, NOTE_KEYS).is_ok());
        assert!(Filter::parse(r#"resourceUrl="x""#, NOTE_KEYS).is_err());
    }
}

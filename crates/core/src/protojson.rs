//! ProtoJSON helpers: the JSON encoding rules of Google's REST APIs.
//!
//! - int64 and uint64 are strings (`"1024"`) and numbers are accepted too: [`int64`],
//!   [`uint64`] and their `option_*` variants, for `#[serde(with = "...")]`.
//! - Enums are names and numbers are accepted, with a fallback for values this
//!   version does not know: the [`proto_enum!`](crate::proto_enum) macro.
//! - `google.protobuf.Duration` is `"86400s"`: [`parse_duration`], [`format_duration`]
//!   and the serde module [`duration`].
//! - `google.protobuf.Timestamp` is RFC 3339: [`Timestamp`].
//!
//! ```
//! use gar_core::protojson::{self, Timestamp};
//! use std::time::Duration;
//!
//! #[derive(serde::Deserialize)]
//! #[serde(rename_all = "camelCase")]
//! struct Repo {
//!     #[serde(with = "protojson::int64", default)]
//!     size_bytes: i64,
//!     create_time: Timestamp,
//! }
//! let repo: Repo = serde_json::from_str(
//!     r#"{"sizeBytes": "1024", "createTime": "2024-03-01T12:00:00.5+01:00"}"#,
//! ).unwrap();
//! assert_eq!(repo.size_bytes, 1024);
//! assert_eq!(repo.create_time.to_string(), "2024-03-01T11:00:00.500Z");
//! assert_eq!(protojson::parse_duration("86400s").unwrap(), Duration::from_secs(86400));
//! ```

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::error::{Error, ErrorKind};

fn invalid(what: &str, input: &str, reason: impl fmt::Display) -> Error {
    Error::invalid(ErrorKind::InvalidArgument, what, input, reason)
}

macro_rules! int_module {
    ($module:ident, $option:ident, $ty:ty, $doc:literal) => {
        #[doc = concat!("Serde for ", $doc, " as ProtoJSON: written as a string, read from a string or a number.")]
        pub mod $module {
            use super::*;

            /// Writes the value as a decimal string.
            pub fn serialize<S: Serializer>(value: &$ty, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(value)
            }

            /// Reads a decimal string or a JSON number.
            pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<$ty, D::Error> {
                struct V;
                impl Visitor<'_> for V {
                    type Value = $ty;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str(concat!($doc, " as a string or a number"))
                    }
                    fn visit_str<E: de::Error>(self, v: &str) -> Result<$ty, E> {
                        v.trim().parse::<$ty>().map_err(|_| {
                            E::custom(format!(concat!("invalid ", $doc, " {:?}"), v))
                        })
                    }
                    fn visit_i64<E: de::Error>(self, v: i64) -> Result<$ty, E> {
                        <$ty>::try_from(v).map_err(|_| E::custom(concat!($doc, " out of range")))
                    }
                    fn visit_u64<E: de::Error>(self, v: u64) -> Result<$ty, E> {
                        <$ty>::try_from(v).map_err(|_| E::custom(concat!($doc, " out of range")))
                    }
                    fn visit_f64<E: de::Error>(self, v: f64) -> Result<$ty, E> {
                        // JSON numbers such as 1e3 or 12.0 that hold an integer value.
                        if v.fract() == 0.0 && v.abs() < 9.007_199_254_740_992e15 {
                            #[allow(clippy::cast_possible_truncation)]
                            let i = v as i64;
                            <$ty>::try_from(i).map_err(|_| E::custom(concat!($doc, " out of range")))
                        } else {
                            Err(E::custom(concat!($doc, " is not an integer")))
                        }
                    }
                }
                d.deserialize_any(V)
            }
        }

        #[doc = concat!("Serde for `Option<", stringify!($ty), ">` as ProtoJSON (absent or null is `None`); use with `#[serde(default)]`.")]
        pub mod $option {
            use super::*;

            /// Writes `Some` as a decimal string and `None` as null.
            pub fn serialize<S: Serializer>(value: &Option<$ty>, s: S) -> Result<S::Ok, S::Error> {
                match value {
                    Some(v) => s.collect_str(v),
                    None => s.serialize_none(),
                }
            }

            /// Reads null, a decimal string or a JSON number.
            pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<$ty>, D::Error> {
                struct Wrap($ty);
                impl<'de> Deserialize<'de> for Wrap {
                    fn deserialize<D2: Deserializer<'de>>(d: D2) -> Result<Self, D2::Error> {
                        super::$module::deserialize(d).map(Wrap)
                    }
                }
                Ok(Option::<Wrap>::deserialize(d)?.map(|w| w.0))
            }
        }
    };
}

int_module!(int64, option_int64, i64, "an int64");
int_module!(uint64, option_uint64, u64, "a uint64");

/// Parses a `google.protobuf.Duration` in its JSON form: seconds with up to nine
/// fractional digits and the suffix `s` (`"86400s"`, `"1.5s"`). Negative durations
/// are refused: gar never needs them.
pub fn parse_duration(input: &str) -> Result<Duration, Error> {
    let what = "duration";
    let Some(number) = input.strip_suffix('s') else {
        return Err(invalid(
            what,
            input,
            "expected seconds with the suffix 's', such as \"86400s\"",
        ));
    };
    if number.starts_with('-') {
        return Err(invalid(what, input, "negative durations are not supported"));
    }
    let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(what, input, "the seconds must be decimal digits"));
    }
    if frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(
            what,
            input,
            "at most nine fractional digits are allowed",
        ));
    }
    if number.contains('.') && frac.is_empty() {
        return Err(invalid(what, input, "a '.' must be followed by digits"));
    }
    let secs: u64 = whole
        .parse()
        .map_err(|_| invalid(what, input, "the seconds are out of range"))?;
    // Proto durations are limited to about 10,000 years.
    if secs > 315_576_000_000 {
        return Err(invalid(
            what,
            input,
            "longer than the 10,000 years a Duration can hold",
        ));
    }
    let nanos = if frac.is_empty() {
        0
    } else {
        let padded = format!("{frac:0<9}");
        padded
            .parse::<u32>()
            .map_err(|_| invalid(what, input, "bad fraction"))?
    };
    Ok(Duration::new(secs, nanos))
}

/// Formats a duration as ProtoJSON: `"86400s"`, `"1.500s"` (0, 3, 6 or 9 fractional digits).
pub fn format_duration(d: Duration) -> String {
    format!("{}{}s", d.as_secs(), fraction(d.subsec_nanos()))
}

fn fraction(nanos: u32) -> String {
    if nanos == 0 {
        String::new()
    } else if nanos.is_multiple_of(1_000_000) {
        format!(".{:03}", nanos / 1_000_000)
    } else if nanos.is_multiple_of(1_000) {
        format!(".{:06}", nanos / 1_000)
    } else {
        format!(".{nanos:09}")
    }
}

/// Serde for `std::time::Duration` as a ProtoJSON `google.protobuf.Duration` string.
pub mod duration {
    use super::*;

    /// Writes `"86400s"`.
    pub fn serialize<S: Serializer>(value: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_duration(*value))
    }

    /// Reads `"86400s"`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let s = std::borrow::Cow::<str>::deserialize(d)?;
        parse_duration(&s).map_err(de::Error::custom)
    }
}

/// Serde for `Option<std::time::Duration>`; use with `#[serde(default)]`.
pub mod option_duration {
    use super::*;

    /// Writes `Some` as `"86400s"` and `None` as null.
    pub fn serialize<S: Serializer>(value: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(v) => s.serialize_str(&format_duration(*v)),
            None => s.serialize_none(),
        }
    }

    /// Reads null or `"86400s"`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        let s = Option::<std::borrow::Cow<'_, str>>::deserialize(d)?;
        s.map(|s| parse_duration(&s).map_err(de::Error::custom))
            .transpose()
    }
}

/// A `google.protobuf.Timestamp`: an instant with nanosecond precision, written as
/// RFC 3339 in UTC (`2024-03-01T11:00:00.500Z`), read with any offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp {
    seconds: i64,
    nanos: u32,
}

/// 0001-01-01T00:00:00Z, the earliest Timestamp.
const MIN_SECONDS: i64 = -62_135_596_800;
/// 9999-12-31T23:59:59Z, the latest Timestamp.
const MAX_SECONDS: i64 = 253_402_300_799;

impl Timestamp {
    /// The instant `seconds` (and `nanos`) after the Unix epoch, if within years 1 to 9999.
    pub fn from_unix(seconds: i64, nanos: u32) -> Option<Self> {
        ((MIN_SECONDS..=MAX_SECONDS).contains(&seconds) && nanos < 1_000_000_000)
            .then_some(Self { seconds, nanos })
    }

    /// The instant `millis` milliseconds after the Unix epoch (as in GAR's `timeCreatedMs`).
    pub fn from_unix_millis(millis: i64) -> Option<Self> {
        let nanos = u32::try_from(millis.rem_euclid(1000) * 1_000_000).ok()?;
        Self::from_unix(millis.div_euclid(1000), nanos)
    }

    /// Seconds since the Unix epoch (negative before 1970).
    pub fn unix_seconds(&self) -> i64 {
        self.seconds
    }

    /// The sub-second part, in nanoseconds.
    pub fn subsec_nanos(&self) -> u32 {
        self.nanos
    }

    /// Milliseconds since the Unix epoch.
    pub fn unix_millis(&self) -> i64 {
        self.seconds * 1000 + i64::from(self.nanos / 1_000_000)
    }

    /// The current instant.
    pub fn now() -> Self {
        Self::from(SystemTime::now())
    }

    /// This instant moved `d` later, if still representable.
    pub fn checked_add(&self, d: Duration) -> Option<Self> {
        let total = u128::from(self.nanos) + u128::from(d.subsec_nanos());
        let carry = i64::try_from(total / 1_000_000_000).ok()?;
        let secs = self
            .seconds
            .checked_add(i64::try_from(d.as_secs()).ok()?)?
            .checked_add(carry)?;
        Self::from_unix(secs, u32::try_from(total % 1_000_000_000).ok()?)
    }

    /// This instant moved `d` earlier, if still representable.
    pub fn checked_sub(&self, d: Duration) -> Option<Self> {
        let mut secs = self.seconds.checked_sub(i64::try_from(d.as_secs()).ok()?)?;
        let mut nanos = i64::from(self.nanos) - i64::from(d.subsec_nanos());
        if nanos < 0 {
            nanos += 1_000_000_000;
            secs = secs.checked_sub(1)?;
        }
        Self::from_unix(secs, u32::try_from(nanos).ok()?)
    }

    /// How much later `self` is than `earlier` (`None` if it is not later).
    pub fn duration_since(&self, earlier: Timestamp) -> Option<Duration> {
        if *self < earlier {
            return None;
        }
        let total = i128::from(self.seconds) * 1_000_000_000 + i128::from(self.nanos)
            - (i128::from(earlier.seconds) * 1_000_000_000 + i128::from(earlier.nanos));
        let total = u128::try_from(total).ok()?;
        Some(Duration::new(
            u64::try_from(total / 1_000_000_000).ok()?,
            u32::try_from(total % 1_000_000_000).ok()?,
        ))
    }
}

impl From<SystemTime> for Timestamp {
    fn from(t: SystemTime) -> Self {
        let (seconds, nanos) = match t.duration_since(UNIX_EPOCH) {
            Ok(d) => (
                i64::try_from(d.as_secs()).unwrap_or(MAX_SECONDS),
                d.subsec_nanos(),
            ),
            Err(e) => {
                let d = e.duration();
                let s = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
                if d.subsec_nanos() == 0 {
                    (-s, 0)
                } else {
                    (-s - 1, 1_000_000_000 - d.subsec_nanos())
                }
            }
        };
        Self {
            seconds: seconds.clamp(MIN_SECONDS, MAX_SECONDS),
            nanos,
        }
    }
}

impl From<Timestamp> for SystemTime {
    fn from(t: Timestamp) -> Self {
        let base = if t.seconds >= 0 {
            UNIX_EPOCH + Duration::from_secs(t.seconds.unsigned_abs())
        } else {
            UNIX_EPOCH - Duration::from_secs(t.seconds.unsigned_abs())
        };
        base + Duration::from_nanos(u64::from(t.nanos))
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        year,
        u32::try_from(month).unwrap_or(1),
        u32::try_from(day).unwrap_or(1),
    )
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.seconds.div_euclid(86_400);
        let secs = self.seconds.rem_euclid(86_400);
        let (y, mo, d) = civil_from_days(days);
        write!(
            f,
            "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}{}Z",
            secs / 3600,
            secs / 60 % 60,
            secs % 60,
            fraction(self.nanos)
        )
    }
}

impl FromStr for Timestamp {
    type Err = Error;

    /// Parses RFC 3339 (`2024-03-01T12:00:00Z`, `2024-03-01t12:00:00.123456789+05:30`).
    fn from_str(input: &str) -> Result<Self, Error> {
        let what = "timestamp";
        let bad = |reason: &str| invalid(what, input, reason);
        let b = input.as_bytes();
        let digits = |range: std::ops::Range<usize>| -> Option<u32> {
            let part = b.get(range)?;
            if part.iter().all(u8::is_ascii_digit) {
                std::str::from_utf8(part).ok()?.parse().ok()
            } else {
                None
            }
        };
        let sep = |i: usize, allowed: &[u8]| b.get(i).is_some_and(|c| allowed.contains(c));
        if b.len() < 20 {
            return Err(bad("expected RFC 3339, such as 2024-03-01T12:00:00Z"));
        }
        let (Some(year), Some(month), Some(day), Some(hour), Some(minute), Some(second)) = (
            digits(0..4),
            digits(5..7),
            digits(8..10),
            digits(11..13),
            digits(14..16),
            digits(17..19),
        ) else {
            return Err(bad("expected RFC 3339, such as 2024-03-01T12:00:00Z"));
        };
        if !(sep(4, b"-") && sep(7, b"-") && sep(10, b"Tt ") && sep(13, b":") && sep(16, b":")) {
            return Err(bad(
                "expected RFC 3339 separators, such as 2024-03-01T12:00:00Z",
            ));
        }
        let year = i64::from(year);
        if year == 0 {
            return Err(bad("the year must be between 0001 and 9999"));
        }
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return Err(bad("the date does not exist"));
        }
        if hour > 23 || minute > 59 || second > 60 {
            return Err(bad("the time of day is out of range"));
        }
        // A leap second is read as the last second of its minute.
        let second = second.min(59);
        let mut i = 19;
        let mut nanos = 0u32;
        if b.get(i) == Some(&b'.') {
            let start = i + 1;
            let mut end = start;
            while b.get(end).is_some_and(u8::is_ascii_digit) {
                end += 1;
            }
            let count = end - start;
            if count == 0 || count > 9 {
                return Err(bad("the fraction of a second must have 1 to 9 digits"));
            }
            let frac = digits(start..end).ok_or_else(|| bad("bad fraction"))?;
            nanos = frac * 10u32.pow(u32::try_from(9 - count).unwrap_or(0));
            i = end;
        }
        let offset_secs: i64 = match b.get(i..) {
            Some(b"Z" | b"z") => 0,
            Some([sign @ (b'+' | b'-'), h1, h2, b':', m1, m2]) => {
                let h = std::str::from_utf8(&[*h1, *h2])
                    .ok()
                    .and_then(|s| s.parse::<i64>().ok());
                let m = std::str::from_utf8(&[*m1, *m2])
                    .ok()
                    .and_then(|s| s.parse::<i64>().ok());
                match (h, m) {
                    (Some(h), Some(m)) if h < 24 && m < 60 => {
                        let v = h * 3600 + m * 60;
                        if *sign == b'-' { -v } else { v }
                    }
                    _ => return Err(bad("the UTC offset is out of range")),
                }
            }
            _ => return Err(bad("expected a UTC offset: 'Z' or +HH:MM")),
        };
        let seconds = days_from_civil(year, month, day) * 86_400
            + i64::from(hour) * 3600
            + i64::from(minute) * 60
            + i64::from(second)
            - offset_secs;
        Self::from_unix(seconds, nanos).ok_or_else(|| bad("outside years 0001 to 9999 in UTC"))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<str>::deserialize(d)?;
        s.parse().map_err(de::Error::custom)
    }
}

/// A protobuf enum as ProtoJSON carries it: known by name or number, and an
/// unknown value kept as it arrived so that it can be written back unchanged.
/// Implemented by the [`proto_enum!`](crate::proto_enum) macro.
pub trait ProtoEnum: Sized {
    /// The value with this proto name, if known.
    fn from_name(name: &str) -> Option<Self>;
    /// The value with this number, if known.
    fn from_number(number: i32) -> Option<Self>;
    /// A value this version does not know.
    fn unknown(value: UnknownEnumValue) -> Self;
}

/// An enum value that arrived with a name or number this version does not know.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum UnknownEnumValue {
    /// An unknown name, as received.
    Name(String),
    /// An unknown number, as received.
    Number(i32),
}

impl fmt::Display for UnknownEnumValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Name(n) => f.write_str(n),
            Self::Number(n) => write!(f, "{n}"),
        }
    }
}

/// Reads a ProtoJSON enum (a name or a number) into `T`; unknown values become
/// [`ProtoEnum::unknown`]. The deserializer behind `proto_enum!`'s `Deserialize`.
pub fn deserialize_enum<'de, T: ProtoEnum, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
    struct V<T>(std::marker::PhantomData<T>);
    impl<T: ProtoEnum> Visitor<'_> for V<T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an enum name or number")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
            Ok(T::from_name(v)
                .or_else(|| v.parse::<i32>().ok().and_then(T::from_number))
                .unwrap_or_else(|| match v.parse::<i32>() {
                    Ok(n) => T::unknown(UnknownEnumValue::Number(n)),
                    Err(_) => T::unknown(UnknownEnumValue::Name(v.to_owned())),
                }))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
            let n = i32::try_from(v).map_err(|_| E::custom("enum number out of range"))?;
            Ok(T::from_number(n).unwrap_or_else(|| T::unknown(UnknownEnumValue::Number(n))))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
            let n = i32::try_from(v).map_err(|_| E::custom("enum number out of range"))?;
            Ok(T::from_number(n).unwrap_or_else(|| T::unknown(UnknownEnumValue::Number(n))))
        }
    }
    d.deserialize_any(V(std::marker::PhantomData))
}

/// Declares a protobuf enum with ProtoJSON serde: written by name, read by name or
/// number, with an `Unknown(UnknownEnumValue)` variant for values this version does
/// not know (written back as received). Also gives `name()`, `number()`, `FromStr`,
/// `Display`, and a `Default` that is the first listed value (list the zero value first).
///
/// ```
/// gar_core::proto_enum! {
///     /// The action of a cleanup policy.
///     pub enum Action {
///         /// Not set.
///         Unspecified = 0 => "ACTION_UNSPECIFIED",
///         /// Delete what matches.
///         Delete = 1 => "DELETE",
///         /// Keep what matches.
///         Keep = 2 => "KEEP",
///     }
/// }
/// let a: Action = serde_json::from_str("2").unwrap();
/// assert_eq!(a, Action::Keep);
/// assert_eq!(serde_json::to_string(&a).unwrap(), r#""KEEP""#);
/// let b: Action = serde_json::from_str(r#""ARCHIVE""#).unwrap();
/// assert_eq!(serde_json::to_string(&b).unwrap(), r#""ARCHIVE""#);
/// ```
#[macro_export]
macro_rules! proto_enum {
    (@first $name:ident $first:ident $($rest:ident)*) => { $name::$first };
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $number:literal => $proto:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        $vis enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this version does not know, kept as received.
            Unknown($crate::protojson::UnknownEnumValue),
        }

        impl $name {
            /// Every known value.
            pub const KNOWN: &'static [$name] = &[$($name::$variant),+];

            /// The proto name (`"DOCKER"`), or the unknown value as received.
            pub fn name(&self) -> ::std::borrow::Cow<'static, str> {
                match self {
                    $( Self::$variant => ::std::borrow::Cow::Borrowed($proto), )+
                    Self::Unknown(v) => ::std::borrow::Cow::Owned(v.to_string()),
                }
            }

            /// The proto number, if known.
            pub fn number(&self) -> Option<i32> {
                match self {
                    $( Self::$variant => Some($number), )+
                    Self::Unknown($crate::protojson::UnknownEnumValue::Number(n)) => Some(*n),
                    Self::Unknown(_) => None,
                }
            }
        }

        /// The first listed value (by convention the `..._UNSPECIFIED` zero value).
        impl ::std::default::Default for $name {
            fn default() -> Self {
                $crate::proto_enum!(@first $name $($variant)+)
            }
        }

        impl $crate::protojson::ProtoEnum for $name {
            fn from_name(name: &str) -> Option<Self> {
                match name {
                    $( $proto => Some(Self::$variant), )+
                    _ => None,
                }
            }
            fn from_number(number: i32) -> Option<Self> {
                match number {
                    $( $number => Some(Self::$variant), )+
                    _ => None,
                }
            }
            fn unknown(value: $crate::protojson::UnknownEnumValue) -> Self {
                Self::Unknown(value)
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&self.name())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = ::std::convert::Infallible;
            /// Reads a name or a number; unknown values become `Unknown`.
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                use $crate::protojson::{ProtoEnum, UnknownEnumValue};
                Ok(Self::from_name(s)
                    .or_else(|| s.parse::<i32>().ok().and_then(Self::from_number))
                    .unwrap_or_else(|| match s.parse::<i32>() {
                        Ok(n) => Self::Unknown(UnknownEnumValue::Number(n)),
                        Err(_) => Self::Unknown(UnknownEnumValue::Name(s.to_owned())),
                    }))
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                match self {
                    Self::Unknown($crate::protojson::UnknownEnumValue::Number(n)) => s.serialize_i32(*n),
                    other => s.serialize_str(&other.name()),
                }
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $crate::protojson::deserialize_enum(d)
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    struct Sizes {
        #[serde(with = "int64")]
        a: i64,
        #[serde(with = "uint64")]
        b: u64,
        #[serde(
            with = "option_int64",
            default,
            skip_serializing_if = "Option::is_none"
        )]
        c: Option<i64>,
        #[serde(with = "option_duration", default)]
        d: Option<Duration>,
    }

    #[test]
    fn int64_as_string_or_number() {
        let v: Sizes =
            serde_json::from_str(r#"{"a":"-5","b":18446744073709551615,"c":"7"}"#).unwrap();
        assert_eq!(
            v,
            Sizes {
                a: -5,
                b: u64::MAX,
                c: Some(7),
                d: None
            }
        );
        let v: Sizes = serde_json::from_str(r#"{"a":12.0,"b":"0","c":null,"d":"1.5s"}"#).unwrap();
        assert_eq!(
            v,
            Sizes {
                a: 12,
                b: 0,
                c: None,
                d: Some(Duration::from_millis(1500))
            }
        );
        let text = serde_json::to_string(&Sizes {
            a: i64::MIN,
            b: 3,
            c: None,
            d: None,
        })
        .unwrap();
        assert_eq!(text, r#"{"a":"-9223372036854775808","b":"3","d":null}"#);
        assert!(serde_json::from_str::<Sizes>(r#"{"a":"x","b":1}"#).is_err());
        assert!(serde_json::from_str::<Sizes>(r#"{"a":1.5,"b":1}"#).is_err());
        assert!(serde_json::from_str::<Sizes>(r#"{"a":1,"b":-1}"#).is_err());
    }

    #[test]
    fn durations() {
        for (text, d) in [
            ("0s", Duration::ZERO),
            ("86400s", Duration::from_secs(86400)),
            ("1.500s", Duration::from_millis(1500)),
            ("0.000001s", Duration::from_micros(1)),
            ("3.000000007s", Duration::new(3, 7)),
        ] {
            assert_eq!(parse_duration(text).unwrap(), d, "{text}");
            assert_eq!(format_duration(d), text);
        }
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        for bad in [
            "",
            "s",
            "10",
            "-1s",
            "1.s",
            ".5s",
            "1.0000000001s",
            "1e3s",
            "30d",
            "999999999999s",
        ] {
            let err = parse_duration(bad).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{bad}");
            assert!(err.to_string().contains("duration"), "{err}");
        }
    }

    #[test]
    fn timestamps() {
        let t: Timestamp = "1970-01-01T00:00:00Z".parse().unwrap();
        assert_eq!(t.unix_seconds(), 0);
        let t: Timestamp = "2024-02-29T23:59:59.123456789-01:30".parse().unwrap();
        assert_eq!(t.to_string(), "2024-03-01T01:29:59.123456789Z");
        let t: Timestamp = "1969-12-31T23:59:59.5Z".parse().unwrap();
        assert_eq!((t.unix_seconds(), t.subsec_nanos()), (-1, 500_000_000));
        assert_eq!(t.to_string(), "1969-12-31T23:59:59.500Z");
        assert_eq!(
            Timestamp::from_unix_millis(-1).unwrap().to_string(),
            "1969-12-31T23:59:59.999Z"
        );
        assert_eq!(
            "0001-01-01T00:00:00Z"
                .parse::<Timestamp>()
                .unwrap()
                .unix_seconds(),
            MIN_SECONDS
        );
        assert_eq!(
            "9999-12-31T23:59:59Z"
                .parse::<Timestamp>()
                .unwrap()
                .unix_seconds(),
            MAX_SECONDS
        );
        for bad in [
            "",
            "2024-02-30T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "2024-13-01T00:00:00Z",
            "2024-01-01T24:00:00Z",
            "2024-01-01T00:00:00",
            "2024-01-01T00:00:00.Z",
            "2024-01-01T00:00:00+2400",
            "0000-01-01T00:00:00Z",
            "2024-01-01X00:00:00Z",
            "9999-12-31T23:59:59-01:00",
        ] {
            let err = bad.parse::<Timestamp>().unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{bad}");
        }
        let now = Timestamp::now();
        let later = now.checked_add(Duration::new(86_400, 999_999_999)).unwrap();
        assert_eq!(
            later.duration_since(now),
            Some(Duration::new(86_400, 999_999_999))
        );
        assert_eq!(
            later.checked_sub(Duration::new(86_400, 999_999_999)),
            Some(now)
        );
        assert_eq!(now.duration_since(later), None);
        let sys: SystemTime = later.into();
        assert_eq!(Timestamp::from(sys), later);
    }

    proto_enum! {
        /// Test enum.
        pub enum Mode {
            /// 0
            Unspecified = 0 => "MODE_UNSPECIFIED",
            /// 1
            Standard = 1 => "STANDARD_REPOSITORY",
        }
    }

    #[test]
    fn enums_by_name_number_and_unknown() {
        assert_eq!(serde_json::from_str::<Mode>("1").unwrap(), Mode::Standard);
        assert_eq!(
            serde_json::from_str::<Mode>(r#""1""#).unwrap(),
            Mode::Standard
        );
        assert_eq!(
            serde_json::from_str::<Mode>(r#""STANDARD_REPOSITORY""#).unwrap(),
            Mode::Standard
        );
        let unknown = serde_json::from_str::<Mode>("7").unwrap();
        assert_eq!(unknown, Mode::Unknown(UnknownEnumValue::Number(7)));
        assert_eq!(serde_json::to_string(&unknown).unwrap(), "7");
        assert_eq!(unknown.number(), Some(7));
        let named = serde_json::from_str::<Mode>(r#""NEW_MODE""#).unwrap();
        assert_eq!(serde_json::to_string(&named).unwrap(), r#""NEW_MODE""#);
        assert_eq!(named.number(), None);
        assert_eq!("STANDARD_REPOSITORY".parse::<Mode>(), Ok(Mode::Standard));
        assert_eq!(Mode::Standard.to_string(), "STANDARD_REPOSITORY");
        assert!(serde_json::from_str::<Mode>("true").is_err());
        assert_eq!(Mode::KNOWN, &[Mode::Unspecified, Mode::Standard]);
        assert_eq!(Mode::default(), Mode::Unspecified);
    }
}

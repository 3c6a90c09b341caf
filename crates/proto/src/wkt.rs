//! `google.protobuf.Timestamp` with ProtoJSON serde that writes `Z` (as Google's
//! servers do) and reads any RFC 3339 offset, through `gar_core::protojson::Timestamp`.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A point in time: seconds and nanoseconds since the Unix epoch.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, ::prost::Message)]
pub struct Timestamp {
    /// Seconds since 1970-01-01T00:00:00Z.
    #[prost(int64, tag = "1")]
    pub seconds: i64,
    /// Non-negative fraction of a second, in nanoseconds.
    #[prost(int32, tag = "2")]
    pub nanos: i32,
}

impl Timestamp {
    /// The same instant as gar-core's timestamp.
    pub fn from_core(t: gar_core::protojson::Timestamp) -> Self {
        Self {
            seconds: t.unix_seconds(),
            nanos: i32::try_from(t.subsec_nanos()).unwrap_or(0),
        }
    }

    /// The same instant as gar-core's timestamp, if in range (years 1 to 9999).
    pub fn to_core(self) -> Option<gar_core::protojson::Timestamp> {
        gar_core::protojson::Timestamp::from_unix(self.seconds, u32::try_from(self.nanos).ok()?)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.to_core() {
            Some(t) => s.collect_str(&t),
            None => Err(serde::ser::Error::custom(
                "timestamp out of the range of years 1 to 9999",
            )),
        }
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let t = gar_core::protojson::Timestamp::deserialize(d)?;
        Ok(Self::from_core(t))
    }
}

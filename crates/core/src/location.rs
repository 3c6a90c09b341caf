//! Artifact Registry locations: the catalogue of regions and multi-regions, and
//! suggestions for misspelt names.
//!
//! ```
//! use gar_core::location::{Location, LocationKind};
//!
//! let loc: Location = "us-central1".parse().unwrap();
//! assert_eq!(loc.kind(), LocationKind::Region);
//! assert_eq!("europe".parse::<Location>().unwrap().kind(), LocationKind::MultiRegion);
//! let err = "us-centrl1".parse::<Location>().unwrap_err();
//! assert!(err.to_string().contains("did you mean \"us-central1\""));
//! ```

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, ErrorKind};

/// Whether a location is one region or a multi-region.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LocationKind {
    /// One region, such as `us-central1`.
    Region,
    /// A multi-region: `us`, `europe` or `asia`.
    MultiRegion,
}

/// The multi-regions Artifact Registry offers.
pub const MULTI_REGIONS: &[&str] = &["asia", "europe", "us"];

/// The regions Artifact Registry offers (as of this release; see [`Location::custom`]
/// for regions added later).
pub const REGIONS: &[&str] = &[
    "africa-south1",
    "asia-east1",
    "asia-east2",
    "asia-northeast1",
    "asia-northeast2",
    "asia-northeast3",
    "asia-south1",
    "asia-south2",
    "asia-southeast1",
    "asia-southeast2",
    "australia-southeast1",
    "australia-southeast2",
    "europe-central2",
    "europe-north1",
    "europe-north2",
    "europe-southwest1",
    "europe-west1",
    "europe-west10",
    "europe-west12",
    "europe-west2",
    "europe-west3",
    "europe-west4",
    "europe-west6",
    "europe-west8",
    "europe-west9",
    "me-central1",
    "me-central2",
    "me-west1",
    "northamerica-northeast1",
    "northamerica-northeast2",
    "northamerica-south1",
    "southamerica-east1",
    "southamerica-west1",
    "us-central1",
    "us-east1",
    "us-east4",
    "us-east5",
    "us-south1",
    "us-west1",
    "us-west2",
    "us-west3",
    "us-west4",
];

/// An Artifact Registry location: a region (`us-central1`) or a multi-region (`us`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Location {
    name: Cow<'static, str>,
    multi_region: bool,
}

impl Location {
    /// Every location of the catalogue, multi-regions first.
    pub fn all() -> impl Iterator<Item = Location> {
        MULTI_REGIONS
            .iter()
            .map(|n| Self {
                name: Cow::Borrowed(n),
                multi_region: true,
            })
            .chain(REGIONS.iter().map(|n| Self {
                name: Cow::Borrowed(n),
                multi_region: false,
            }))
    }

    /// A region that is not (yet) in the catalogue. Only its shape is checked
    /// (`{area}-{name}{digit}`, such as `mars-north1`); prefer `parse`, which refuses
    /// misspellings.
    pub fn custom(name: &str) -> Result<Self, Error> {
        let shaped = name.split_once('-').is_some_and(|(area, rest)| {
            !area.is_empty()
                && area.bytes().all(|b| b.is_ascii_lowercase())
                && rest.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
                && rest.bytes().last().is_some_and(|b| b.is_ascii_digit())
                && rest
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        });
        if !shaped || name.len() > 40 {
            return Err(Error::invalid(
                ErrorKind::InvalidLocation,
                "location",
                name,
                "a region looks like area-name1, such as us-central1",
            ));
        }
        Ok(Self {
            name: Cow::Owned(name.to_owned()),
            multi_region: false,
        })
    }

    /// The location's name.
    pub fn as_str(&self) -> &str {
        &self.name
    }

    /// Region or multi-region.
    pub fn kind(&self) -> LocationKind {
        if self.multi_region {
            LocationKind::MultiRegion
        } else {
            LocationKind::Region
        }
    }

    /// Whether the location is in the catalogue.
    pub fn is_known(&self) -> bool {
        MULTI_REGIONS.contains(&self.as_str()) || REGIONS.contains(&self.as_str())
    }

    /// Up to three catalogue names closest to `input`, nearest first.
    pub fn suggestions(input: &str) -> Vec<&'static str> {
        let lower = input.trim().to_ascii_lowercase();
        let mut scored: Vec<(usize, &'static str)> = MULTI_REGIONS
            .iter()
            .chain(REGIONS.iter())
            .map(|name| (edit_distance(&lower, name), *name))
            .collect();
        scored.sort();
        let limit = (lower.len() / 3).clamp(2, 4);
        let mut out: Vec<&'static str> = scored
            .iter()
            .filter(|(d, _)| *d <= limit)
            .take(3)
            .map(|(_, n)| *n)
            .collect();
        if out.is_empty() && !lower.is_empty() {
            // No close spelling: offer the regions of the same area (`us-` for `us-foo`).
            let area = lower.split('-').next().unwrap_or_default();
            out = REGIONS
                .iter()
                .filter(|n| n.split('-').next() == Some(area))
                .take(3)
                .copied()
                .collect();
        }
        out
    }
}

/// Levenshtein distance over bytes (location names are ASCII).
fn edit_distance(a: &str, b: &str) -> usize {
    let b = b.as_bytes();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.bytes().enumerate() {
        if let Some(first) = cur.first_mut() {
            *first = i + 1;
        }
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            let del = prev.get(j + 1).copied().unwrap_or(usize::MAX) + 1;
            let ins = cur.get(j).copied().unwrap_or(usize::MAX) + 1;
            let sub = prev.get(j).copied().unwrap_or(usize::MAX) + cost;
            if let Some(slot) = cur.get_mut(j + 1) {
                *slot = del.min(ins).min(sub);
            }
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev.last().copied().unwrap_or(0)
}

impl FromStr for Location {
    type Err = Error;

    /// A catalogue location; anything else is `InvalidLocation` with suggestions.
    fn from_str(s: &str) -> Result<Self, Error> {
        if let Some(n) = MULTI_REGIONS.iter().find(|n| **n == s) {
            return Ok(Self {
                name: Cow::Borrowed(n),
                multi_region: true,
            });
        }
        if let Some(n) = REGIONS.iter().find(|n| **n == s) {
            return Ok(Self {
                name: Cow::Borrowed(n),
                multi_region: false,
            });
        }
        let suggestions = Self::suggestions(s);
        let reason = if s.is_empty() {
            "it is empty; use a region such as us-central1 or a multi-region (us, europe, asia)"
                .to_owned()
        } else if suggestions.is_empty() {
            "it is not an Artifact Registry location; use a region such as us-central1 or a multi-region (us, europe, asia)".to_owned()
        } else {
            let list: Vec<String> = suggestions.iter().map(|n| format!("{n:?}")).collect();
            format!(
                "it is not an Artifact Registry location; did you mean {}?",
                list.join(" or ")
            )
        };
        Err(Error::invalid(
            ErrorKind::InvalidLocation,
            "location",
            s,
            reason,
        ))
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

impl Serialize for Location {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.name)
    }
}

impl<'de> Deserialize<'de> for Location {
    /// Accepts catalogue names and, so that new regions can be read, well-shaped
    /// custom ones.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = Cow::<str>::deserialize(d)?;
        s.parse()
            .or_else(|_| Self::custom(&s))
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_parses() {
        for loc in Location::all() {
            let back: Location = loc.as_str().parse().unwrap();
            assert_eq!(back, loc);
            assert!(back.is_known());
        }
        assert_eq!(Location::all().count(), MULTI_REGIONS.len() + REGIONS.len());
    }

    #[test]
    fn suggestions_for_typos() {
        assert_eq!(
            Location::suggestions("us-centrl1").first(),
            Some(&"us-central1")
        );
        assert_eq!(Location::suggestions("eu").first(), Some(&"us"));
        assert_eq!(
            Location::suggestions("europe-west").first(),
            Some(&"europe-west1")
        );
        let err = "US-CENTRAL1".parse::<Location>().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidLocation);
        assert!(err.to_string().contains("\"us-central1\""), "{err}");
        let err = "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"
            .parse::<Location>()
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("not an Artifact Registry location"),
            "{err}"
        );
        let err = "us-nowhere9".parse::<Location>().unwrap_err();
        assert!(err.to_string().contains("did you mean"), "{err}");
    }

    #[test]
    fn custom_regions() {
        let l = Location::custom("mars-north1").unwrap();
        assert_eq!(l.kind(), LocationKind::Region);
        assert!(!l.is_known());
        for bad in ["mars", "Mars-north1", "mars-north", "-north1", "mars-"] {
            assert_eq!(
                Location::custom(bad).unwrap_err().kind(),
                ErrorKind::InvalidLocation,
                "{bad}"
            );
        }
        let l: Location = serde_json::from_str(r#""mars-north1""#).unwrap();
        assert_eq!(l.as_str(), "mars-north1");
    }
}

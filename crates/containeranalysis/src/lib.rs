//! `gar-containeranalysis`: vulnerability data from Container Analysis and Grafeas.
//!
//! - [`filter`]: the filter expressions of occurrence listings, and resource URLs.
//! - [`report`]: a [`report::VulnerabilityReport`] of an image built from its occurrences.

pub mod filter;
pub mod report;

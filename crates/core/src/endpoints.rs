//! Endpoint routing: which base URL serves each surface for a location.
//!
//! | surface | Google | regional (`Endpoints::regional`) |
//! | --- | --- | --- |
//! | Artifact Registry API | `https://artifactregistry.googleapis.com` | `https://artifactregistry.{region}.rep.googleapis.com` |
//! | Container Analysis | `https://containeranalysis.googleapis.com` | `https://containeranalysis.{region}.rep.googleapis.com` |
//! | Docker/OCI | `https://{location}-docker.pkg.dev` | same |
//! | Maven, npm, Python, Go, Apt, Yum | `https://{location}-{format}.pkg.dev` | same |
//!
//! An override ([`Endpoints::emulator`]) sends every surface to one base URL.
//!
//! ```
//! use gar_core::endpoints::{Endpoints, Surface};
//!
//! let us = "us-central1".parse().unwrap();
//! let google = Endpoints::google();
//! assert_eq!(google.url(Surface::Docker, &us).to_string(), "https://us-central1-docker.pkg.dev");
//! assert_eq!(google.url(Surface::ArtifactRegistry, &us).to_string(), "https://artifactregistry.googleapis.com");
//! let regional = Endpoints::regional();
//! assert_eq!(regional.url(Surface::ArtifactRegistry, &us).to_string(),
//!            "https://artifactregistry.us-central1.rep.googleapis.com");
//! let emu = Endpoints::emulator("http://127.0.0.1:8080").unwrap();
//! assert_eq!(emu.url(Surface::Npm, &us).to_string(), "http://127.0.0.1:8080");
//! ```

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, ErrorKind};
use crate::format::Format;
use crate::location::Location;

/// A Google surface gar talks to.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Surface {
    /// The Artifact Registry REST API v1.
    ArtifactRegistry,
    /// Container Analysis and Grafeas (gRPC and REST).
    ContainerAnalysis,
    /// The Docker/OCI registry.
    Docker,
    /// The Maven repository host.
    Maven,
    /// The npm registry host.
    Npm,
    /// The Python (PyPI simple) host.
    Python,
    /// The Go module proxy host.
    Go,
    /// The Apt host.
    Apt,
    /// The Yum host.
    Yum,
}

impl Surface {
    /// The package-host surface of a repository format, if it has one.
    pub fn for_format(format: &Format) -> Option<Self> {
        Some(match format {
            Format::Docker => Self::Docker,
            Format::Maven => Self::Maven,
            Format::Npm => Self::Npm,
            Format::Python => Self::Python,
            Format::Go => Self::Go,
            Format::Apt => Self::Apt,
            Format::Yum => Self::Yum,
            _ => return None,
        })
    }

    fn pkg_suffix(self) -> Option<&'static str> {
        Some(match self {
            Self::Docker => "docker",
            Self::Maven => "maven",
            Self::Npm => "npm",
            Self::Python => "python",
            Self::Go => "go",
            Self::Apt => "apt",
            Self::Yum => "yum",
            Self::ArtifactRegistry | Self::ContainerAnalysis => return None,
        })
    }
}

/// `http` or `https`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// Plain HTTP (the emulator on loopback).
    Http,
    /// HTTP over TLS.
    Https,
}

/// A base URL: scheme, host and optional port, without a path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BaseUrl {
    scheme: Scheme,
    host: String,
    port: Option<u16>,
}

impl BaseUrl {
    /// An `https` base URL for `host`.
    pub fn https(host: impl Into<String>) -> Self {
        Self {
            scheme: Scheme::Https,
            host: host.into(),
            port: None,
        }
    }

    /// The scheme.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The host (an IPv6 address keeps its brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The explicit port, if any.
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// The port, explicit or the scheme's default.
    pub fn port_or_default(&self) -> u16 {
        self.port.unwrap_or(match self.scheme {
            Scheme::Http => 80,
            Scheme::Https => 443,
        })
    }

    /// `host[:port]`, as a registry appears in image references and `Host` headers.
    pub fn authority(&self) -> String {
        match self.port {
            Some(p) => format!("{}:{p}", self.host),
            None => self.host.clone(),
        }
    }

    /// This base URL joined with `path` (which should start with `/`).
    pub fn join(&self, path: &str) -> String {
        if path.starts_with('/') {
            format!("{self}{path}")
        } else {
            format!("{self}/{path}")
        }
    }
}

impl fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match self.scheme {
            Scheme::Http => "http",
            Scheme::Https => "https",
        };
        write!(f, "{scheme}://{}", self.authority())
    }
}

impl FromStr for BaseUrl {
    type Err = Error;

    /// Parses `http://host[:port]` or `https://host[:port]`, with an optional
    /// trailing `/`; paths, queries and user info are refused.
    fn from_str(s: &str) -> Result<Self, Error> {
        let bad = |reason: &str| Error::invalid(ErrorKind::InvalidArgument, "base URL", s, reason);
        let (scheme, rest) = if let Some(r) = s.strip_prefix("https://") {
            (Scheme::Https, r)
        } else if let Some(r) = s.strip_prefix("http://") {
            (Scheme::Http, r)
        } else {
            return Err(bad("it must start with http:// or https://"));
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains(['/', '?', '#', '@']) {
            return Err(bad(
                "a base URL has no path, query or user info, such as http://127.0.0.1:8080",
            ));
        }
        let (host, port) = if rest.starts_with('[') {
            match rest.rsplit_once("]:") {
                Some((h, p)) => (format!("{h}]"), Some(p)),
                None => (rest.to_owned(), None),
            }
        } else {
            match rest.rsplit_once(':') {
                Some((h, p)) => (h.to_owned(), Some(p)),
                None => (rest.to_owned(), None),
            }
        };
        if host.is_empty() || host == "[]" {
            return Err(bad("the host is empty"));
        }
        if !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '[' | ']' | ':'))
        {
            return Err(bad("the host has characters a host name cannot have"));
        }
        let port = port
            .map(|p| {
                p.parse::<u16>()
                    .map_err(|_| bad("the port is not a number from 0 to 65535"))
            })
            .transpose()?;
        Ok(Self { scheme, host, port })
    }
}

/// Where each surface is served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    route: Route,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Route {
    Google {
        regional_api: bool,
        universe: String,
    },
    Override(BaseUrl),
}

impl Default for Endpoints {
    fn default() -> Self {
        Self::google()
    }
}

impl Endpoints {
    /// Google's endpoints, with the global API hosts.
    pub fn google() -> Self {
        Self {
            route: Route::Google {
                regional_api: false,
                universe: "googleapis.com".to_owned(),
            },
        }
    }

    /// Google's endpoints, with the regional API hosts
    /// (`artifactregistry.{location}.rep.googleapis.com`), for data residency.
    pub fn regional() -> Self {
        Self {
            route: Route::Google {
                regional_api: true,
                universe: "googleapis.com".to_owned(),
            },
        }
    }

    /// Every surface at one base URL, such as the emulator's `http://127.0.0.1:PORT`.
    pub fn emulator(base_url: &str) -> Result<Self, Error> {
        Ok(Self {
            route: Route::Override(base_url.parse()?),
        })
    }

    /// The override base URL, if every surface goes to one place.
    pub fn override_url(&self) -> Option<&BaseUrl> {
        match &self.route {
            Route::Override(u) => Some(u),
            Route::Google { .. } => None,
        }
    }

    /// The base URL of `surface` for resources in `location`.
    pub fn url(&self, surface: Surface, location: &Location) -> BaseUrl {
        match &self.route {
            Route::Override(base) => base.clone(),
            Route::Google {
                regional_api,
                universe,
            } => {
                let api = |service: &str| {
                    if *regional_api {
                        BaseUrl::https(format!("{service}.{location}.rep.{universe}"))
                    } else {
                        BaseUrl::https(format!("{service}.{universe}"))
                    }
                };
                match surface {
                    Surface::ArtifactRegistry => api("artifactregistry"),
                    Surface::ContainerAnalysis => api("containeranalysis"),
                    other => {
                        let suffix = other.pkg_suffix().unwrap_or("docker");
                        BaseUrl::https(format!("{location}-{suffix}.pkg.dev"))
                    }
                }
            }
        }
    }

    /// The base URL of the global (location-independent) API host of `surface`:
    /// the Artifact Registry or Container Analysis API.
    pub fn global_url(&self, surface: Surface) -> BaseUrl {
        match &self.route {
            Route::Override(base) => base.clone(),
            Route::Google { universe, .. } => match surface {
                Surface::ContainerAnalysis => {
                    BaseUrl::https(format!("containeranalysis.{universe}"))
                }
                _ => BaseUrl::https(format!("artifactregistry.{universe}")),
            },
        }
    }

    /// The registry (`host[:port]`) that images of `location` are referenced by.
    pub fn docker_registry(&self, location: &Location) -> String {
        self.url(Surface::Docker, location).authority()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_hosts() {
        let eu: Location = "europe".parse().unwrap();
        let e = Endpoints::google();
        for (surface, host) in [
            (Surface::Docker, "europe-docker.pkg.dev"),
            (Surface::Maven, "europe-maven.pkg.dev"),
            (Surface::Npm, "europe-npm.pkg.dev"),
            (Surface::Python, "europe-python.pkg.dev"),
            (Surface::Go, "europe-go.pkg.dev"),
            (Surface::Apt, "europe-apt.pkg.dev"),
            (Surface::Yum, "europe-yum.pkg.dev"),
            (
                Surface::ContainerAnalysis,
                "containeranalysis.googleapis.com",
            ),
        ] {
            assert_eq!(e.url(surface, &eu).host(), host);
            assert_eq!(e.url(surface, &eu).port_or_default(), 443);
        }
        let r = Endpoints::regional();
        assert_eq!(
            r.url(Surface::ContainerAnalysis, &eu).to_string(),
            "https://containeranalysis.europe.rep.googleapis.com"
        );
        assert_eq!(
            r.global_url(Surface::ArtifactRegistry).to_string(),
            "https://artifactregistry.googleapis.com"
        );
        assert_eq!(e.docker_registry(&eu), "europe-docker.pkg.dev");
        assert_eq!(Surface::for_format(&Format::Yum), Some(Surface::Yum));
        assert_eq!(Surface::for_format(&Format::Generic), None);
    }

    #[test]
    fn override_sends_everything_to_one_place() {
        let e = Endpoints::emulator("http://127.0.0.1:4567/").unwrap();
        let us: Location = "us".parse().unwrap();
        for s in [
            Surface::ArtifactRegistry,
            Surface::ContainerAnalysis,
            Surface::Docker,
            Surface::Go,
        ] {
            assert_eq!(e.url(s, &us).to_string(), "http://127.0.0.1:4567");
        }
        assert_eq!(e.docker_registry(&us), "127.0.0.1:4567");
        assert_eq!(
            e.override_url().unwrap().join("/v2/"),
            "http://127.0.0.1:4567/v2/"
        );
        let v6: BaseUrl = "http://[::1]:80".parse().unwrap();
        assert_eq!((v6.host(), v6.port()), ("[::1]", Some(80)));
        for bad in [
            "127.0.0.1:80",
            "ftp://x",
            "http://",
            "http://h:99999",
            "http://h/path",
            "http://u@h",
            "http://h h",
        ] {
            assert!(Endpoints::emulator(bad).is_err(), "{bad}");
        }
    }
}

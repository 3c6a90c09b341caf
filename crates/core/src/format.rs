//! Repository formats and modes (`google.devtools.artifactregistry.v1.Repository.Format`, `.Mode`).

crate::proto_enum! {
    /// The package format of a repository.
    pub enum Format {
        /// Not set.
        Unspecified = 0 => "FORMAT_UNSPECIFIED",
        /// Docker and OCI images.
        Docker = 1 => "DOCKER",
        /// Maven artifacts.
        Maven = 2 => "MAVEN",
        /// npm packages.
        Npm = 3 => "NPM",
        /// Debian packages.
        Apt = 5 => "APT",
        /// RPM packages.
        Yum = 6 => "YUM",
        /// Python packages.
        Python = 8 => "PYTHON",
        /// Kubeflow pipeline templates.
        Kfp = 9 => "KFP",
        /// Go modules.
        Go = 10 => "GO",
        /// Generic artifacts.
        Generic = 11 => "GENERIC",
        /// Ruby gems.
        Ruby = 12 => "RUBY",
    }
}

crate::proto_enum! {
    /// The mode of a repository.
    pub enum Mode {
        /// Not set.
        Unspecified = 0 => "MODE_UNSPECIFIED",
        /// A repository that stores what is pushed to it.
        Standard = 1 => "STANDARD_REPOSITORY",
        /// A repository that groups other repositories.
        Virtual = 2 => "VIRTUAL_REPOSITORY",
        /// A caching proxy of an upstream.
        Remote = 3 => "REMOTE_REPOSITORY",
    }
}

impl Format {
    /// The package-host suffix of this format (`"docker"` in `us-docker.pkg.dev`),
    /// for the formats served on `{location}-{suffix}.pkg.dev`.
    pub fn host_suffix(&self) -> Option<&'static str> {
        match self {
            Self::Docker => Some("docker"),
            Self::Maven => Some("maven"),
            Self::Npm => Some("npm"),
            Self::Python => Some("python"),
            Self::Go => Some("go"),
            Self::Apt => Some("apt"),
            Self::Yum => Some("yum"),
            Self::Kfp => Some("kfp"),
            Self::Generic => Some("generic"),
            Self::Ruby => Some("ruby"),
            Self::Unspecified | Self::Unknown(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_match_the_proto() {
        let pairs = [
            (Format::Docker, 1),
            (Format::Maven, 2),
            (Format::Npm, 3),
            (Format::Apt, 5),
            (Format::Yum, 6),
            (Format::Python, 8),
            (Format::Kfp, 9),
            (Format::Go, 10),
            (Format::Generic, 11),
            (Format::Ruby, 12),
        ];
        for (f, n) in pairs {
            assert_eq!(f.number(), Some(n));
            let back: Format = serde_json::from_str(&n.to_string()).unwrap();
            assert_eq!(back, f);
        }
        assert_eq!(Mode::Remote.number(), Some(3));
        assert_eq!(Format::Python.host_suffix(), Some("python"));
        assert_eq!(Format::Unspecified.host_suffix(), None);
    }
}

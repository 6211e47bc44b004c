//! The server configuration: a TOML file, or the development default.
//!
//! ```toml
//! listen = "127.0.0.1:7117"
//! data_dir = "credence-data"
//! # keys_dir = "credence-data/keys"        # default: <data_dir>/keys
//! shapes = ["1,20", "4,20", "16,20"]       # circuits offered: "N,D" (slots, depth)
//!
//! [services]
//! datanet = true
//! prover = true
//! verifier = true
//!
//! [datanet]
//! depth = 20              # depth of the snapshots this server publishes (4..=32)
//!
//! [prover]
//! concurrency = 1         # proofs running at once (each uses every core)
//!
//! [log]
//! origin = "credence.local/log"   # the compliance log's name: checkpoint origin and key name
//! ```
//!
//! Invariant: a [`Config`] that passed [`Config::validate`] names at least one shape, valid
//! shapes only, a datanet depth in range, and a concurrency of at least 1.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use credence_circuits::Shape;
use serde::{Deserialize, Serialize};

/// The default listen address: loopback only.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:7117";

/// Everything `credence serve` needs.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Directory of the database (`credence.db`), keys and the idempotency key.
    pub data_dir: PathBuf,
    /// Directory of the Groth16 keys; `None` means `<data_dir>/keys`.
    pub keys_dir: Option<PathBuf>,
    /// The circuit shapes offered, as `"N,D"`.
    pub shapes: Vec<String>,
    /// Which services to serve.
    pub services: Services,
    /// Datanet settings.
    pub datanet: DatanetConfig,
    /// Prover settings.
    pub prover: ProverConfig,
    /// Compliance log settings.
    pub log: LogConfig,
}

/// The default compliance log origin.
pub const DEFAULT_LOG_ORIGIN: &str = "credence.local/log";

/// Compliance log settings. The log is always on: its database (`log.db`), signing key
/// (`log.key`, 0600) and public key (`log.pub`) live in the data directory.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// The log's name: the first line of every checkpoint and the key's name. A data directory
    /// whose key has another name is refused, so a log never changes identity.
    pub origin: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            origin: DEFAULT_LOG_ORIGIN.into(),
        }
    }
}

/// Services on or off.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Services {
    /// `credence.v1.Datanet`.
    pub datanet: bool,
    /// `credence.v1.Prover`.
    pub prover: bool,
    /// `credence.v1.Verifier`.
    pub verifier: bool,
}

impl Default for Services {
    fn default() -> Self {
        Services {
            datanet: true,
            prover: true,
            verifier: true,
        }
    }
}

/// Datanet settings.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatanetConfig {
    /// Depth of the snapshots this server publishes when a request does not say.
    pub depth: u32,
}

impl Default for DatanetConfig {
    fn default() -> Self {
        DatanetConfig {
            depth: credence_circuits::claim::DEFAULT_DEPTH,
        }
    }
}

/// Prover settings.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProverConfig {
    /// How many proofs may run at once (the global semaphore); each proof is parallel already.
    pub concurrency: usize,
}

impl Default for ProverConfig {
    fn default() -> Self {
        ProverConfig { concurrency: 1 }
    }
}

impl Default for Config {
    /// The development configuration: loopback only, `./credence-data`, shapes N in {1, 4, 16}
    /// at depth 20 (keys for them are generated on first start, which takes a minute).
    fn default() -> Self {
        Config {
            listen: DEFAULT_LISTEN.parse().expect("a valid literal address"),
            data_dir: PathBuf::from("credence-data"),
            keys_dir: None,
            shapes: ["1,20", "4,20", "16,20"].map(String::from).to_vec(),
            services: Services::default(),
            datanet: DatanetConfig::default(),
            prover: ProverConfig::default(),
            log: LogConfig::default(),
        }
    }
}

/// Why a configuration is refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML of the expected shape.
    #[error("parsing {path}: {reason}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        reason: String,
    },
    /// A value is out of range.
    #[error("config `{field}`: {reason}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// Why.
        reason: String,
    },
}

/// Parses `"N,D"` (also accepted: `NxD`) into a shape.
pub fn parse_shape(s: &str) -> Result<Shape, String> {
    let (n, d) = s
        .split_once(',')
        .or_else(|| s.split_once('x'))
        .ok_or_else(|| format!("shape `{s}` is not `N,D`"))?;
    let n: usize = n
        .trim()
        .parse()
        .map_err(|_| format!("shape `{s}`: N is not a number"))?;
    let d: u32 = d
        .trim()
        .parse()
        .map_err(|_| format!("shape `{s}`: D is not a number"))?;
    Shape::new(n, d).map_err(|e| format!("shape `{s}`: {e}"))
}

impl Config {
    /// Reads and validates a TOML configuration file.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let config: Config = toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Checks every value; returns the parsed shapes, sorted by depth then slots.
    pub fn validate(&self) -> Result<Vec<Shape>, ConfigError> {
        let mut shapes = Vec::new();
        for s in &self.shapes {
            shapes.push(parse_shape(s).map_err(|reason| ConfigError::Invalid {
                field: "shapes",
                reason,
            })?);
        }
        shapes.sort_by_key(|s| (s.depth, s.n));
        shapes.dedup();
        if shapes.is_empty() && (self.services.prover || self.services.verifier) {
            return Err(ConfigError::Invalid {
                field: "shapes",
                reason: "the prover and verifier need at least one shape".into(),
            });
        }
        if !(credence_circuits::merkle_sum::MIN_DEPTH..=credence_circuits::merkle_sum::MAX_DEPTH)
            .contains(&self.datanet.depth)
        {
            return Err(ConfigError::Invalid {
                field: "datanet.depth",
                reason: format!("{} is outside 4..=32", self.datanet.depth),
            });
        }
        if self.prover.concurrency == 0 {
            return Err(ConfigError::Invalid {
                field: "prover.concurrency",
                reason: "must be at least 1".into(),
            });
        }
        Ok(shapes)
    }

    /// The keys directory.
    pub fn keys_dir(&self) -> PathBuf {
        self.keys_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("keys"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid_and_loopback() {
        let c = Config::default();
        assert!(c.listen.ip().is_loopback());
        assert_eq!(c.validate().unwrap().len(), 3);
    }

    #[test]
    fn toml_round_trip_and_refusals() {
        let c: Config = toml::from_str(
            "shapes = [\"4,4\", \"1,4\"]\n[prover]\nconcurrency = 2\n[datanet]\ndepth = 4\n",
        )
        .unwrap();
        let shapes = c.validate().unwrap();
        assert_eq!(shapes[0], Shape::new(1, 4).unwrap());
        assert!(toml::from_str::<Config>("bogus = 1").is_err());
        let bad: Config = toml::from_str("shapes = [\"0,4\"]").unwrap();
        assert!(bad.validate().is_err());
        let bad: Config = toml::from_str("[prover]\nconcurrency = 0").unwrap();
        assert!(bad.validate().is_err());
    }

    #[test]
    fn shapes_parse() {
        assert_eq!(parse_shape("16,20").unwrap(), Shape::new(16, 20).unwrap());
        assert!(parse_shape("16").is_err());
        assert!(parse_shape("65,20").is_err());
        assert!(parse_shape("1,3").is_err());
    }
}

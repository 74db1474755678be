//! Layered configuration (STYLE 11): built-in defaults < file <
//! `SHEBAO_*` environment variables (`__` for nesting), parsed into typed
//! structs and validated once at start-up.

use std::collections::HashMap;
use std::path::Path;

use config::{Config, Environment, File};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::KernelError;

/// A settings struct that can check itself after loading.
pub trait Validate {
    /// Returns a one-line reason when the settings cannot work.
    fn validate(&self) -> Result<(), KernelError>;
}

/// Prefix of the variables that configure the test environment, not a
/// service: `SHEBAO_TEST_POSTGRES_URL` must not read as a setting.
const TEST_PREFIX: &str = "SHEBAO_TEST_";

/// Loads `T` from its defaults, an optional file and the process
/// environment (`SHEBAO_DATABASE__URL` sets `database.url`), then validates.
/// An unknown `SHEBAO_*` variable is refused like an unknown key in the file.
pub fn load<T>(file: Option<&Path>) -> Result<T, KernelError>
where
    T: Serialize + DeserializeOwned + Default + Validate,
{
    let env = std::env::vars()
        .filter(|(key, _)| key.starts_with("SHEBAO_") && !key.starts_with(TEST_PREFIX))
        .collect();
    load_with_env(file, Some(env))
}

/// Like [`load`], with the environment given as a map instead of read from
/// the process; tests use this and never mutate the process environment.
pub fn load_with_env<T>(
    file: Option<&Path>,
    env: Option<HashMap<String, String>>,
) -> Result<T, KernelError>
where
    T: Serialize + DeserializeOwned + Default + Validate,
{
    let defaults =
        Config::try_from(&T::default()).map_err(|e| KernelError::Config(e.to_string()))?;
    let mut builder = Config::builder().add_source(defaults);
    if let Some(path) = file {
        if !path.exists() {
            return Err(KernelError::Config(format!(
                "file {} does not exist",
                path.display()
            )));
        }
        builder = builder.add_source(File::from(path));
    }
    let environment = Environment::with_prefix("SHEBAO")
        .prefix_separator("_")
        .separator("__")
        .try_parsing(true)
        .source(env);
    let settings: T = builder
        .add_source(environment)
        .build()
        .and_then(Config::try_deserialize)
        .map_err(|e| KernelError::Config(e.to_string()))?;
    settings.validate()?;
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
    #[serde(deny_unknown_fields)]
    struct Settings {
        listen: String,
        database: Database,
    }

    #[derive(Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
    #[serde(deny_unknown_fields)]
    struct Database {
        url: String,
        max_connections: u32,
    }

    impl Validate for Settings {
        fn validate(&self) -> Result<(), KernelError> {
            if self.database.max_connections == 0 {
                return Err(KernelError::Config(
                    "database.max_connections must be at least 1".into(),
                ));
            }
            Ok(())
        }
    }

    fn env(pairs: &[(&str, &str)]) -> Option<HashMap<String, String>> {
        Some(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn the_environment_overrides_the_file_which_overrides_the_defaults() {
        let dir = tempfile::tempdir().expect("dir");
        let file = dir.path().join("service.toml");
        std::fs::write(
            &file,
            "listen = \"0.0.0.0:1\"\n[database]\nurl = \"sqlite://a.db\"\nmax_connections = 4\n",
        )
        .expect("write");
        let settings: Settings = load_with_env(
            Some(&file),
            env(&[("SHEBAO_DATABASE__URL", "postgres://db/x")]),
        )
        .expect("loads");
        assert_eq!(settings.listen, "0.0.0.0:1");
        assert_eq!(settings.database.url, "postgres://db/x");
        assert_eq!(settings.database.max_connections, 4);
    }

    #[test]
    fn an_unknown_key_or_an_invalid_value_is_refused_with_a_reason() {
        let unknown = load_with_env::<Settings>(None, env(&[("SHEBAO_DATABSE__URL", "x")]));
        assert!(matches!(unknown, Err(KernelError::Config(reason)) if reason.contains("databse")));
        let invalid =
            load_with_env::<Settings>(None, env(&[("SHEBAO_DATABASE__MAX_CONNECTIONS", "0")]));
        assert!(
            matches!(invalid, Err(KernelError::Config(reason)) if reason.contains("max_connections"))
        );
        let missing = load_with_env::<Settings>(Some(Path::new("/nonexistent/shebao.toml")), None);
        assert!(matches!(missing, Err(KernelError::Config(_))));
    }
}

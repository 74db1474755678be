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

/// Loads `T` from its defaults, an optional file and the process
/// environment (`SHEBAO_DATABASE__URL` sets `database.url`), then validates.
pub fn load<T>(file: Option<&Path>) -> Result<T, KernelError>
where
    T: Serialize + DeserializeOwned + Default + Validate,
{
    load_with_env(file, None)
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

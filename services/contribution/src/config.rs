//! Settings of the contribution service, and the loading of the rule book
//! it computes with (R6.4).

use std::error::Error as _;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use shebao_kernel::KernelError;
use shebao_kernel::config::Validate;
use shebao_kernel::db::DatabaseSettings;
use shebao_kernel::server::ServerSettings;
use shebao_rules::{RegionCode, RuleBook};

use crate::domain::RegionRules;

/// Everything the contribution service needs to start.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ContributionSettings {
    /// Listener, certificate identity, telemetry.
    pub server: ServerSettings,
    /// Where declarations and their computed contributions are kept.
    pub database: DatabaseSettings,
    /// The registration service, asked for a person's employments over mTLS.
    #[serde(default = "default_registration_url")]
    pub registration_url: String,
    /// A rule book file (`.toml`, `.yaml`); `None` uses the embedded default book.
    #[serde(default)]
    pub rule_book: Option<PathBuf>,
    /// The region (GB/T 2260) whose rules apply; `None` uses the book's default region.
    #[serde(default)]
    pub region: Option<String>,
}

fn default_registration_url() -> String {
    "https://127.0.0.1:50051".to_string()
}

impl Default for ContributionSettings {
    fn default() -> Self {
        Self {
            server: ServerSettings::on_port(50052),
            database: DatabaseSettings::sqlite("data/contribution.db"),
            registration_url: default_registration_url(),
            rule_book: None,
            region: None,
        }
    }
}

impl ContributionSettings {
    /// Loads the rule book and picks the region: a book that cannot be read
    /// or does not validate, or a region it has no rules for, is a start-up
    /// error naming the reason.
    pub fn region_rules(&self) -> Result<RegionRules, KernelError> {
        let book = match &self.rule_book {
            None => RuleBook::default_book(),
            Some(path) => RuleBook::load_file(path).map_err(|e| {
                // The read error keeps the I/O cause as its source; one line says both.
                let reason = match e.source() {
                    Some(cause) => format!("{e}: {cause}"),
                    None => e.to_string(),
                };
                KernelError::Config(format!("rule_book: {reason}"))
            })?,
        };
        let region = match &self.region {
            None => *book.default_region(),
            Some(raw) => {
                RegionCode::parse(raw).map_err(|e| KernelError::Config(format!("region: {e}")))?
            }
        };
        book.region_name(&region).map_err(|e| {
            KernelError::Config(format!("region: {e} in rule book {}", book.source_name()))
        })?;
        Ok(RegionRules::new(book, region))
    }

    fn validate_registration_url(&self) -> Result<(), KernelError> {
        let invalid = |reason: &str| {
            KernelError::Config(format!(
                "registration_url {:?}: {reason}",
                self.registration_url
            ))
        };
        let uri: http::Uri = self
            .registration_url
            .parse()
            .map_err(|e: http::uri::InvalidUri| invalid(&e.to_string()))?;
        // Internal calls are mTLS only (DESIGN "The mesh").
        if uri.scheme_str() != Some("https") {
            return Err(invalid("must be an https:// url"));
        }
        if uri.host().is_none_or(str::is_empty) {
            return Err(invalid("has no host"));
        }
        Ok(())
    }
}

impl Validate for ContributionSettings {
    fn validate(&self) -> Result<(), KernelError> {
        self.server.tls.validate()?;
        self.database.validate()?;
        self.validate_registration_url()?;
        self.region_rules().map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> ContributionSettings {
        ContributionSettings::default()
    }

    #[test]
    fn the_defaults_use_port_50052_and_the_embedded_book() {
        let s = settings();
        assert_eq!(s.server.listen.port(), 50052);
        assert_eq!(s.database.url, "sqlite://data/contribution.db");
        assert_eq!(s.registration_url, "https://127.0.0.1:50051");
        let rules = s.region_rules().expect("the embedded book loads");
        assert_eq!(rules.region(), RuleBook::default_book().default_region());
    }

    #[test]
    fn a_malformed_rule_book_is_a_start_up_error_with_the_reason() {
        // R6.4: rules fixed in advance; a broken book never serves
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("broken.toml");
        std::fs::write(&path, "this is = = not toml").expect("write");
        let s = ContributionSettings {
            rule_book: Some(path),
            ..settings()
        };
        let error = s
            .region_rules()
            .expect_err("a broken book is refused")
            .to_string();
        assert!(error.contains("rule_book"), "{error}");
        assert!(error.contains("broken.toml"), "{error}");
    }

    #[test]
    fn a_missing_rule_book_names_the_file_and_the_cause() {
        let s = ContributionSettings {
            rule_book: Some(PathBuf::from("/nonexistent/book.toml")),
            ..settings()
        };
        let error = s
            .region_rules()
            .expect_err("a missing book is refused")
            .to_string();
        assert!(error.contains("/nonexistent/book.toml"), "{error}");
    }

    #[test]
    fn a_region_without_rules_or_malformed_is_refused() {
        let s = ContributionSettings {
            region: Some("110000".into()),
            ..settings()
        };
        assert!(s.region_rules().is_err());
        let s = ContributionSettings {
            region: Some("35x".into()),
            ..settings()
        };
        assert!(s.region_rules().is_err());
    }

    #[test]
    fn a_plaintext_or_unparsable_registration_url_is_refused() {
        for url in ["http://127.0.0.1:50051", "not a url", "https://"] {
            let s = ContributionSettings {
                registration_url: url.into(),
                ..settings()
            };
            assert!(s.validate_registration_url().is_err(), "{url} accepted");
        }
        assert!(settings().validate_registration_url().is_ok());
    }
}

//! shebao-registration

//! shebao-integration-tests

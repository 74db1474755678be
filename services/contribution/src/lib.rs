//! shebao-contribution

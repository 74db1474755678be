//! shebao-audit

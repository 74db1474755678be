//! shebao-query

//! shebao

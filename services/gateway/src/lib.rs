//! shebao-gateway

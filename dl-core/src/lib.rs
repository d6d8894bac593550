//! dl-core

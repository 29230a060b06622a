//! File systems written into a partition window.

pub mod fat;

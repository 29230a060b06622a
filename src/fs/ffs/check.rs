//! placeholder
use super::FfsError;
use crate::disk::BlockDevice;

/// One problem found by the checker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub pass: u8,
    pub what: String,
}

pub fn check<D: BlockDevice>(_dev: D) -> Result<Vec<Finding>, FfsError> {
    Ok(Vec::new())
}

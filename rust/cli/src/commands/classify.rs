//! Placeholder; being written.
use super::Outcome;

pub fn run(_raw: &[String]) -> Result<Outcome, String> {
    Err("not implemented yet".into())
}

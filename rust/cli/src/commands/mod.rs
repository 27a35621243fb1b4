//! One module per subcommand. Each exposes `run(&[String]) -> Result<Outcome, Failure>`:
//! `Err` stops the command (its exit code comes from [`crate::failure`]),
//! `SomeInputsFailed` means the command went on past inputs that failed and reported them.

pub mod analyze;
pub mod cam_eval;
pub mod classify;
pub mod cluster;
mod common;
pub mod import_model;
pub mod preprocess;
pub mod synth;
pub mod texture;
pub mod threshold;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    SomeInputsFailed,
}

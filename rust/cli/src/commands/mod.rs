//! One module per subcommand. Each exposes `run(&[String]) -> Result<Outcome, String>`:
//! `Err` is a usage or setup error (exit code 2), `SomeInputsFailed` means the command
//! went on past inputs that failed and reported them (exit code 1).

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
pub mod train;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    SomeInputsFailed,
}

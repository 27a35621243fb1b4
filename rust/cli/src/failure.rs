//! How a command fails and the exit code each kind of failure gets: the one place that
//! maps errors to exit codes.

use visual_ccc_core::ErrorKind;

/// The exit codes, as `--help` and the README state them.
pub const EXIT_CODES: &str = "\
exit codes:
  0  success
  1  an input could not be read, decoded, processed or written (commands over several
     images go on past a failed image, report it and exit 1 at the end)
  2  setup: the model or ONNX Runtime is missing or unusable
  3  usage: unknown command or option, missing argument, bad option value";

/// Why a command stopped.
#[derive(Debug)]
pub enum Failure {
    /// Bad command line (exit 3).
    Usage(String),
    /// An input or output file, or the pixels of an image (exit 1).
    Input(String),
    /// The model or ONNX Runtime (exit 2).
    Setup(String),
}

impl Failure {
    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::Input(_) => 1,
            Failure::Setup(_) => 2,
            Failure::Usage(_) => 3,
        }
    }

    pub fn message(&self) -> &str {
        match self {
            Failure::Usage(m) | Failure::Input(m) | Failure::Setup(m) => m,
        }
    }
}

/// Messages built by the command line itself are about the command line.
impl From<String> for Failure {
    fn from(message: String) -> Self {
        Failure::Usage(message)
    }
}

impl From<&str> for Failure {
    fn from(message: &str) -> Self {
        Failure::Usage(message.to_string())
    }
}

impl From<visual_ccc_core::Error> for Failure {
    fn from(err: visual_ccc_core::Error) -> Self {
        let message = err.to_string();
        match err.kind() {
            ErrorKind::Model | ErrorKind::Runtime => Failure::Setup(message),
            ErrorKind::InvalidArgument | ErrorKind::Decode | ErrorKind::Io => {
                Failure::Input(message)
            }
        }
    }
}

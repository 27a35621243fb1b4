//! One error type for the whole core. Bridges (JNI, C ABI, CLI) map [`ErrorKind`]
//! to their own error channels in exactly one place each.

use std::path::PathBuf;

/// Broad class of an [`Error`], used by bridges to choose an exception type or exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The caller passed a bad parameter or an image the operation cannot accept.
    InvalidArgument,
    /// A file could not be read or decoded as an image.
    Decode,
    /// A model file is missing, malformed or does not meet the model contract.
    Model,
    /// ONNX Runtime could not be loaded or failed while running.
    Runtime,
    /// Reading or writing a file failed.
    Io,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    InvalidArgument(String),
    #[error("cannot decode image: {0}")]
    Decode(String),
    #[error("model error: {0}")]
    Model(String),
    /// A class activation map method needs the `features` output the model lacks.
    #[error(
        "model error: {model}: {reason}; '{method}' needs it. Use the 'occlusion' method, \
         which works with any classifier"
    )]
    CamUnavailable {
        model: String,
        method: &'static str,
        reason: String,
    },
    #[error("ONNX Runtime: {0}")]
    Runtime(String),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl Error {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidArgument(_) => ErrorKind::InvalidArgument,
            Error::Decode(_) => ErrorKind::Decode,
            Error::Model(_) | Error::CamUnavailable { .. } => ErrorKind::Model,
            Error::Runtime(_) => ErrorKind::Runtime,
            Error::Io { .. } => ErrorKind::Io,
        }
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Error::InvalidArgument(message.into())
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;

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
    /// The image decoder refused the data; its error is kept as the source.
    #[error("cannot decode image: {context}: {source}")]
    DecodeImage {
        context: String,
        #[source]
        source: image::ImageError,
    },
    /// The TIFF decoder refused the data; its error is kept as the source.
    #[error("cannot decode image: {context}: {source}")]
    DecodeTiff {
        context: String,
        #[source]
        source: tiff::TiffError,
    },
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
    /// An ONNX Runtime call failed; its error is kept as the source.
    #[error("ONNX Runtime: {context}: {source}")]
    Ort {
        context: String,
        #[source]
        source: ort::Error,
    },
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
            Error::Decode(_) | Error::DecodeImage { .. } | Error::DecodeTiff { .. } => {
                ErrorKind::Decode
            }
            Error::Model(_) | Error::CamUnavailable { .. } => ErrorKind::Model,
            Error::Runtime(_) | Error::Ort { .. } => ErrorKind::Runtime,
            Error::Io { .. } => ErrorKind::Io,
        }
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Error::InvalidArgument(message.into())
    }

    /// An ONNX Runtime failure while doing `context`.
    pub(crate) fn ort(context: impl Into<String>, source: ort::Error) -> Self {
        Error::Ort {
            context: context.into(),
            source,
        }
    }

    /// A decoding error of the file at `path`, named in the message.
    pub(crate) fn in_file(self, path: &std::path::Path) -> Self {
        let named = |context: String| format!("{}: {context}", path.display());
        match self {
            Error::Decode(message) => Error::Decode(named(message)),
            Error::DecodeImage { context, source } => Error::DecodeImage {
                context: named(context),
                source,
            },
            Error::DecodeTiff { context, source } => Error::DecodeTiff {
                context: named(context),
                source,
            },
            other => other,
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    #[test]
    fn decoder_errors_keep_their_source_and_kind() {
        // A PNG signature followed by garbage: the image crate's error is the source.
        let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
        bytes.extend_from_slice(&[0u8; 40]);
        let err = crate::image::decode::decode_bytes(&bytes).unwrap_err();
        assert_eq!(err.kind(), super::ErrorKind::Decode);
        assert!(err.source().is_some(), "{err:?}");
        let named = err.in_file(std::path::Path::new("/data/a.png"));
        assert!(
            named
                .to_string()
                .starts_with("cannot decode image: /data/a.png: Png data"),
            "{named}"
        );
        assert!(named.source().is_some());
    }
}

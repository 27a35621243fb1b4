//! Errors of the bridge and their mapping to Java exceptions.

use jni::errors::ErrorPolicy;
use jni::objects::JValue;
use jni::{jni_sig, jni_str, Env};
use visual_ccc_core::ErrorKind;

/// Everything that can go wrong in a native call.
#[derive(Debug, thiserror::Error)]
pub enum BridgeError {
    #[error(transparent)]
    Core(#[from] visual_ccc_core::Error),
    /// A bad argument detected by the bridge itself (null array, negative size, …).
    #[error("{0}")]
    InvalidArgument(String),
    #[error("JNI call failed: {0}")]
    Jni(#[from] jni::errors::Error),
}

pub type BridgeResult<T> = Result<T, BridgeError>;

/// Throws `IllegalArgumentException` for bad arguments and
/// `org.visualccc.VisualCccException(kind, message)` for everything else, including
/// panics (kind `INTERNAL`). An exception already pending from a JNI call wins.
pub struct ThrowJavaException;

impl ThrowJavaException {
    fn throw(env: &mut Env<'_>, error: &BridgeError) -> jni::errors::Result<()> {
        let kind = match error {
            BridgeError::InvalidArgument(_) => None,
            BridgeError::Core(core) => match core.kind() {
                ErrorKind::InvalidArgument => None,
                ErrorKind::Decode => Some("DECODE"),
                ErrorKind::Model => Some("MODEL"),
                ErrorKind::Runtime => Some("RUNTIME"),
                ErrorKind::Io => Some("IO"),
            },
            BridgeError::Jni(_) => Some("INTERNAL"),
        };
        let message = error.to_string();
        match kind {
            None => env.throw_new(
                jni_str!("java/lang/IllegalArgumentException"),
                jni::strings::JNIString::from(message),
            ),
            Some(kind) => throw_visual_ccc_exception(env, kind, &message),
        }
    }
}

fn throw_visual_ccc_exception(
    env: &mut Env<'_>,
    kind: &str,
    message: &str,
) -> jni::errors::Result<()> {
    let kind = env.new_string(kind)?;
    let message = env.new_string(message)?;
    let exception = env.new_object(
        jni_str!("org/visualccc/VisualCccException"),
        jni_sig!("(Ljava/lang/String;Ljava/lang/String;)V"),
        &[JValue::Object(&kind), JValue::Object(&message)],
    )?;
    let exception = env.cast_local::<jni::objects::JThrowable>(exception)?;
    env.throw(exception)
}

/// jni reports a successful throw as `Err(JavaException)` (an exception is now pending):
/// that is the outcome wanted here, not a secondary failure.
fn thrown(result: jni::errors::Result<()>) -> jni::errors::Result<()> {
    match result {
        Err(jni::errors::Error::JavaException) => Ok(()),
        other => other,
    }
}

impl<T: Default> ErrorPolicy<T, BridgeError> for ThrowJavaException {
    type Captures<'unowned_env_local: 'native_method, 'native_method> = ();

    fn on_error<'unowned_env_local: 'native_method, 'native_method>(
        env: &mut Env<'unowned_env_local>,
        _captures: &mut (),
        error: BridgeError,
    ) -> jni::errors::Result<T> {
        if !env.exception_check() {
            log::debug!("native call failed: {error}");
            thrown(Self::throw(env, &error))?;
        }
        Ok(T::default())
    }

    fn on_panic<'unowned_env_local: 'native_method, 'native_method>(
        env: &mut Env<'unowned_env_local>,
        _captures: &mut (),
        payload: Box<dyn std::any::Any + Send + 'static>,
    ) -> jni::errors::Result<T> {
        if env.exception_check() {
            env.exception_clear();
        }
        let message = format!(
            "internal error in Visual-CCC native code: {}",
            visual_ccc_core::model::runtime::panic_message(payload.as_ref())
        );
        thrown(throw_visual_ccc_exception(env, "INTERNAL", &message))?;
        Ok(T::default())
    }
}

//! `org.visualccc.NativeLog`: the core's `log` records, queued here and drained by Java
//! into ImageJ's Log window after each command, at the level chosen in Visual-CCC
//! Options… (or the `visualccc.log` system property).
//!
//! A queue rather than calls into Java from the logger: records can come from any
//! thread, and ImageJ's Log must be written from Java anyway.

use std::collections::VecDeque;
use std::sync::Mutex;

use jni::objects::{JObjectArray, JString};
use jni::sys::jint;
use jni::Env;

use crate::convert;
use crate::error::{BridgeError, BridgeResult};
use crate::export::native;

/// Most records kept between two drains; older ones are dropped first.
const CAPACITY: usize = 1000;

static QUEUE: Mutex<VecDeque<String>> = Mutex::new(VecDeque::new());

struct QueueLogger;

impl log::Log for QueueLogger {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &log::Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let line = format!(
            "{}: {}",
            record.level().as_str().to_ascii_lowercase(),
            record.args()
        );
        let mut queue = QUEUE.lock().unwrap_or_else(|poison| poison.into_inner());
        if queue.len() == CAPACITY {
            queue.pop_front();
        }
        queue.push_back(line);
    }

    fn flush(&self) {}
}

static LOGGER: QueueLogger = QueueLogger;

/// Installs the queue as the process's logger (warnings and errors until Java says
/// otherwise); does nothing if another logger is already installed.
pub(crate) fn install() {
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(log::LevelFilter::Warn);
    }
}

/// 0 off, 1 error, 2 warn, 3 info, 4 debug, 5 trace (Java's `NativeLog.LEVELS`).
fn intern_set_level(level: jint) -> BridgeResult<()> {
    let filter = match level {
        0 => log::LevelFilter::Off,
        1 => log::LevelFilter::Error,
        2 => log::LevelFilter::Warn,
        3 => log::LevelFilter::Info,
        4 => log::LevelFilter::Debug,
        5 => log::LevelFilter::Trace,
        other => {
            return Err(BridgeError::InvalidArgument(format!(
                "log level must be 0 (off) to 5 (trace), got {other}"
            )))
        }
    };
    log::set_max_level(filter);
    Ok(())
}

fn intern_drain<'local>(
    env: &mut Env<'local>,
) -> BridgeResult<JObjectArray<'local, JString<'local>>> {
    let lines: Vec<String> = QUEUE
        .lock()
        .unwrap_or_else(|poison| poison.into_inner())
        .drain(..)
        .collect();
    convert::new_string_array(env, &lines)
}

native! {
    fn Java_org_visualccc_NativeLog_nativeSetLevel(_env, level: jint) {
        intern_set_level(level)
    }
}

native! {
    fn Java_org_visualccc_NativeLog_nativeDrain(env) -> JObjectArray<'local, JString<'local>> {
        intern_drain(env)
    }
}

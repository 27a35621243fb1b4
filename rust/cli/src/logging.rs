//! The core's `log` records on stderr, at the level chosen with `-v`, `-vv` or `-q`.

use std::io::Write;

/// How much to show: -1 errors only, 0 warnings (default), 1 info, 2 debug and more.
pub type Verbosity = i8;

/// Takes the global `-v`, `-vv`, `-q` flags (and their long forms) from anywhere before a
/// `--`, returning the level and the remaining arguments.
pub fn split_flags(args: impl Iterator<Item = String>) -> (Verbosity, Vec<String>) {
    let mut verbosity = 0;
    let mut rest = Vec::new();
    let mut literal = false;
    for arg in args {
        if literal {
            rest.push(arg);
            continue;
        }
        match arg.as_str() {
            "-v" | "--verbose" => verbosity += 1,
            "-vv" => verbosity += 2,
            "-q" | "--quiet" => verbosity = -1,
            "--" => {
                literal = true;
                rest.push(arg);
            }
            _ => rest.push(arg),
        }
    }
    (verbosity, rest)
}

struct StderrLogger;

impl log::Log for StderrLogger {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &log::Record) {
        if self.enabled(record.metadata()) {
            let level = record.level().as_str().to_ascii_lowercase();
            // A closed stderr must not turn a log line into a failure.
            let _ = writeln!(std::io::stderr(), "visual-ccc: {level}: {}", record.args());
        }
    }

    fn flush(&self) {}
}

static LOGGER: StderrLogger = StderrLogger;

pub fn init(verbosity: Verbosity) {
    let level = match verbosity {
        i8::MIN..=-1 => log::LevelFilter::Error,
        0 => log::LevelFilter::Warn,
        1 => log::LevelFilter::Info,
        2 => log::LevelFilter::Debug,
        _ => log::LevelFilter::Trace,
    };
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(level);
    }
}

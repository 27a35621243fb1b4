//! Minimal command-line parsing: `--flag value`, `--flag=value`, `--switch` and
//! positional arguments, with errors that name the offending option.

use std::collections::BTreeMap;
use std::str::FromStr;

#[derive(Debug, Default)]
pub struct Args {
    options: BTreeMap<String, Vec<String>>,
    switches: Vec<String>,
    pub positional: Vec<String>,
}

impl Args {
    /// Parses the options of `visual-ccc COMMAND`: `Ok(None)` when `--help` was asked for
    /// (the help is printed); any option outside `switches` and `options` is an error that
    /// points to the help.
    pub fn command(
        command: &str,
        raw: &[String],
        help: &str,
        switches: &[&str],
        options: &[&str],
    ) -> Result<Option<Self>, String> {
        if raw.iter().take_while(|a| *a != "--").any(|a| a == "--help") {
            println!("{help}\n\n{}", crate::failure::EXIT_CODES);
            return Ok(None);
        }
        Self::parse_known(raw, switches, options)
            .map(Some)
            .map_err(|err| format!("{err} (see `visual-ccc {command} --help`)"))
    }

    /// Parses `raw`; `switches` names the options that take no value.
    fn parse(raw: &[String], switches: &[&str]) -> Result<Self, String> {
        let mut args = Args::default();
        let mut iter = raw.iter();
        while let Some(arg) = iter.next() {
            if arg == "--" {
                args.positional.extend(iter.by_ref().cloned());
                break;
            }
            let Some(name) = arg.strip_prefix("--") else {
                args.positional.push(arg.clone());
                continue;
            };
            if let Some((name, value)) = name.split_once('=') {
                args.push(name, value.to_string());
            } else if switches.contains(&name) {
                args.switches.push(name.to_string());
            } else {
                let value = iter
                    .next()
                    .ok_or_else(|| format!("option --{name} needs a value"))?;
                args.push(name, value.clone());
            }
        }
        Ok(args)
    }

    /// As [`Args::parse`], but an option that is neither in `switches` nor in `options`
    /// is reported as unknown straight away (instead of swallowing the next argument as
    /// its value).
    pub fn parse_known(
        raw: &[String],
        switches: &[&str],
        options: &[&str],
    ) -> Result<Self, String> {
        for arg in raw.iter().take_while(|a| *a != "--") {
            if let Some(name) = arg.strip_prefix("--") {
                let name = name.split_once('=').map_or(name, |(n, _)| n);
                if !switches.contains(&name) && !options.contains(&name) {
                    return Err(format!("unknown option --{name}"));
                }
                if switches.contains(&name) && arg.contains('=') {
                    return Err(format!("option --{name} takes no value"));
                }
            }
        }
        Self::parse(raw, switches)
    }

    fn push(&mut self, name: &str, value: String) {
        self.options
            .entry(name.to_string())
            .or_default()
            .push(value);
    }

    pub fn switch(&self, name: &str) -> bool {
        self.switches.iter().any(|s| s == name)
    }

    /// The value of `--name` (`default` when absent) as one of `choices`, each a spelling
    /// and what it means; any other value is an error that lists the spellings.
    pub fn choice<T: Copy>(
        &self,
        name: &str,
        default: &str,
        choices: &[(&str, T)],
    ) -> Result<T, String> {
        let value = self.value(name).unwrap_or(default);
        if let Some(&(_, meaning)) = choices.iter().find(|(spelling, _)| *spelling == value) {
            return Ok(meaning);
        }
        let spellings: Vec<&str> = choices.iter().map(|&(spelling, _)| spelling).collect();
        let list = match spellings.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
            _ => spellings.concat(),
        };
        Err(format!("--{name} must be {list}, not '{value}'"))
    }

    /// The last value given for `--name`, if any.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.options
            .get(name)
            .and_then(|v| v.last())
            .map(String::as_str)
    }

    /// Parses `--name` as `T`, or returns `default` when it is absent.
    pub fn parsed_or<T: FromStr>(&self, name: &str, default: T) -> Result<T, String> {
        Ok(self.parsed(name)?.unwrap_or(default))
    }

    /// Parses `--name` as `T`, or returns `None` when it is absent.
    pub fn parsed<T: FromStr>(&self, name: &str) -> Result<Option<T>, String> {
        self.value(name)
            .map(|text| {
                text.parse()
                    .map_err(|_| format!("option --{name}: cannot read '{text}'"))
            })
            .transpose()
    }

    /// Whether `--name` was given, as an option with a value or as a switch.
    pub fn present(&self, name: &str) -> bool {
        self.options.contains_key(name) || self.switch(name)
    }

    /// The first of `names` that was given, if any.
    pub fn first_present<'n>(&self, names: &[&'n str]) -> Option<&'n str> {
        names.iter().copied().find(|name| self.present(name))
    }

    /// Parses `--name` as a comma-separated list of `T`, or returns `None` when it is
    /// absent.
    pub fn parsed_list<T: FromStr>(&self, name: &str) -> Result<Option<Vec<T>>, String> {
        let Some(text) = self.value(name) else {
            return Ok(None);
        };
        text.split(',')
            .map(|item| {
                let item = item.trim();
                item.parse()
                    .map_err(|_| format!("option --{name}: cannot read '{item}' in '{text}'"))
            })
            .collect::<Result<Vec<T>, String>>()
            .map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_options_switches_and_positionals() {
        let args = Args::parse(
            &strings(&["a.png", "--k", "3", "--seed=7", "--verbose", "b.png"]),
            &["verbose"],
        )
        .unwrap();
        assert_eq!(args.positional, ["a.png", "b.png"]);
        assert_eq!(args.parsed_or("k", 2).unwrap(), 3);
        assert_eq!(args.value("seed"), Some("7"));
        assert!(args.switch("verbose"));
    }

    #[test]
    fn known_options_lists_and_presence() {
        let args = Args::parse_known(
            &strings(&["a.png", "--distances", "1, 2", "--reference"]),
            &["reference"],
            &["distances"],
        )
        .unwrap();
        assert_eq!(
            args.parsed_list::<usize>("distances").unwrap(),
            Some(vec![1, 2])
        );
        assert_eq!(args.parsed_list::<usize>("angles").unwrap(), None);
        assert!(args.present("reference") && args.present("distances"));
        assert_eq!(
            args.first_present(&["window", "distances"]),
            Some("distances")
        );
        let err = Args::parse_known(&strings(&["--bogus", "x.png"]), &[], &["k"]).unwrap_err();
        assert_eq!(err, "unknown option --bogus");
        assert!(Args::parse_known(&strings(&["--reference=1"]), &["reference"], &[]).is_err());
        let bad = Args::parse(&strings(&["--distances", "1,x"]), &[]).unwrap();
        assert!(bad
            .parsed_list::<usize>("distances")
            .unwrap_err()
            .contains("'x'"));
    }

    #[test]
    fn command_prints_help_or_names_the_unknown_option() {
        assert!(
            Args::command("synth", &strings(&["--help"]), "help", &[], &[])
                .unwrap()
                .is_none()
        );
        let err = Args::command("synth", &strings(&["--bogus"]), "help", &[], &["k"]).unwrap_err();
        assert_eq!(
            err,
            "unknown option --bogus (see `visual-ccc synth --help`)"
        );
    }

    #[test]
    fn missing_value_is_an_error() {
        assert!(Args::parse(&strings(&["--k"]), &[]).is_err());
    }
}

//! Parsers for the values our flags and environment variables take. Each error names the accepted
//! form, because the caller prints it as the single line a user sees.

use std::time::Duration;

/// Upper bound for every duration: longer values are almost certainly a typo (`2h` for `2s`), and
/// tokio's timer wheel handles this comfortably.
pub const MAX_DURATION: Duration = Duration::from_secs(24 * 60 * 60);

const DURATION_FORM: &str =
    "expected a duration like 2s, 500ms or 1m30s (a bare number means seconds), at most 24h";

/// A duration that may be zero (zero means "none": no delay, no drain).
pub fn duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err(format!("empty value; {DURATION_FORM}"));
    }
    if text.starts_with('-') {
        return Err(format!(
            "negative durations are not allowed; {DURATION_FORM}"
        ));
    }
    let parsed = if text.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        text.parse::<f64>()
            .ok()
            .and_then(|secs| Duration::try_from_secs_f64(secs).ok())
    } else {
        humantime::parse_duration(text).ok()
    };
    match parsed {
        Some(d) if d > MAX_DURATION => Err(format!("too long; {DURATION_FORM}")),
        Some(d) => Ok(d),
        None => Err(format!("not a duration; {DURATION_FORM}")),
    }
}

/// The shortest interval between lines. tokio's timer works in whole milliseconds ("operates at
/// millisecond granularity", tokio::time::sleep), so a shorter period would not wait at all: the
/// busy loop the interval exists to prevent (`--interval 1ns` printed ~1.5 M lines/s).
pub const MIN_INTERVAL: Duration = Duration::from_millis(1);

/// The interval between lines: at least [`MIN_INTERVAL`].
pub fn interval(text: &str) -> Result<Duration, String> {
    match duration(text)? {
        d if d.is_zero() => Err(format!(
            "must be greater than zero, at least 1ms; {DURATION_FORM}"
        )),
        d if d < MIN_INTERVAL => Err(format!(
            "shorter than 1ms, the timer's resolution (it would be a busy loop); {DURATION_FORM}"
        )),
        d => Ok(d),
    }
}

/// A duration that must be greater than zero (an interval of zero would be a busy loop).
pub fn positive_duration(text: &str) -> Result<Duration, String> {
    match duration(text)? {
        d if d.is_zero() => Err(format!("must be greater than zero; {DURATION_FORM}")),
        d => Ok(d),
    }
}

/// A process exit status: a whole number from 0 to 255.
pub fn exit_code(text: &str) -> Result<u8, String> {
    text.trim()
        .parse::<u8>()
        .map_err(|_| "expected a whole number from 0 to 255".to_string())
}

/// A count of lines: a whole number, at least 1.
pub fn count(text: &str) -> Result<u64, String> {
    match text.trim().parse::<u64>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err("expected a whole number of lines, 1 or more".to_string()),
    }
}

/// A path; an empty one means "none", so `HELLO_HEARTBEAT_FILE=` switches off an image's default.
pub fn path_or_none(text: &str) -> Result<std::path::PathBuf, String> {
    Ok(std::path::PathBuf::from(text.trim()))
}

/// Text from outside (a value, a path) made safe for a one-line message: control characters (a
/// newline above all, which would make a second line, or forge a log line) and the Unicode line
/// and paragraph separators are shown escaped, as Rust writes them (`\n`, `\t`, `\u{1b}`);
/// everything else as it is. Applying it twice changes nothing more.
pub fn one_line(text: &str) -> std::borrow::Cow<'_, str> {
    let breaks = |c: char| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}');
    if !text.contains(breaks) {
        return text.into();
    }
    let mut shown = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if breaks(c) {
            shown.extend(c.escape_default());
        } else {
            shown.push(c);
        }
    }
    shown.into()
}

/// Human form of a configured duration for logs, exact: `1m 30s`, `1ms 500us`, `0s`.
pub fn display(duration: Duration) -> String {
    humantime::format_duration(duration).to_string()
}

/// Human form of a measured duration (an uptime, an age), in whole milliseconds: microsecond
/// noise helps nobody reading a log.
pub fn display_rounded(duration: Duration) -> String {
    let millis = Duration::from_millis(duration.as_millis().min(u64::MAX as u128) as u64);
    display(millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_documented_forms() {
        assert_eq!(duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(duration("1m 30s"), Ok(Duration::from_secs(90)));
        assert_eq!(duration("3"), Ok(Duration::from_secs(3)));
        assert_eq!(duration("0.25"), Ok(Duration::from_millis(250)));
        assert_eq!(duration("0"), Ok(Duration::ZERO));
        assert_eq!(duration("24h"), Ok(MAX_DURATION));
    }

    #[test]
    fn rejects_bad_durations_with_the_accepted_form() {
        for bad in [
            "",
            "abc",
            "-1",
            "-5s",
            "25h",
            "99999999999999999999",
            "1.2.3",
            "5 parsecs",
        ] {
            let err = duration(bad).unwrap_err();
            assert!(
                err.contains("expected a duration like 2s"),
                "{bad:?}: {err}"
            );
        }
        assert!(duration("-5s").unwrap_err().starts_with("negative"));
        assert!(duration("25h").unwrap_err().starts_with("too long"));
    }

    #[test]
    fn positive_rejects_zero_only() {
        assert!(positive_duration("0")
            .unwrap_err()
            .contains("greater than zero"));
        assert!(positive_duration("0s").is_err());
        assert_eq!(positive_duration("1ms"), Ok(Duration::from_millis(1)));
    }

    #[test]
    fn exit_codes_are_bytes() {
        assert_eq!(exit_code("0"), Ok(0));
        assert_eq!(exit_code("255"), Ok(255));
        for bad in ["256", "-1", "x", "", "1.5"] {
            assert!(exit_code(bad).unwrap_err().contains("0 to 255"), "{bad:?}");
        }
    }

    #[test]
    fn counts_are_positive_whole_numbers() {
        assert_eq!(count("5"), Ok(5));
        for bad in ["0", "-3", "five", "2.5", ""] {
            assert!(count(bad).unwrap_err().contains("whole number"), "{bad:?}");
        }
    }

    #[test]
    fn display_is_exact_and_display_rounded_rounds_to_milliseconds() {
        assert_eq!(display(Duration::from_micros(1_500)), "1ms 500us");
        assert_eq!(
            display_rounded(Duration::from_micros(1_500_700)),
            "1s 500ms"
        );
        assert_eq!(display(Duration::ZERO), "0s");
    }

    #[test]
    fn one_line_escapes_what_would_break_the_line_and_only_that() {
        assert_eq!(one_line("plain 'text' \\ é"), "plain 'text' \\ é");
        assert_eq!(
            one_line("a\nb\r\tc\u{1b}[2J\u{85}\u{2028}"),
            "a\\nb\\r\\tc\\u{1b}[2J\\u{85}\\u{2028}"
        );
        assert_eq!(one_line(&one_line("x\ny")), "x\\ny");
    }

    #[test]
    fn intervals_are_at_least_a_millisecond() {
        assert_eq!(interval("1ms"), Ok(MIN_INTERVAL));
        assert_eq!(interval("0.0015"), Ok(Duration::from_micros(1_500)));
        for short in ["1ns", "999us", "0.0005"] {
            let err = interval(short).unwrap_err();
            assert!(err.contains("shorter than 1ms"), "{short}: {err}");
        }
        assert!(interval("0").unwrap_err().contains("greater than zero"));
    }
}

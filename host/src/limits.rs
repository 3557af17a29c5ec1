//! The sandbox limits a platform enforces, with their defaults and command-line flags.

use std::time::Duration;

/// Limits applied to every instance and request. Every field has a flag on
/// `cloudfn up` and an environment variable (`CLOUDFN_MAX_MEMORY`, …), which
/// is how the Lambda `bootstrap` takes them.
#[derive(Debug, Clone, clap::Args)]
pub struct Limits {
    /// Linear memory per instance (bytes; suffixes KiB, MiB, GiB accepted).
    #[arg(long, env = "CLOUDFN_MAX_MEMORY", value_name = "SIZE", default_value = "256MiB", value_parser = parse_size)]
    pub max_memory: u64,

    /// Wall-clock time a request may take, from arrival to the last byte of the response.
    #[arg(long, env = "CLOUDFN_TIMEOUT", value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub timeout: Duration,

    /// WebAssembly stack per instance.
    #[arg(long, env = "CLOUDFN_MAX_STACK", value_name = "SIZE", default_value = "512KiB", value_parser = parse_size)]
    pub max_stack: u64,

    /// Request body size; larger requests get 413.
    #[arg(long, env = "CLOUDFN_MAX_REQUEST_BODY", value_name = "SIZE", default_value = "64MiB", value_parser = parse_size)]
    pub max_request_body: u64,

    /// Response body size; a guest producing more has its response cut off and logged.
    #[arg(long, env = "CLOUDFN_MAX_RESPONSE_BODY", value_name = "SIZE", default_value = "256MiB", value_parser = parse_size)]
    pub max_response_body: u64,

    /// Instances running at once across all components; excess requests get 503 with Retry-After.
    #[arg(
        long,
        env = "CLOUDFN_MAX_CONCURRENT",
        value_name = "N",
        default_value_t = 100
    )]
    pub max_concurrent: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_memory: 256 << 20,
            timeout: Duration::from_secs(30),
            max_stack: 512 << 10,
            max_request_body: 64 << 20,
            max_response_body: 256 << 20,
            max_concurrent: 100,
        }
    }
}

/// Parses `1234`, `64KiB`, `16MiB`, `1GiB` (also `K`, `M`, `G`, `KB`, `MB`, `GB` as binary units).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("`{s}` is not a size (examples: 4096, 64KiB, 16MiB, 1GiB)"))?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        other => return Err(format!("unknown size unit `{other}` (use KiB, MiB or GiB)")),
    };
    n.checked_mul(1 << shift)
        .ok_or_else(|| format!("`{s}` is too large"))
}

/// Parses `250ms`, `30s`, `2m`, or a bare number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("`{s}` is not a duration (examples: 250ms, 30s, 2m)"))?;
    match unit {
        "ms" => Ok(Duration::from_millis(n)),
        "" | "s" => Ok(Duration::from_secs(n)),
        "m" => Ok(Duration::from_secs(n * 60)),
        other => Err(format!("unknown duration unit `{other}` (use ms, s or m)")),
    }
}

/// Formats a byte count the way the flags accept it (`256MiB`).
pub fn format_size(n: u64) -> String {
    for (shift, unit) in [(30, "GiB"), (20, "MiB"), (10, "KiB")] {
        if n >= 1 << shift && n.is_multiple_of(1 << shift) {
            return format!("{}{unit}", n >> shift);
        }
    }
    format!("{n} bytes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("64KiB"), Ok(64 << 10));
        assert_eq!(parse_size("16M"), Ok(16 << 20));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert!(parse_size("12 parsecs").is_err());
        assert_eq!(format_size(256 << 20), "256MiB");
        assert_eq!(format_size(1000), "1000 bytes");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        assert!(parse_duration("1h").is_err());
    }

    #[test]
    fn defaults_match_flags() {
        use clap::Parser;
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            limits: Limits,
        }
        let parsed = Cli::parse_from(["x"]).limits;
        let default = Limits::default();
        assert_eq!(parsed.max_memory, default.max_memory);
        assert_eq!(parsed.timeout, default.timeout);
        assert_eq!(parsed.max_stack, default.max_stack);
        assert_eq!(parsed.max_request_body, default.max_request_body);
        assert_eq!(parsed.max_response_body, default.max_response_body);
        assert_eq!(parsed.max_concurrent, default.max_concurrent);
    }
}

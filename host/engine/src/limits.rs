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

    /// Memory all running instances may reserve together. Each reserves its
    /// whole limit (--max-memory, or its component's `max_memory`) when it
    /// starts; a request that does not fit waits up to a second, then gets
    /// 503 with Retry-After; an event delivery waits. The default is three
    /// quarters of this machine's memory (or of its cgroup's limit).
    #[arg(long, env = "CLOUDFN_MAX_TOTAL_MEMORY", value_name = "SIZE", default_value_t = ByteSize(default_total_memory()), value_parser = parse_byte_size)]
    pub max_total_memory: ByteSize,
}

/// Limits on client connections to `cloudfn up`'s HTTP server (not used on
/// Lambda, where the platform holds the connections). Each closes a
/// connection with a `cloudfn::connection` log line saying which limit.
#[derive(Debug, Clone, clap::Args)]
pub struct ConnectionLimits {
    /// Time a client has to send a request's headers, from their first byte:
    /// a slower client is disconnected.
    #[arg(long, env = "CLOUDFN_HEADER_READ_TIMEOUT", value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub header_read_timeout: Duration,

    /// Time a connection may stay open with no request on it (after
    /// connecting, or between kept-alive requests).
    #[arg(long, env = "CLOUDFN_IDLE_TIMEOUT", value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    pub idle_timeout: Duration,

    /// Time a request body may send nothing while the function waits for
    /// it; the request then gets 408.
    #[arg(long, env = "CLOUDFN_BODY_READ_TIMEOUT", value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub body_read_timeout: Duration,

    /// Connections open at once; more wait in the listen backlog until one closes.
    #[arg(
        long,
        env = "CLOUDFN_MAX_CONNECTIONS",
        value_name = "N",
        default_value_t = 10_000
    )]
    pub max_connections: u32,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            body_read_timeout: Duration::from_secs(30),
            max_connections: 10_000,
        }
    }
}

/// A size in bytes that prints as the flags take it (`18GiB`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ByteSize(pub u64);

impl std::fmt::Display for ByteSize {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&format_size(self.0))
    }
}

fn parse_byte_size(s: &str) -> Result<ByteSize, String> {
    parse_size(s).map(ByteSize)
}

/// Three quarters of the memory this process may use: the machine's
/// (`MemTotal`), or its cgroup's `memory.max` when lower (16 GiB when
/// neither can be read). Rounded down to whole MiB.
pub fn default_total_memory() -> u64 {
    let machine = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| mem_total(&text));
    let cgroup = std::fs::read_to_string("/sys/fs/cgroup/memory.max")
        .ok()
        .and_then(|text| text.trim().parse::<u64>().ok());
    let available = match (machine, cgroup) {
        (Some(m), Some(c)) => m.min(c),
        (Some(m), None) => m,
        (None, Some(c)) => c,
        (None, None) => 16 << 30,
    };
    (available / 4 * 3) >> 20 << 20
}

/// `MemTotal` of `/proc/meminfo`, in bytes.
fn mem_total(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

impl Limits {
    /// A component's memory limit and where it comes from, for messages:
    /// `256MiB (--max-memory)` or `16MiB (its tool.cloudfn.max_memory)`.
    pub fn describe_memory_limit(&self, component_limit: u64) -> String {
        let source = if component_limit == self.max_memory {
            "--max-memory"
        } else {
            "its tool.cloudfn.max_memory"
        };
        format!("{} ({source})", format_size(component_limit))
    }
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
            max_total_memory: ByteSize(default_total_memory()),
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
    fn the_default_budget_is_three_quarters_of_memtotal() {
        let meminfo = "MemTotal:       24563916 kB\nMemFree:         1000 kB\n";
        assert_eq!(mem_total(meminfo), Some(24_563_916 * 1024));
        assert_eq!(mem_total("MemFree: 1 kB\n"), None);
        let budget = default_total_memory();
        assert!(budget > 0 && budget.is_multiple_of(1 << 20));
        assert_eq!(ByteSize(18 << 30).to_string(), "18GiB");
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
        assert_eq!(parsed.max_total_memory, default.max_total_memory);
    }

    #[test]
    fn connection_defaults_match_flags() {
        use clap::Parser;
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            connections: ConnectionLimits,
        }
        let parsed = Cli::parse_from(["x"]).connections;
        let default = ConnectionLimits::default();
        assert_eq!(parsed.header_read_timeout, default.header_read_timeout);
        assert_eq!(parsed.idle_timeout, default.idle_timeout);
        assert_eq!(parsed.body_read_timeout, default.body_read_timeout);
        assert_eq!(parsed.max_connections, default.max_connections);
    }
}

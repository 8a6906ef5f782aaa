//! The command line: `serve` (the default), `migrate`, `token`, `seed`.

use clap::{Parser, Subcommand};

/// Order backend for online shops.
#[derive(Debug, Parser)]
#[command(name = "commerce", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the HTTP API and run the background jobs (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print a bearer token for a user, signed with the configured secret, and nothing else.
    Token {
        /// The user id (the token's `sub`).
        #[arg(long)]
        user: i64,
        /// Give the token the admin role.
        #[arg(long)]
        admin: bool,
        /// How long the token is valid: e.g. `30m`, `24h`, `7d`, or seconds.
        #[arg(long, default_value = "24h", value_parser = parse_duration)]
        ttl: time::Duration,
    },
    /// Load the demo catalog, coupons and points (only into an empty catalog).
    Seed,
}

/// Parses `90`, `90s`, `30m`, `24h` or `7d`.
pub fn parse_duration(text: &str) -> Result<time::Duration, String> {
    let text = text.trim();
    let (digits, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(index) => text.split_at(index),
        None => (text, "s"),
    };
    let value: i64 = digits
        .parse()
        .map_err(|_| format!("not a duration: {text:?} (try 30m, 24h, 7d)"))?;
    let duration = match unit {
        "s" => time::Duration::seconds(value),
        "m" => time::Duration::minutes(value),
        "h" => time::Duration::hours(value),
        "d" => time::Duration::days(value),
        _ => return Err(format!("unknown unit in {text:?}: use s, m, h or d")),
    };
    if duration <= time::Duration::ZERO || duration > time::Duration::days(366) {
        return Err("the duration must be between 1 second and 366 days".to_owned());
    }
    Ok(duration)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90"), Ok(time::Duration::seconds(90)));
        assert_eq!(parse_duration("30m"), Ok(time::Duration::minutes(30)));
        assert_eq!(parse_duration("7d"), Ok(time::Duration::days(7)));
        assert!(parse_duration("0").is_err());
        assert!(parse_duration("5y").is_err());
        assert!(parse_duration("h").is_err());
    }
}

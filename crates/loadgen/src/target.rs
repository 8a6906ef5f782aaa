//! The one host the load generator may talk to: 127.0.0.1.

use anyhow::{bail, ensure};
use reqwest::Url;

/// Parses `--base-url` and refuses anything but plain `http://127.0.0.1[:port][/]`.
/// Returns the base without a trailing slash, e.g. `http://127.0.0.1:8080`.
pub fn loopback_base_url(text: &str) -> anyhow::Result<String> {
    let url = Url::parse(text.trim())
        .map_err(|e| anyhow::anyhow!("--base-url {text:?} is not a URL: {e}"))?;
    ensure!(
        url.scheme() == "http",
        "--base-url must be http:// (got {:?})",
        url.scheme()
    );
    // The URL parser normalises IPv4 hosts (`127.1` is `127.0.0.1`), so one comparison does.
    match url.host_str() {
        Some("127.0.0.1") => {}
        other => bail!(
            "--base-url must point at 127.0.0.1 (the load generator talks to no other host), got {}",
            other.unwrap_or("no host")
        ),
    }
    ensure!(
        url.username().is_empty() && url.password().is_none(),
        "--base-url must not carry credentials"
    );
    ensure!(
        matches!(url.path(), "" | "/") && url.query().is_none() && url.fragment().is_none(),
        "--base-url must be only scheme, host and port (got path/query {:?})",
        url.path()
    );
    let port = url.port_or_known_default().unwrap_or(80);
    Ok(format!("http://127.0.0.1:{port}"))
}

#[cfg(test)]
mod tests {
    use super::loopback_base_url;

    #[test]
    fn accepts_loopback_only() {
        assert_eq!(
            loopback_base_url("http://127.0.0.1:8080").ok().as_deref(),
            Some("http://127.0.0.1:8080")
        );
        assert_eq!(
            loopback_base_url("http://127.0.0.1:18080/").ok().as_deref(),
            Some("http://127.0.0.1:18080")
        );
        assert_eq!(
            loopback_base_url("http://127.0.0.1").ok().as_deref(),
            Some("http://127.0.0.1:80")
        );
    }

    #[test]
    fn refuses_other_hosts_and_shapes() {
        for bad in [
            "http://localhost:8080",
            "http://127.0.0.2:8080",
            "http://10.0.0.1:8080",
            "http://example.com",
            "http://[::1]:8080",
            "https://127.0.0.1:8080",
            "http://user:pw@127.0.0.1:8080",
            "http://127.0.0.1:8080/v1",
            "http://127.0.0.1:8080/?x=1",
            "127.0.0.1:8080",
            "",
        ] {
            assert!(loopback_base_url(bad).is_err(), "{bad} was accepted");
        }
    }
}

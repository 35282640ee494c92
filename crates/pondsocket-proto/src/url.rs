//! Turning the endpoint a user gives into the WebSocket URL to open.
//!
//! `http` becomes `ws`, `https` becomes `wss`; a relative endpoint is resolved against a base (the page's location);
//! params are added to the query string, replacing a parameter of the same name and keeping the others.
//!
//! ```
//! use pondsocket_proto::url::resolve_endpoint;
//! let url = resolve_endpoint("/socket?v=2", &[("token", "a b")], Some("https://example.com/app/")).unwrap();
//! assert_eq!(url, "wss://example.com/socket?v=2&token=a%20b");
//! ```

use super::error::Error;

/// Builds the WebSocket URL for `endpoint` with `params` added to its query string.
///
/// # Errors
/// [`Error::InvalidUrl`] for a scheme other than ws, wss, http or https, a relative endpoint without a base, a
/// missing host, or characters a URL cannot hold. The message never repeats the query string (it may hold a token).
pub fn resolve_endpoint<K: AsRef<str>, V: AsRef<str>>(
    endpoint: &str,
    params: &[(K, V)],
    base: Option<&str>,
) -> Result<String, Error> {
    let endpoint = endpoint.trim();
    if endpoint.is_empty() {
        return Err(Error::InvalidUrl("the endpoint is empty".into()));
    }
    if endpoint.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::InvalidUrl(format!("\"{}\" contains white space or control characters", redact(endpoint))));
    }
    let absolute = match split_scheme(endpoint) {
        Some(_) => endpoint.to_owned(),
        None => {
            let base = base.ok_or_else(|| {
                Error::InvalidUrl(format!(
                    "\"{}\" has no scheme and there is no page location to resolve it against; use ws://, wss://, \
                     http:// or https://",
                    redact(endpoint)
                ))
            })?;
            resolve_relative(endpoint, base)?
        }
    };
    let (scheme, rest) = split_scheme(&absolute).ok_or_else(|| Error::InvalidUrl("unparsable URL".into()))?;
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        "ws" | "http" => "ws",
        "wss" | "https" => "wss",
        other => {
            return Err(Error::InvalidUrl(format!(
                "unsupported scheme \"{other}\": use ws://, wss://, http:// or https://"
            )))
        }
    };
    let rest = rest
        .strip_prefix("//")
        .ok_or_else(|| Error::InvalidUrl(format!("\"{}\" must have the form scheme://host/path", redact(&absolute))))?;
    // A WebSocket URL cannot carry a fragment.
    let rest = rest.split('#').next().unwrap_or("");
    let (before_query, query) = match rest.split_once('?') {
        Some((before, query)) => (before, Some(query)),
        None => (rest, None),
    };
    let (authority, path) = match before_query.find('/') {
        Some(slash) => before_query.split_at(slash),
        None => (before_query, "/"),
    };
    let host = authority.rsplit('@').next().unwrap_or("");
    if host.is_empty() || host.starts_with(':') {
        return Err(Error::InvalidUrl(format!("\"{}\" has no host", redact(&absolute))));
    }
    check_host_and_port(host).map_err(|problem| Error::InvalidUrl(format!("\"{}\" {problem}", redact(&absolute))))?;

    let replaced = |pair: &str| {
        let key = pair.split('=').next().unwrap_or("");
        params.iter().any(|(k, _)| encode_component(k.as_ref()) == key)
    };
    let mut pairs: Vec<String> = query
        .into_iter()
        .flat_map(|q| q.split('&'))
        .filter(|p| !p.is_empty() && !replaced(p))
        .map(str::to_owned)
        .collect();
    pairs.extend(
        params.iter().map(|(k, v)| format!("{}={}", encode_component(k.as_ref()), encode_component(v.as_ref()))),
    );

    let mut url = format!("{scheme}://{authority}{path}");
    if !pairs.is_empty() {
        url.push('?');
        url.push_str(&pairs.join("&"));
    }
    Ok(url)
}

/// Refuses what a browser's URL parser refuses in `host[:port]`, so that `new WebSocket` never throws (its message
/// would quote the whole URL, token included).
fn check_host_and_port(host_and_port: &str) -> Result<(), &'static str> {
    let (host, port) = if let Some(rest) = host_and_port.strip_prefix('[') {
        let (address, after) = rest.split_once(']').ok_or("has an unclosed `[` in its host")?;
        if address.is_empty() || !address.chars().all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.') {
            return Err("has an invalid IPv6 address");
        }
        match after {
            "" => return Ok(()),
            _ => (address, after.strip_prefix(':').ok_or("has characters after its IPv6 address")?),
        }
    } else {
        match host_and_port.rsplit_once(':') {
            Some((host, port)) => (host, port),
            None => (host_and_port, ""),
        }
    };
    let forbidden = |c: char| c.is_ascii_control() || " #%/<>?@[\\]^|".contains(c);
    if host.chars().any(forbidden) {
        return Err("has a character a host cannot contain");
    }
    if !port.is_empty()
        && (!port.bytes().all(|b| b.is_ascii_digit())
            || port.len() > 5
            || port.parse::<u32>().map_or(true, |p| p > 65_535))
    {
        return Err("has a port that is not a number from 0 to 65535");
    }
    Ok(())
}

/// Splits `scheme:rest` when the text starts with a valid scheme.
fn split_scheme(text: &str) -> Option<(&str, &str)> {
    let colon = text.find(':')?;
    let scheme = &text[..colon];
    let mut chars = scheme.chars();
    let valid =
        chars.next()?.is_ascii_alphabetic() && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then(|| (scheme, &text[colon + 1..]))
}

fn resolve_relative(endpoint: &str, base: &str) -> Result<String, Error> {
    let bad_base = || Error::InvalidUrl(format!("the base \"{}\" is not an absolute URL", redact(base)));
    let (scheme, rest) = split_scheme(base).ok_or_else(bad_base)?;
    let rest = rest.strip_prefix("//").ok_or_else(bad_base)?;
    let rest = rest.split(['?', '#']).next().unwrap_or("");
    let (authority, base_path) = match rest.find('/') {
        Some(slash) => rest.split_at(slash),
        None => (rest, "/"),
    };
    Ok(if let Some(network_path) = endpoint.strip_prefix("//") {
        format!("{scheme}://{network_path}")
    } else if endpoint.starts_with('/') {
        format!("{scheme}://{authority}{endpoint}")
    } else {
        let directory = &base_path[..base_path.rfind('/').map_or(0, |i| i + 1)];
        let directory = if directory.is_empty() { "/" } else { directory };
        format!("{scheme}://{authority}{}", normalize_dots(&format!("{directory}{endpoint}")))
    })
}

/// Removes `.` and `..` segments from a path (RFC 3986 section 5.2.4), leaving the query alone.
fn normalize_dots(path_and_query: &str) -> String {
    let (path, query) = match path_and_query.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (path_and_query, None),
    };
    let mut out: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path.split('/').collect();
    for (i, segment) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        match *segment {
            "." => {
                if last {
                    out.push("");
                }
            }
            ".." => {
                if out.len() > 1 {
                    out.pop();
                }
                if last {
                    out.push("");
                }
            }
            s => out.push(s),
        }
    }
    let mut result = out.join("/");
    if !result.starts_with('/') {
        result.insert(0, '/');
    }
    if let Some(query) = query {
        result.push('?');
        result.push_str(query);
    }
    result
}

/// Percent-encodes everything but the unreserved characters of RFC 3986.
fn encode_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The URL without its query string, for messages.
fn redact(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or("")
}

//! `pallimap` as a real process: the command, a served instance on a free port, and one
//! HTTP/1.1 request over a plain socket (the fault and instance tests kill and restart servers,
//! so they talk to them the way any client would).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command};

use serde_json::Value;

/// A running `pallimap serve`, killed when dropped.
pub struct Server {
    pub child: Child,
    pub addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// A started `serve` (stdout piped), once it has printed its address.
    pub fn started(mut child: Child) -> Server {
        let addr = listening_address(&mut child);
        Server { child, addr }
    }

    /// `kill -9` (Rust's `Child::kill` sends SIGKILL).
    pub fn kill9(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reap");
    }
}

/// The binary with a quiet log and none of the settings' environment variables.
pub fn pallimap() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_pallimap"));
    c.env("PALLIMAP_LOG", "warn")
        .env_remove("PALLIMAP_DATABASE_URL")
        .env_remove("PALLIMAP_BIND")
        .env_remove("PALLIMAP_DATA_DIR");
    c
}

/// The `host:port` a `serve` child (stdout piped) prints on its first line.
pub fn listening_address(child: &mut Child) -> String {
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("read the address");
    line.trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("no address: {line}"))
        .to_string()
}

/// One HTTP/1.1 request: status (0 when the connection failed), headers (lower-case names),
/// JSON body.
pub fn http(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> (u16, Vec<(String, String)>, Value) {
    let Ok(mut s) = TcpStream::connect(addr) else {
        return (0, Vec::new(), Value::Null);
    };
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if !body.is_empty() {
        req.push_str("Content-Type: application/json\r\n");
    }
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(&body);
    if s.write_all(req.as_bytes()).is_err() {
        return (0, Vec::new(), Value::Null);
    }
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let raw = String::from_utf8_lossy(&raw).to_string();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_string()))
        .collect();
    (
        status,
        headers,
        serde_json::from_str(body).unwrap_or(Value::Null),
    )
}

/// A response header's value ("" when absent).
pub fn header<'a>(h: &'a [(String, String)], name: &str) -> &'a str {
    h.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

//! The real binary: startup errors, first start on an empty database, idempotent `data load`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

fn pallimap() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_pallimap"));
    c.env("PALLIMAP_LOG", "warn")
        .env_remove("PALLIMAP_DATABASE_URL")
        .env_remove("PALLIMAP_BIND");
    c
}

fn startup_error(args: &[&str]) -> String {
    let out = pallimap().args(args).output().expect("run pallimap");
    assert!(!out.status.success(), "{args:?} must fail");
    let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    errors[0].to_string()
}

#[test]
fn unusable_databases_stop_the_start_with_one_line() {
    let e = startup_error(&[
        "serve",
        "--database-url",
        "sqlite:///proc/pallimap/x.sqlite3",
    ]);
    assert!(
        e.contains("cannot open database sqlite:///proc/pallimap/x.sqlite3"),
        "{e}"
    );
    let e = startup_error(&[
        "serve",
        "--database-url",
        "postgres://nobody@127.0.0.1:1/none",
    ]);
    assert!(
        e.contains("cannot open database postgres://nobody@127.0.0.1:1/none"),
        "{e}"
    );
    let e = startup_error(&["serve", "--bind", "not-an-address"]);
    assert!(e.contains("--bind"), "{e}");
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn http_get(addr: &str, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).expect("connect");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let status = raw
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = raw
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

#[test]
fn first_start_loads_the_dataset_and_data_load_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("var/p.sqlite3").display());
    let mut child = pallimap()
        .args(["serve", "--bind", "127.0.0.1:0", "--database-url", &url])
        .stdout(Stdio::piped())
        .spawn()
        .expect("start");
    let stdout = child.stdout.take().unwrap();
    let server = Server(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("{line}"))
        .to_string();
    let (status, body) = http_get(&addr, "/healthz");
    assert_eq!(status, 200, "{body}");
    let health: serde_json::Value = serde_json::from_str(&body).unwrap();
    let n = health["facilities"].as_u64().unwrap();
    assert!(n > 10_000);
    let (status, body) = http_get(&addr, "/api/v1/facilities?service=pcu&limit=1");
    assert_eq!(status, 200);
    assert!(body.contains("\"total\":20"), "{body}");
    drop(server);

    let out = pallimap()
        .args(["data", "load", "--database-url", &url])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("inserted 0, updated 0, unchanged {n}, kept 0 facts not from the dataset")
    );
}

/// Run `pallimap` with `stdin` as standard input: (success, stdout, stderr).
fn run_with_stdin(args: &[&str], stdin: &str) -> (bool, String, String) {
    let mut child = pallimap()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run pallimap");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).trim().to_string(),
        String::from_utf8_lossy(&out.stderr).trim().to_string(),
    )
}

#[test]
fn user_and_token_commands_refuse_bad_input_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("u.sqlite3").display());
    let ok = pallimap()
        .args(["data", "load", "--database-url", &url])
        .output()
        .unwrap();
    assert!(ok.status.success());
    let add = |extra: &[&str], password: &str| {
        let mut args = vec!["user", "add", "--database-url", &url];
        args.extend_from_slice(extra);
        run_with_stdin(&args, &format!("{password}\n"))
    };
    let one_error = |(ok, _, err): (bool, String, String), needle: &str| {
        assert!(!ok, "{err}");
        let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
        assert_eq!(lines.len(), 1, "{err}");
        assert!(lines[0].contains(needle), "{err}");
    };
    one_error(
        add(
            &["--email", "a@example.jp", "--role", "professional"],
            "short",
        ),
        "at least 12 characters",
    );
    one_error(
        add(
            &["--email", "a@example.jp", "--role", "root"],
            "a long enough passphrase",
        ),
        "unknown role `root`",
    );
    one_error(
        add(
            &[
                "--email",
                "a@example.jp",
                "--role",
                "coordinator",
                "--area",
                "9999",
            ],
            "a long enough passphrase",
        ),
        "unknown area `9999`",
    );
    one_error(
        add(
            &[
                "--email",
                "a@example.jp",
                "--role",
                "facility_editor",
                "--facility",
                "navii-0000000000000",
            ],
            "a long enough passphrase",
        ),
        "unknown facility `navii-0000000000000`",
    );
    let (ok, out, err) = add(
        &[
            "--email",
            "Coord@Example.jp",
            "--role",
            "coordinator",
            "--area",
            "1104",
        ],
        "a long enough passphrase",
    );
    assert!(ok, "{err}");
    assert_eq!(out, "added coord@example.jp (coordinator)");
    one_error(
        add(
            &["--email", "coord@example.jp", "--role", "professional"],
            "a long enough passphrase",
        ),
        "exists",
    );
    let (ok, out, _) = run_with_stdin(&["user", "list", "--database-url", &url], "");
    assert!(ok);
    assert_eq!(out, "coord@example.jp\tcoordinator\t1104");
    let (ok, token, _) = run_with_stdin(
        &[
            "token",
            "create",
            "--email",
            "coord@example.jp",
            "--database-url",
            &url,
        ],
        "",
    );
    assert!(ok);
    assert_eq!(token.len(), 43, "{token}");
    let (ok, out, _) = run_with_stdin(
        &[
            "token",
            "revoke",
            "--email",
            "coord@example.jp",
            "--database-url",
            &url,
        ],
        "",
    );
    assert!(ok);
    assert_eq!(out, "revoked 1 token(s) of coord@example.jp");
    let (ok, out, _) = run_with_stdin(
        &[
            "user",
            "disable",
            "--email",
            "coord@example.jp",
            "--database-url",
            &url,
        ],
        "",
    );
    assert!(ok);
    assert_eq!(out, "disabled coord@example.jp");
    one_error(
        run_with_stdin(
            &[
                "token",
                "create",
                "--email",
                "coord@example.jp",
                "--database-url",
                &url,
            ],
            "",
        ),
        "disabled",
    );
}

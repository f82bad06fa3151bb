//! The map front end end-to-end: the real binary serves web/dist on the default dataset and the
//! browser tests in web/ (playwright-core + Debian's chromium) drive it.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

#[test]
fn the_map_front_end_works_in_headless_chromium() {
    let missing: Vec<&str> = [
        (
            "web/dist/index.html",
            "web/dist (run `npm ci && npm run build` in web/)",
        ),
        ("web/node_modules/playwright-core", "web/node_modules"),
        ("/usr/bin/chromium", "Debian's chromium"),
    ]
    .iter()
    .filter(|(p, _)| !Path::new(p).exists())
    .map(|(_, what)| *what)
    .collect();
    if !missing.is_empty() {
        let what = missing.join(", ");
        // On CI a missing part means the front end went untested: fail, naming it.
        let on_ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
        assert!(
            !on_ci,
            "CI=true but the front-end end-to-end tests cannot run: missing {what}"
        );
        eprintln!("SKIPPED: front-end end-to-end tests: missing {what}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("e2e.sqlite3").display());
    let mut child = Command::new(env!("CARGO_BIN_EXE_pallimap"))
        .args([
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--database-url",
            &url,
            "--web-dir",
            "web/dist",
        ])
        .env("PALLIMAP_LOG", "warn")
        .env("PALLIMAP_TILE_URL", "http://127.0.0.1:9/{z}/{x}/{y}.png")
        .stdout(Stdio::piped())
        .spawn()
        .expect("start pallimap");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_default()
        .to_string();
    let status = Command::new("npm")
        .args(["test"])
        .current_dir("web")
        .env("PALLIMAP_E2E_URL", &base)
        .status();
    let _ = child.kill();
    let _ = child.wait();
    let status = status.expect("run npm test");
    assert!(
        status.success(),
        "web end-to-end tests failed against {base}"
    );
}

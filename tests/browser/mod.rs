//! The map front end end-to-end: the real binary serves web/dist on the default dataset (with the
//! sample capacities and admission rules of data/sample/) and the browser tests in web/
//! (playwright-core + Debian's chromium) drive it, signed in too: the accounts are made with
//! `pallimap user add` and facility update links (a ward's, a pharmacy's) with `pallimap link
//! create` on the same database first.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};

/// The password of every e2e account (the CLI wants at least 12 characters).
const E2E_PASSWORD: &str = "e2e-password-0123";
/// A real clinic of area 1104 (さいたま) in data/, the facility editor's own.
const EDITOR_FACILITY: &str = "hic-1110104851";
/// A backup hospital in 春日部市 that accepts in the sample data: its ward nurse gets the update link.
const LINK_FACILITY: &str = "navii-1111103067400";
/// A real pharmacy of area 1104 (くすのき薬局, さいたま市大宮区) with no answer in
/// data/sample/surveys.json: its pharmacist answers the survey through a one-time link.
const PHARMACY_FACILITY: &str = "navii-1151100037304";

/// Run `pallimap` with `args` on `url`, `stdin` on standard input; panic naming the failure.
/// Returns what it printed.
fn pallimap_cli(url: &str, args: &[&str], stdin: &str) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pallimap"))
        .args(args)
        .args(["--database-url", url])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start pallimap");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "pallimap {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A one-time update link for `facility`, made as a coordinator would from the command line;
/// the server's address is not known yet, so the test puts the token on its own origin.
fn update_link(url: &str, facility: &str) -> String {
    let printed = pallimap_cli(
        url,
        &[
            "link",
            "create",
            "--facility",
            facility,
            "--base-url",
            "http://e2e.invalid",
        ],
        "",
    );
    printed
        .split_whitespace()
        .find(|w| w.contains("/update.html#"))
        .unwrap_or_else(|| panic!("pallimap link create printed no update link: {printed}"))
        .to_string()
}

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
    // The accounts the browser tests sign in with, made as an operator would: the dataset first
    // (so the CLI knows the areas and facilities), then `pallimap user add`.
    pallimap_cli(&url, &["data", "load"], "");
    let accounts = [
        ("professional@e2e.example.jp", "professional", vec![]),
        (
            "coordinator@e2e.example.jp",
            "coordinator",
            // さいたま for the desk and the edits, 北部 for the 熊谷市 salon and the calendar.
            vec!["--area", "1104", "--area", "1109"],
        ),
        (
            "editor@e2e.example.jp",
            "facility_editor",
            vec!["--facility", EDITOR_FACILITY],
        ),
    ];
    for (email, role, extra) in &accounts {
        let mut args = vec!["user", "add", "--email", email, "--role", role];
        args.extend(extra);
        pallimap_cli(&url, &args, &format!("{E2E_PASSWORD}\n"));
    }
    // The ward's and the pharmacy's one-time update links.
    let ward_link = update_link(&url, LINK_FACILITY);
    let pharmacy_link = update_link(&url, PHARMACY_FACILITY);
    let mut child = Command::new(env!("CARGO_BIN_EXE_pallimap"))
        .args([
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--database-url",
            &url,
            "--web-dir",
            "web/dist",
            "--with-sample",
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
        .env("PALLIMAP_E2E_PROFESSIONAL", accounts[0].0)
        .env("PALLIMAP_E2E_COORDINATOR", accounts[1].0)
        .env("PALLIMAP_E2E_EDITOR", accounts[2].0)
        .env("PALLIMAP_E2E_PASSWORD", E2E_PASSWORD)
        .env("PALLIMAP_E2E_EDITOR_FACILITY", EDITOR_FACILITY)
        .env("PALLIMAP_E2E_UPDATE_LINK", &ward_link)
        .env("PALLIMAP_E2E_LINK_FACILITY", LINK_FACILITY)
        .env("PALLIMAP_E2E_PHARMACY_LINK", &pharmacy_link)
        .env("PALLIMAP_E2E_PHARMACY_FACILITY", PHARMACY_FACILITY)
        .status();
    let _ = child.kill();
    let _ = child.wait();
    let status = status.expect("run npm test");
    assert!(
        status.success(),
        "web end-to-end tests failed against {base}"
    );
}

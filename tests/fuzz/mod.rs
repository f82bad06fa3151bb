//! The fuzz harnesses of `pallimap::fuzzing` on stable Rust, for a fixed budget each: every
//! seed of `fuzz/corpus/<target>/`, then inputs mutated from them (bit flips, interesting
//! bytes, the target's dictionary `fuzz/dicts/<target>.dict`, cuts, repeats, splices).
//!
//! A panic fails the test, and so does one input taking more than [`MAX_INPUT`]: that is a
//! hang detector (the libFuzzer recipe's `-timeout=1`), not a speed assertion. The failing
//! input is printed and written to `target/fuzz-failures/`; add it to the corpus once fixed.
//! `PALLIMAP_FUZZ_SECONDS` sets the budget per target (default 20), `PALLIMAP_FUZZ_SEED` the
//! mutation seed (default fixed, so a run is repeatable up to its budget).
//! The longer, coverage-guided recipe is `scripts/fuzz.sh` (cargo-fuzz on nightly).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Longest time one input may take.
const MAX_INPUT: Duration = Duration::from_secs(1);
/// Longest mutated input (libFuzzer's default `-max_len` is 4096 too) …
const MAX_LEN: usize = 4096;
/// … except for imports, whose XLSX seeds are zips of several kilobytes (`scripts/fuzz.sh`
/// passes the same `-max_len`).
const MAX_IMPORT_LEN: usize = 65536;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// The files of `fuzz/corpus/<target>/`, sorted by name.
fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = root().join("corpus").join(target);
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("a corpus entry").path())
        .filter(|p| p.is_file())
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| std::fs::read(p).expect("a corpus file"))
        .collect()
}

/// The tokens of a libFuzzer dictionary: `"…"` per line, `\\`, `\"` and `\xNN` escapes.
fn dictionary(target: &str) -> Vec<Vec<u8>> {
    let path = root().join("dicts").join(format!("{target}.dict"));
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some(body) = line.find('"').and_then(|i| line[i + 1..].strip_suffix('"')) else {
            panic!("{}: a line without a quoted token: {line}", path.display());
        };
        let b = body.as_bytes();
        let mut token = Vec::new();
        let mut i = 0;
        while i < b.len() {
            match (b[i], b.get(i + 1)) {
                (b'\\', Some(b'x')) => {
                    let hex = std::str::from_utf8(&b[i + 2..i + 4]).expect("hex");
                    token.push(u8::from_str_radix(hex, 16).expect("a \\xNN escape"));
                    i += 4;
                }
                (b'\\', Some(&c)) => {
                    token.push(c);
                    i += 2;
                }
                (c, _) => {
                    token.push(c);
                    i += 1;
                }
            }
        }
        out.push(token);
    }
    out
}

/// xorshift64*: small, seedable, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const INTERESTING: &[u8] =
    b"\0\x01\x7f\x80\xbf\xc0\xe3\xef\xff%&=,;:\"'\\\n\r\t +-.0123456789{}[]()";

/// Non-ASCII characters worth inserting: Japanese text, look-alikes, combining and ignorable
/// characters, a surrogate-range replacement and a character outside the BMP.
const CHARS: &[char] = &[
    'あ',
    'ア',
    'ｱ',
    '亜',
    '丁',
    '目',
    '番',
    '号',
    '〒',
    'ー',
    '－',
    '‐',
    '−',
    '０',
    '９',
    '十',
    '百',
    '千',
    'ヶ',
    'ケ',
    'の',
    'ノ',
    '々',
    '\u{3000}',
    '\u{200b}',
    '\u{fe00}',
    '\u{e0100}',
    '\u{3099}',
    '\u{309a}',
    '\u{fffd}',
    '\u{feff}',
    '𠮷',
    '髙',
    '﨑',
    'Å',
    'ß',
    'İ',
    '㍻',
    '①',
    '（',
    '）',
    '【',
    '】',
];

fn mutate(rng: &mut Rng, input: &mut Vec<u8>, pool: &[Vec<u8>], dict: &[Vec<u8>], max_len: usize) {
    for _ in 0..1 + rng.below(4) {
        let len = input.len();
        let at = rng.below(len + 1);
        match rng.below(8) {
            0 if len > 0 => {
                let i = rng.below(len);
                input[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                input[i] = INTERESTING[rng.below(INTERESTING.len())];
            }
            2 if !dict.is_empty() => {
                let t = &dict[rng.below(dict.len())];
                input.splice(at..at, t.iter().copied());
            }
            3 => {
                let mut buf = [0; 4];
                let c = CHARS[rng.below(CHARS.len())].encode_utf8(&mut buf);
                input.splice(at..at, c.bytes());
            }
            4 if len > 0 => {
                let end = (at + 1 + rng.below(16)).min(len);
                input.drain(at.min(end)..end);
            }
            5 if len > 0 => {
                // Repeat a piece: long runs, deep nesting, many parameters.
                let from = rng.below(len);
                let end = (from + 1 + rng.below(32)).min(len);
                let piece = input[from..end].to_vec();
                for _ in 0..1 + rng.below(8) {
                    input.splice(at..at, piece.iter().copied());
                }
            }
            6 if !pool.is_empty() => {
                let other = &pool[rng.below(pool.len())];
                let from = rng.below(other.len() + 1);
                let end = (from + rng.below(64)).min(other.len());
                input.splice(at..at, other[from..end].iter().copied());
            }
            _ => {
                let b = (rng.next() & 0xff) as u8;
                input.insert(at, b);
            }
        }
    }
    input.truncate(max_len);
}

/// A structural mutation of a JSON document (the survey form): one value somewhere in it
/// replaced by another type, an edge number or a long text, a key dropped or added (a
/// dictionary token as name), or an array element repeated past the limits. `None` when `input`
/// is not JSON (then the byte mutations apply).
fn mutate_json(rng: &mut Rng, input: &[u8], dict: &[Vec<u8>]) -> Option<Vec<u8>> {
    use serde_json::{Value, json};
    let mut doc: Value = serde_json::from_slice(input).ok()?;
    // Pick a random path (as a JSON pointer), then change the value there.
    let mut pointer = String::new();
    let mut at = &doc;
    for _ in 0..rng.below(6) {
        let (step, next) = match at {
            Value::Object(m) if !m.is_empty() => {
                let Some((k, v)) = m.iter().nth(rng.below(m.len())) else {
                    break;
                };
                (k.replace('~', "~0").replace('/', "~1"), v)
            }
            Value::Array(a) if !a.is_empty() => {
                let i = rng.below(a.len());
                (i.to_string(), &a[i])
            }
            _ => break,
        };
        pointer.push('/');
        pointer.push_str(&step);
        at = next;
    }
    let node = doc.pointer_mut(&pointer)?;
    let word = match dict.len() {
        0 => "あ".to_string(),
        n => String::from_utf8_lossy(&dict[rng.below(n)])
            .trim_matches('"')
            .to_string(),
    };
    match (rng.below(10), &mut *node) {
        (0, Value::Object(m)) if !m.is_empty() => {
            let k = m
                .keys()
                .nth(rng.below(m.len()))
                .cloned()
                .unwrap_or_default();
            m.remove(&k);
        }
        (1, Value::Object(m)) => {
            m.insert(word, json!(true));
        }
        (2, Value::Array(a)) if !a.is_empty() => {
            let e = a[rng.below(a.len())].clone();
            for _ in 0..1 + rng.below(80) {
                a.push(e.clone());
            }
        }
        (3, _) => *node = Value::Null,
        (4, _) => *node = json!(rng.below(2) == 0),
        (5, _) => {
            let edges = [
                0.0,
                -1.0,
                0.5,
                1e308,
                -1e308,
                9007199254740993.0,
                100.0,
                101.0,
            ];
            *node = json!(edges[rng.below(edges.len())]);
        }
        (6, _) => *node = json!(u64::MAX),
        (7, _) => *node = json!(word.repeat(1 + rng.below(300))),
        (8, _) => *node = json!([]),
        _ => *node = json!({}),
    }
    serde_json::to_vec(&doc).ok()
}

/// `data` as a Rust byte string literal, to paste into a regression test.
fn escaped(data: &[u8]) -> String {
    data.escape_ascii().to_string()
}

/// Run `body` on `data`: a panic or an input over [`MAX_INPUT`] is a failure, reported with
/// the input (and saved under `target/fuzz-failures/`).
fn check(target: &str, body: fn(&[u8]), data: &[u8]) {
    let t = Instant::now();
    let outcome = catch_unwind(AssertUnwindSafe(|| body(data)));
    let took = t.elapsed();
    let problem = match outcome {
        Err(e) => Some(format!(
            "panicked: {}",
            e.downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| e.downcast_ref::<&str>().copied())
                .unwrap_or("(no message)")
        )),
        Ok(()) if took > MAX_INPUT => Some(format!("took {took:?} (more than {MAX_INPUT:?})")),
        Ok(()) => None,
    };
    if let Some(problem) = problem {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/fuzz-failures");
        let _ = std::fs::create_dir_all(&dir);
        let file = dir.join(format!("{target}-{:016x}", fnv(data)));
        let _ = std::fs::write(&file, data);
        panic!(
            "fuzz target `{target}` {problem}\ninput ({} bytes, saved as {}): b\"{}\"",
            data.len(),
            file.display(),
            escaped(data)
        );
    }
}

fn fnv(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ *b as u64).wrapping_mul(0x100_0000_01b3)
    })
}

fn budget() -> Duration {
    let secs = std::env::var("PALLIMAP_FUZZ_SECONDS")
        .ok()
        .map(|v| {
            v.parse::<u64>()
                .expect("PALLIMAP_FUZZ_SECONDS is whole seconds")
        })
        .unwrap_or(20);
    Duration::from_secs(secs)
}

/// Every seed, then mutations until the budget is spent; returns how many inputs ran.
fn run(target: &str) -> usize {
    let body = pallimap::fuzzing::TARGETS
        .iter()
        .find(|(name, _)| *name == target)
        .map(|(_, body)| *body)
        .expect("a target of pallimap::fuzzing");
    pallimap::fuzzing::warm_up();
    let seeds = corpus(target);
    assert!(!seeds.is_empty(), "fuzz/corpus/{target}/ has no seeds");
    let dict = dictionary(target);
    for s in &seeds {
        check(target, body, s);
    }
    let seed = std::env::var("PALLIMAP_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x005e_ed0f_da7a);
    let mut rng = Rng(seed | 1);
    let mut pool = seeds.clone();
    let deadline = Instant::now() + budget();
    let max_len = if target == "import" {
        MAX_IMPORT_LEN
    } else {
        MAX_LEN
    };
    let mut n = seeds.len();
    while Instant::now() < deadline {
        let mut input = pool[rng.below(pool.len())].clone();
        match (target, rng.below(2)) {
            ("survey", 0) => match mutate_json(&mut rng, &input, &dict) {
                Some(m) => input = m,
                None => mutate(&mut rng, &mut input, &pool, &dict, max_len),
            },
            _ => mutate(&mut rng, &mut input, &pool, &dict, max_len),
        }
        check(target, body, &input);
        n += 1;
        // Keep some mutants as parents (a random walk away from the seeds), bounded.
        if rng.below(8) == 0 {
            if pool.len() < 512 {
                pool.push(input);
            } else {
                let i = seeds.len() + rng.below(pool.len() - seeds.len());
                pool[i] = input;
            }
        }
    }
    eprintln!("fuzz {target}: {n} inputs in {:?}, 0 failures", budget());
    n
}

#[test]
fn address() {
    assert!(run("address") > 0);
}

#[test]
fn query() {
    assert!(run("query") > 0);
}

#[test]
fn text() {
    assert!(run("text") > 0);
}

#[test]
fn import() {
    assert!(run("import") > 0);
}

#[test]
fn survey() {
    assert!(run("survey") > 0);
}

#[test]
fn every_target_has_a_seed_corpus_and_a_cargo_fuzz_target() {
    for (name, _) in pallimap::fuzzing::TARGETS {
        assert!(!corpus(name).is_empty(), "fuzz/corpus/{name}/ is empty");
        let bin = root().join("fuzz_targets").join(format!("{name}.rs"));
        assert!(bin.is_file(), "{} is missing", bin.display());
    }
}

#[test]
fn mutations_stay_bounded_and_repeatable() {
    let pool = vec![b"q=a".to_vec()];
    let dict = vec![b"&near=".to_vec()];
    let run = |seed| {
        let mut rng = Rng(seed);
        let mut input = pool[0].clone();
        for _ in 0..2000 {
            mutate(&mut rng, &mut input, &pool, &dict, MAX_LEN);
        }
        input
    };
    let a = run(7);
    assert_eq!(a, run(7));
    assert!(a.len() <= MAX_LEN);
}

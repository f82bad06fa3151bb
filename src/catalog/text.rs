//! Japanese-aware full-text search over facility documents.
//!
//! A self-contained tantivy index (its files mapped from a private scratch directory, or kept
//! in memory when small; [`saved`] keeps a built one for a later start). It knows nothing of
//! the rest of the application: callers hand in [`TextDoc`]s numbered by their own `ord` and
//! get back `(ord, score)` pairs.
//!
//! # Analysis
//!
//! Every text is first passed through [`normalize`], the `Index` profile of [`crate::domain::ja`]:
//! NFKC (full-width ASCII becomes half-width, half-width katakana becomes full-width),
//! lower-casing, katakana → hiragana folding (the prolonged sound mark ー is kept), small/large ke
//! folding (ヶ, ヵ, ケ → け, so 霞ヶ関 = 霞ケ関; が is *not* folded) and the common old/variant
//! kanji → their current forms (醫 → 医 …; 嶋 and 龍 stay, as they are distinct in names).
//!
//! The normalized text is cut into *units*: a run of ASCII letters/digits is one unit, every
//! other letter/digit (kanji, kana, ー, 々, …) is one unit, and a run of whitespace/punctuation
//! (anything that is not `char::is_alphanumeric`) is one *break* unit. Units are numbered
//! consecutively; that number is the token position. Two tokenizers are registered:
//!
//! * `ja_bigram` (indexed with positions, used for phrases): an ASCII run is one token; inside a
//!   run of non-ASCII letters every character pair is a bigram token at the position of its first
//!   character; the first and last character of each such run are also emitted as unigrams (so an
//!   isolated character is a unigram, and words that mix ASCII and kanji such as `x線` or `第2`
//!   can be matched as phrases); each break between units is a marker token (a single space,
//!   which no real token can contain). Because a break occupies a position, a phrase can never
//!   match across it unless the query has a break at the same place.
//! * `ja_unigram` (frequencies only): every non-ASCII letter as a unigram; used for one-character
//!   queries such as `薬` or `歯`.
//! * `ja_bigram_name` / `ja_unigram_name`, for the name and the reading: the same, except that
//!   whitespace between two Japanese characters is no break at all (spaces inside a Japanese
//!   name carry no meaning: `国立病院機構　埼玉病院` is found by `国立病院機構埼玉病院`);
//!   punctuation and spaces between Latin words still break.
//!
//! # Queries
//!
//! A query is never parsed as tantivy query syntax. It is normalized and split on whitespace into
//! words; the words are ANDed. Each word becomes the phrase of its own tokens (consecutive
//! bigrams, ASCII runs and inner break markers, with their exact relative positions), searched in
//! every field with boosts name 3, kana 1.5, services 1.5, address 1, notes 0.5 (scores of the
//! fields add up). A word of a single non-ASCII character is searched in the unigram fields. A
//! word that yields no token at all (only punctuation, emoji …) is dropped; a query whose words
//! are all dropped matches nothing. Each word is expanded by [`synonyms`] into an OR of phrases.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::Column;
use tantivy::query::{
    BooleanQuery, BoostQuery, ConstScoreQuery, Occur, PhraseQuery, Query, TermQuery,
};
use tantivy::schema::{
    Field, IndexRecordOption, NumericOptions, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};
use tantivy::{DocId, Index, IndexReader, ReloadPolicy, Score, SegmentReader, TantivyDocument};
use tantivy::{IndexWriter, Term};

use crate::domain::ja;

mod saved;

/// One facility as the text index sees it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TextDoc {
    /// The caller's document number, returned by [`TextIndex::search`].
    pub ord: u32,
    pub name: String,
    /// Reading of the name (katakana or hiragana).
    pub kana: String,
    /// Service labels, Japanese and English, joined by spaces.
    pub services: String,
    pub address: String,
    pub notes: String,
    /// Exact tags (`svc:pcu`, `kind:pharmacy`, `muni:11208`, `postal:3300072`, `tel:…`);
    /// not text. Only public facts may be tags.
    pub tags: Vec<String>,
}

/// One word of a query as the catalog understood it; the clauses of a query are ANDed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Clause {
    /// A word matched as a phrase in every text field (with synonyms); `None`: tags only.
    pub word: Option<String>,
    /// Exact tags; a document carrying any of them scores [`TAG_SCORE`] for this clause.
    pub tags: Vec<String>,
    /// The word names a place: a document whose address contains it scores [`PLACE_SCORE`],
    /// above one that merely mentions it in its name.
    pub place: bool,
    /// A place that must be the address (a service asked for in a place: 「往診 所沢」), not
    /// a word of the name.
    pub address_only: bool,
}

/// Score of a clause met by a tag (a service offered, a public phone number, a postal code).
pub const TAG_SCORE: Score = 30.0;
/// Score of a place word met by the address (or the municipality): above any mention of the
/// word in a name (BM25 of a name phrase stays well under it).
pub const PLACE_SCORE: Score = 1000.0;

#[derive(Debug, thiserror::Error)]
pub enum TextError {
    #[error("the search query is empty")]
    EmptyQuery,
    #[error("text index error: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    #[error("cannot make the text index's directory in {dir}: {source}")]
    Files { dir: String, source: std::io::Error },
    #[error("cannot read or write the saved text index in {dir}: {source}")]
    Saved { dir: String, source: std::io::Error },
}

/// Name of the phrase (bigram) tokenizer registered on the index.
pub const BIGRAM_TOKENIZER: &str = "ja_bigram";
/// Name of the unigram tokenizer registered on the index.
pub const UNIGRAM_TOKENIZER: &str = "ja_unigram";
/// The phrase tokenizer of names and readings: spaces between two Japanese characters are
/// dropped (国立病院機構　埼玉病院 is 国立病院機構埼玉病院); punctuation still breaks.
pub const NAME_BIGRAM_TOKENIZER: &str = "ja_bigram_name";
/// The unigram tokenizer of names and readings.
pub const NAME_UNIGRAM_TOKENIZER: &str = "ja_unigram_name";

/// Token text standing for a break (whitespace/punctuation run) between two units.
const BREAK_MARK: &str = " ";

const ORD_FIELD: &str = "ord";

/// The text fields with their query boosts, in [`TextDoc`] order.
const TEXT_FIELDS: [(&str, Score); 5] = [
    ("name", 3.0),
    ("kana", 1.5),
    ("services", 1.5),
    ("address", 1.0),
    ("notes", 0.5),
];

/// Index of the address in [`TEXT_FIELDS`].
const ADDRESS_FIELD: usize = 3;
/// The fields whose spaces between Japanese characters carry no meaning (name and reading).
const NAME_FIELDS: usize = 2;

/// Memory budget of the index writer (shared by its two threads).
const WRITER_BUDGET: usize = 200 * 1024 * 1024;

/// Memory budget of the writer of an incremental update (tantivy's minimum is 15 MB).
const UPDATE_BUDGET: usize = 15 * 1024 * 1024;

/// The query of one word's terms in one field: a unigram, a single bigram, or a phrase.
fn terms_query(pair: FieldPair, terms: &WordTerms) -> Box<dyn Query> {
    match terms {
        WordTerms::Unigram(c) => Box::new(TermQuery::new(
            Term::from_field_text(pair.unigram, c),
            IndexRecordOption::WithFreqs,
        )),
        WordTerms::Phrase(terms) if terms.len() == 1 => Box::new(TermQuery::new(
            Term::from_field_text(pair.phrase, &terms[0].1),
            IndexRecordOption::WithFreqs,
        )),
        WordTerms::Phrase(terms) => Box::new(PhraseQuery::new_with_offset(
            terms
                .iter()
                .map(|(pos, t)| (*pos, Term::from_field_text(pair.phrase, t)))
                .collect(),
        )),
    }
}

fn tantivy_doc(ord: Field, tag: Field, fields: &[FieldPair; 5], d: &TextDoc) -> TantivyDocument {
    let mut doc = TantivyDocument::new();
    doc.add_u64(ord, u64::from(d.ord));
    for t in &d.tags {
        doc.add_text(tag, t);
    }
    let texts = [&d.name, &d.kana, &d.services, &d.address, &d.notes];
    for (pair, text) in fields.iter().zip(texts) {
        if !text.is_empty() {
            doc.add_text(pair.phrase, text);
            doc.add_text(pair.unigram, text);
        }
    }
    doc
}

// ---------------------------------------------------------------------------------------------
// Normalization
// ---------------------------------------------------------------------------------------------

/// The analysis normalizer, [`ja::Profile::Index`]: NFKC, lower case, katakana → hiragana (ー
/// kept), ヶ/ヵ/ケ → け, common old/variant kanji → current forms (嶋, 龍 are kept), variation
/// selectors and zero-width characters dropped, whitespace kept. Idempotent; used for documents,
/// queries and synonym keys alike.
pub fn normalize(s: &str) -> String {
    ja::fold(s, ja::Profile::Index)
}

fn normalize_into(s: &str, out: &mut String) {
    ja::fold_into(s, ja::Profile::Index, out);
}

// ---------------------------------------------------------------------------------------------
// Segmentation into units
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A maximal run of ASCII letters and digits.
    Ascii,
    /// One other letter or digit (kanji, kana, ー, 々, Latin with diacritics, …).
    Char,
    /// A maximal run of whitespace, punctuation, symbols, emoji …
    Break,
}

/// One unit of normalized text; `from..to` is its byte range. Its index in the unit list is the
/// token position.
#[derive(Debug, Clone, Copy)]
struct Unit {
    kind: Kind,
    from: usize,
    to: usize,
}

fn kind_of(c: char) -> Kind {
    if c.is_ascii_alphanumeric() {
        Kind::Ascii
    } else if c.is_alphanumeric() {
        Kind::Char
    } else {
        Kind::Break
    }
}

/// Cuts normalized text into units; leading and trailing breaks are dropped.
fn units_into(text: &str, out: &mut Vec<Unit>) {
    out.clear();
    for (from, c) in text.char_indices() {
        let kind = kind_of(c);
        let to = from + c.len_utf8();
        match out.last_mut() {
            None if kind == Kind::Break => {}
            Some(last) if kind != Kind::Char && last.kind == kind => last.to = to,
            _ => out.push(Unit { kind, from, to }),
        }
    }
    if out.last().is_some_and(|u| u.kind == Kind::Break) {
        out.pop();
    }
}

/// Drops breaks that are only whitespace between two non-ASCII letters (names: spaces inside
/// a Japanese name carry no meaning; between Latin words they still separate).
fn join_spaces(text: &str, units: &mut Vec<Unit>) {
    let mut i = 1;
    while i + 1 < units.len() {
        let (prev, u, next) = (units[i - 1], units[i], units[i + 1]);
        if u.kind == Kind::Break
            && prev.kind == Kind::Char
            && next.kind == Kind::Char
            && text[u.from..u.to].chars().all(char::is_whitespace)
        {
            units.remove(i);
        } else {
            i += 1;
        }
    }
}

/// End (exclusive) of the run of `Char` units starting at `start`.
fn char_run_end(units: &[Unit], start: usize) -> usize {
    units[start..]
        .iter()
        .position(|u| u.kind != Kind::Char)
        .map_or(units.len(), |n| start + n)
}

// ---------------------------------------------------------------------------------------------
// Tokenizers
// ---------------------------------------------------------------------------------------------

/// The analysis tokenizer; normalizes its input itself. Registered as [`BIGRAM_TOKENIZER`]
/// (`unigrams == false`) and [`UNIGRAM_TOKENIZER`] (`unigrams == true`).
#[derive(Debug, Clone)]
pub struct JaTokenizer {
    unigrams: bool,
    /// Names: whitespace between Japanese characters is no break ([`join_spaces`]).
    names: bool,
    normalized: String,
    units: Vec<Unit>,
    tokens: Vec<Token>,
    len: usize,
}

impl JaTokenizer {
    /// The phrase tokenizer: ASCII runs, bigrams, run-edge unigrams, break markers.
    pub fn bigram() -> Self {
        Self::new(false)
    }

    /// Every non-ASCII letter as a unigram.
    pub fn unigram() -> Self {
        Self::new(true)
    }

    /// The tokenizer of names and readings: as [`JaTokenizer::bigram`] (or `unigram`), with
    /// whitespace between Japanese characters dropped.
    pub fn for_names(unigrams: bool) -> Self {
        JaTokenizer {
            names: true,
            ..Self::new(unigrams)
        }
    }

    fn new(unigrams: bool) -> Self {
        JaTokenizer {
            unigrams,
            names: false,
            normalized: String::new(),
            units: Vec::new(),
            tokens: Vec::new(),
            len: 0,
        }
    }

    /// Appends a token, reusing the allocation of an earlier one. Offsets are byte offsets into
    /// the *normalized* text (nothing here highlights, so they are informational only).
    fn push(&mut self, from: usize, to: usize, position: usize, text: &str) {
        if self.len == self.tokens.len() {
            self.tokens.push(Token::default());
        }
        let token = &mut self.tokens[self.len];
        token.offset_from = from;
        token.offset_to = to;
        token.position = position;
        token.position_length = 1;
        token.text.clear();
        token.text.push_str(text);
        self.len += 1;
    }

    /// The tokens of `text` as (byte range in the normalized text, position), for checks
    /// outside the catalog, which does not hand out tantivy types (the fuzzing harness).
    pub fn spans(&mut self, text: &str) -> Vec<(usize, usize, usize)> {
        self.analyze(text);
        self.tokens[..self.len]
            .iter()
            .map(|t| (t.offset_from, t.offset_to, t.position))
            .collect()
    }

    fn analyze(&mut self, text: &str) {
        self.len = 0;
        let mut normalized = std::mem::take(&mut self.normalized);
        let mut units = std::mem::take(&mut self.units);
        normalize_into(text, &mut normalized);
        units_into(&normalized, &mut units);
        if self.names {
            join_spaces(&normalized, &mut units);
        }
        let s = normalized.as_str();
        if self.unigrams {
            for (pos, u) in units.iter().enumerate() {
                if u.kind == Kind::Char {
                    self.push(u.from, u.to, pos, &s[u.from..u.to]);
                }
            }
        } else {
            let mut i = 0;
            while i < units.len() {
                let u = units[i];
                match u.kind {
                    Kind::Ascii => self.push(u.from, u.to, i, &s[u.from..u.to]),
                    Kind::Break => self.push(u.from, u.to, i, BREAK_MARK),
                    Kind::Char => {
                        let end = char_run_end(&units, i);
                        for k in i..end {
                            let (a, b) = (units[k], units.get(k + 1));
                            if k == i || k + 1 == end {
                                self.push(a.from, a.to, k, &s[a.from..a.to]);
                            }
                            if k + 1 < end {
                                let b = b.expect("k + 1 < end <= units.len()");
                                self.push(a.from, b.to, k, &s[a.from..b.to]);
                            }
                        }
                        i = end;
                        continue;
                    }
                }
                i += 1;
            }
        }
        self.normalized = normalized;
        self.units = units;
    }
}

/// Token stream over the tokens a [`JaTokenizer`] produced.
pub struct JaTokenStream<'a> {
    tokens: &'a mut [Token],
    next: usize,
}

impl TokenStream for JaTokenStream<'_> {
    fn advance(&mut self) -> bool {
        if self.next < self.tokens.len() {
            self.next += 1;
            true
        } else {
            false
        }
    }

    /// Only valid after `advance` returned true (the `TokenStream` contract).
    fn token(&self) -> &Token {
        &self.tokens[self.next - 1]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.next - 1]
    }
}

impl Tokenizer for JaTokenizer {
    type TokenStream<'a> = JaTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> JaTokenStream<'a> {
        self.analyze(text);
        JaTokenStream {
            tokens: &mut self.tokens[..self.len],
            next: 0,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Query analysis
// ---------------------------------------------------------------------------------------------

/// What one normalized query word (or synonym alternative) is matched by.
#[derive(Debug, Clone, PartialEq)]
enum WordTerms {
    /// A single non-ASCII character: a term of the unigram fields.
    Unigram(String),
    /// Terms of the phrase fields with their relative positions (one term: a term query).
    Phrase(Vec<(usize, String)>),
}

/// Analyzes a normalized word. Runs of two or more characters contribute the bigrams that cover
/// them (every other bigram, plus the last one for odd lengths: positions are exact, so this is
/// equivalent to the full chain with fewer terms to intersect); a lone character between ASCII
/// runs or breaks is a unigram (indexed at run edges); ASCII runs and inner breaks are terms too.
/// `None` when the word has no letters or digits at all.
fn word_terms(word: &str) -> Option<WordTerms> {
    let mut units = Vec::new();
    units_into(word, &mut units);
    match units.as_slice() {
        [] => return None,
        [u] if u.kind == Kind::Char => return Some(WordTerms::Unigram(word[u.from..u.to].into())),
        _ => {}
    }
    let mut terms = Vec::new();
    let mut i = 0;
    while i < units.len() {
        let u = units[i];
        match u.kind {
            Kind::Ascii => terms.push((i, word[u.from..u.to].to_string())),
            Kind::Break => terms.push((i, BREAK_MARK.to_string())),
            Kind::Char => {
                let end = char_run_end(&units, i);
                if end - i == 1 {
                    terms.push((i, word[u.from..u.to].to_string()));
                } else {
                    let bigram = |k: usize| (k, word[units[k].from..units[k + 1].to].to_string());
                    let mut k = i;
                    while k + 1 < end {
                        terms.push(bigram(k));
                        k += 2;
                    }
                    if (end - i) % 2 == 1 {
                        terms.push(bigram(end - 2));
                    }
                }
                i = end;
                continue;
            }
        }
        i += 1;
    }
    Some(WordTerms::Phrase(terms))
}

// ---------------------------------------------------------------------------------------------
// Synonyms
// ---------------------------------------------------------------------------------------------

/// Groups whose members all stand for each other.
const SYNONYM_GROUPS: &[&[&str]] = &[
    &["PCU", "緩和ケア病棟"],
    &["在支診", "在宅療養支援診療所"],
    &["在支病", "在宅療養支援病院"],
    &["訪問歯科", "歯科訪問診療"],
];

/// One-way expansions: the key also finds its targets, not the reverse. Brand names of opioids
/// find their generic name; 訪問看護ステーション also finds facilities that only say 訪問看護
/// (the other direction needs nothing: the phrase 訪問看護 already matches inside it, and
/// likewise 後方支援 inside 在宅療養後方支援病院).
const SYNONYM_ONE_WAY: &[(&str, &[&str])] = &[
    ("訪問看護ステーション", &["訪問看護"]),
    ("オキシコンチン", &["オキシコドン"]),
    ("オキノーム", &["オキシコドン"]),
    ("オキファスト", &["オキシコドン"]),
    ("デュロテップ", &["フェンタニル"]),
    ("フェントス", &["フェンタニル"]),
    ("アブストラル", &["フェンタニル"]),
    ("イーフェン", &["フェンタニル"]),
    ("ナルサス", &["ヒドロモルフォン"]),
    ("ナルラピド", &["ヒドロモルフォン"]),
    ("ナルベイン", &["ヒドロモルフォン"]),
    ("メサペイン", &["メサドン"]),
    ("MSコンチン", &["モルヒネ"]),
    ("オプソ", &["モルヒネ"]),
    ("アンペック", &["モルヒネ"]),
    ("パシーフ", &["モルヒネ"]),
    ("タペンタ", &["タペンタドール"]),
];

/// Normalized key → normalized alternatives (without the key), in table order.
static SYNONYM_TABLE: LazyLock<Vec<(String, Vec<String>)>> = LazyLock::new(|| {
    let mut map: Vec<(String, Vec<String>)> = Vec::new();
    let mut add = |key: &str, alt: &str| {
        let (key, alt) = (normalize(key), normalize(alt));
        if key == alt {
            return;
        }
        let entry = match map.iter().position(|(k, _)| *k == key) {
            Some(i) => &mut map[i].1,
            None => {
                map.push((key, Vec::new()));
                &mut map.last_mut().expect("just pushed").1
            }
        };
        if !entry.contains(&alt) {
            entry.push(alt);
        }
    };
    for group in SYNONYM_GROUPS {
        for key in *group {
            for alt in *group {
                add(key, alt);
            }
        }
    }
    for (key, alts) in SYNONYM_ONE_WAY
        .iter()
        .chain(super::abbreviations::ABBREVIATIONS)
    {
        for alt in *alts {
            add(key, alt);
        }
    }
    map
});

static SYNONYM_INDEX: LazyLock<HashMap<&'static str, usize>> = LazyLock::new(|| {
    SYNONYM_TABLE
        .iter()
        .enumerate()
        .map(|(i, (k, _))| (k.as_str(), i))
        .collect()
});

/// Byte offsets where `key` occurs in `word` without cutting an ASCII run (an ASCII key such as
/// `pcu` must not match inside `pcus`).
fn key_occurrences(word: &str, key: &str) -> Vec<usize> {
    let first = key
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric());
    let last = key
        .chars()
        .next_back()
        .is_some_and(|c| c.is_ascii_alphanumeric());
    word.match_indices(key)
        .map(|(i, _)| i)
        .filter(|&i| {
            let before = word[..i].chars().next_back();
            let after = word[i + key.len()..].chars().next();
            !joins_ascii(first, before) && !joins_ascii(last, after)
        })
        .collect()
}

/// Whether an ASCII edge (`edge`) of a match would continue into an ASCII neighbour.
fn joins_ascii(edge: bool, neighbour: Option<char>) -> bool {
    edge && neighbour.is_some_and(|c| c.is_ascii_alphanumeric())
}

/// The alternatives a word expands to, normalized, the word itself first.
///
/// * A word equal to a synonym key expands to all of the key's alternatives
///   (`PCU` → `pcu`, `緩和けあ病棟`; `オキシコンチン` → `おきしこんちん`, `おきしこどん`).
/// * A word that merely *contains* a key gets, for each alternative, a copy of itself with the
///   key replaced (`PCUあり` → `pcuあり`, `緩和けあ病棟あり`): the rest of the word still
///   constrains the match. An occurrence already spelled out as the alternative is left as it
///   is (`タペンタドール` does not become `たぺんたどーるどーる`; `国立埼玉病院` becomes
///   `国立病院機構埼玉病院`, `国立病院機構` stays).
/// * Keys and words are compared after [`normalize`]; an ASCII key only matches whole ASCII
///   runs. Generic names do not expand to brands.
pub fn synonyms(word: &str) -> Vec<String> {
    let word = normalize(word);
    let mut out = vec![word.clone()];
    if let Some(&i) = SYNONYM_INDEX.get(word.as_str()) {
        out.extend(SYNONYM_TABLE[i].1.iter().cloned());
    }
    for (key, alts) in SYNONYM_TABLE.iter() {
        if *key == word || key.len() >= word.len() {
            continue;
        }
        let hits = key_occurrences(&word, key);
        if hits.is_empty() {
            continue;
        }
        for alt in alts {
            // An occurrence already spelled out in full stays (タペンタドール is not
            // たぺんたどーるどーる, 国立病院機構 not 国立病院機構病院機構).
            let hits: Vec<usize> = hits
                .iter()
                .copied()
                .filter(|&h| {
                    !(alt.starts_with(key.as_str()) && word[h..].starts_with(alt.as_str()))
                })
                .collect();
            if hits.is_empty() {
                continue;
            }
            let mut replaced = String::with_capacity(word.len() + alt.len());
            let mut rest = 0;
            for &h in &hits {
                replaced.push_str(&word[rest..h]);
                replaced.push_str(alt);
                rest = h + key.len();
            }
            replaced.push_str(&word[rest..]);
            if !out.contains(&replaced) {
                out.push(replaced);
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Index
// ---------------------------------------------------------------------------------------------

/// The index's fields, looked up in its schema by name (the same for a built index and a
/// saved one opened again).
struct Fields {
    ord: Field,
    fields: [FieldPair; 5],
    tag: Field,
}

impl Fields {
    fn of(schema: &Schema) -> Result<Fields, TextError> {
        let mut fields = [FieldPair {
            phrase: Field::from_field_id(0),
            unigram: Field::from_field_id(0),
            boost: 0.0,
        }; 5];
        for (pair, (name, boost)) in fields.iter_mut().zip(TEXT_FIELDS) {
            *pair = FieldPair {
                phrase: schema.get_field(name)?,
                unigram: schema.get_field(&format!("{name}_uni"))?,
                boost,
            };
        }
        Ok(Fields {
            ord: schema.get_field(ORD_FIELD)?,
            fields,
            tag: schema.get_field("tag")?,
        })
    }
}

/// The schema: the ord (indexed, to delete a document by it; fast, to read it), each text
/// field twice (phrases of bigrams; unigrams) and the tags.
fn schema() -> Schema {
    let mut builder = Schema::builder();
    builder.add_u64_field(
        ORD_FIELD,
        NumericOptions::default().set_fast().set_indexed(),
    );
    let options = |tokenizer: &str, positions: bool| {
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(tokenizer)
                .set_index_option(if positions {
                    IndexRecordOption::WithFreqsAndPositions
                } else {
                    IndexRecordOption::WithFreqs
                }),
        )
    };
    for (i, (name, _)) in TEXT_FIELDS.iter().enumerate() {
        let (phrase, unigram) = if i < NAME_FIELDS {
            (NAME_BIGRAM_TOKENIZER, NAME_UNIGRAM_TOKENIZER)
        } else {
            (BIGRAM_TOKENIZER, UNIGRAM_TOKENIZER)
        };
        builder.add_text_field(name, options(phrase, true));
        builder.add_text_field(&format!("{name}_uni"), options(unigram, false));
    }
    builder.add_text_field("tag", STRING);
    builder.build()
}

fn register_tokenizers(index: &Index) {
    let t = index.tokenizers();
    t.register(BIGRAM_TOKENIZER, JaTokenizer::bigram());
    t.register(UNIGRAM_TOKENIZER, JaTokenizer::unigram());
    t.register(NAME_BIGRAM_TOKENIZER, JaTokenizer::for_names(false));
    t.register(NAME_UNIGRAM_TOKENIZER, JaTokenizer::for_names(true));
}

/// Edits' commits merge their small segments among themselves and never touch a segment of
/// the build: merging those (up to 150,000 documents each) in the background took the CPU an
/// edit waits for, and their deleted documents cost less than rewriting them.
fn edit_merge_policy() -> tantivy::merge_policy::LogMergePolicy {
    let mut policy = tantivy::merge_policy::LogMergePolicy::default();
    policy.set_max_docs_before_merge(EDIT_SEGMENT_MAX_DOCS);
    policy
}

/// The largest segment an edit's commit may merge.
const EDIT_SEGMENT_MAX_DOCS: usize = 2_000;

/// A new private directory under the system's temporary directory for an index's files.
fn scratch_files() -> Result<tempfile::TempDir, TextError> {
    let tmp = std::env::temp_dir();
    tempfile::Builder::new()
        .prefix("pallimap-text-")
        .tempdir_in(&tmp)
        .map_err(|source| TextError::Files {
            dir: tmp.display().to_string(),
            source,
        })
}

/// A text field of [`TextDoc`]: its phrase (bigram) field, its unigram field and its boost.
#[derive(Debug, Clone, Copy)]
struct FieldPair {
    phrase: Field,
    unigram: Field,
    boost: Score,
}

/// The full-text index. Its files are in a private temporary directory, memory-mapped: the
/// kernel keeps the pages that searches touch and may drop them under memory pressure, so a
/// nationwide index does not sit in the process's heap. The directory goes when the last
/// snapshot sharing it does.
#[derive(Clone)]
pub struct TextIndex {
    index: Index,
    /// The index's files as written (the index's own view of them hides their footers).
    dir: super::scratch::ScratchDirectory,
    _files: Arc<tempfile::TempDir>,
    reader: IndexReader,
    /// The committed state this snapshot searches; a later [`TextIndex::with_changes`] gives a
    /// new snapshot and leaves this one as it was.
    searcher: tantivy::Searcher,
    ord: Field,
    fields: [FieldPair; 5],
    tag: Field,
    num_docs: u64,
    /// Every match of common queries, for radius searches (this snapshot's only).
    matches: Arc<MatchCache>,
}

impl std::fmt::Debug for TextIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextIndex")
            .field("num_docs", &self.num_docs)
            .finish_non_exhaustive()
    }
}

/// A text index being written: documents are indexed (by two writer threads) as they are
/// added, so a start that produces them one batch at a time indexes while it reads.
pub struct TextBuilder {
    index: Index,
    dir: super::scratch::ScratchDirectory,
    files: tempfile::TempDir,
    fields: Fields,
    writer: IndexWriter<TantivyDocument>,
    added: u64,
}

impl TextBuilder {
    pub fn new() -> Result<TextBuilder, TextError> {
        let files = scratch_files()?;
        let dir = super::scratch::ScratchDirectory::open(files.path())?;
        let index = Index::create(dir.clone(), schema(), tantivy::IndexSettings::default())?;
        register_tokenizers(&index);
        let fields = Fields::of(&index.schema())?;
        let writer = index.writer_with_num_threads(2, WRITER_BUDGET)?;
        Ok(TextBuilder {
            index,
            dir,
            files,
            fields,
            writer,
            added: 0,
        })
    }

    pub fn add(&mut self, d: &TextDoc) -> Result<(), TextError> {
        let f = &self.fields;
        self.writer
            .add_document(tantivy_doc(f.ord, f.tag, &f.fields, d))?;
        self.added += 1;
        Ok(())
    }

    /// Documents added so far.
    pub fn added(&self) -> u64 {
        self.added
    }

    /// Commit everything added, ready to search.
    pub fn finish(mut self) -> Result<TextIndex, TextError> {
        self.writer.commit()?;
        // The few segments the writer threads flushed stay as they are: merging them into one
        // took 2.6 s of a 300,000-facility start, scores use the whole index's statistics either
        // way, and no shape of `pallimap bench` was measurably faster on the merged index
        // (BENCHMARKS.md, "Memory and start").
        self.writer.wait_merging_threads()?;
        TextIndex::open(self.index, self.dir, self.files)
    }
}

impl TextIndex {
    /// Indexes the documents (two writer threads), ready to search.
    pub fn build(docs: impl IntoIterator<Item = TextDoc>) -> Result<TextIndex, TextError> {
        let mut b = TextBuilder::new()?;
        for d in docs {
            b.add(&d)?;
        }
        b.finish()
    }

    /// The index of `index`, whose files are `dir`'s in `files`, with its tokenizers, ready
    /// to search.
    fn open(
        index: Index,
        dir: super::scratch::ScratchDirectory,
        files: tempfile::TempDir,
    ) -> Result<TextIndex, TextError> {
        register_tokenizers(&index);
        let f = Fields::of(&index.schema())?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let searcher = reader.searcher();
        let num_docs = searcher.num_docs();
        Ok(TextIndex {
            index,
            dir,
            _files: Arc::new(files),
            reader,
            searcher,
            ord: f.ord,
            fields: f.fields,
            tag: f.tag,
            num_docs,
            matches: Default::default(),
        })
    }

    /// A new snapshot with the documents of `docs` replaced (by ord; new ords are added). One
    /// small commit; this snapshot keeps searching what it searched.
    pub fn with_changes(&self, docs: &[TextDoc]) -> Result<TextIndex, TextError> {
        let mut writer: IndexWriter<TantivyDocument> =
            self.index.writer_with_num_threads(1, UPDATE_BUDGET)?;
        writer.set_merge_policy(Box::new(edit_merge_policy()));
        for d in docs {
            writer.delete_term(Term::from_field_u64(self.ord, u64::from(d.ord)));
            writer.add_document(tantivy_doc(self.ord, self.tag, &self.fields, d))?;
        }
        writer.commit()?;
        drop(writer);
        self.reader.reload()?;
        let searcher = self.reader.searcher();
        Ok(TextIndex {
            index: self.index.clone(),
            dir: self.dir.clone(),
            _files: self._files.clone(),
            reader: self.reader.clone(),
            num_docs: searcher.num_docs(),
            searcher,
            ord: self.ord,
            fields: self.fields,
            tag: self.tag,
            matches: Default::default(),
        })
    }

    /// Number of indexed documents.
    pub fn num_docs(&self) -> u64 {
        self.num_docs
    }

    /// Bytes the index's files take (what is kept in RAM or mapped), for the benchmarks.
    pub fn size_bytes(&self) -> u64 {
        self.searcher
            .space_usage()
            .map(|u| u.total().get_bytes())
            .unwrap_or(0)
    }

    /// All documents matching the query with their BM25 scores (highest first; ties by ord
    /// ascending). Empty/whitespace query → [`TextError::EmptyQuery`]; a query with no letter
    /// or digit at all (punctuation, emoji) matches nothing.
    pub fn search(&self, query: &str) -> Result<Vec<(u32, f32)>, TextError> {
        let normalized = normalize(query);
        let mut clauses: Vec<Clause> = Vec::new();
        for w in normalized.split_whitespace() {
            let c = Clause {
                word: Some(w.to_string()),
                ..Clause::default()
            };
            if !clauses.contains(&c) {
                clauses.push(c);
            }
        }
        if clauses.is_empty() {
            return Err(TextError::EmptyQuery);
        }
        self.search_clauses(&clauses)
    }

    /// Every match of `clauses` when they are common — at least one document in
    /// [`COMMON_SHARE`] — kept for this snapshot, so a search within a radius or a box tests
    /// its points against them instead of scoring every match again; `None` for rarer ones
    /// (scoring them all is then cheap). The scores are those of
    /// [`TextIndex::search_clauses`], bit for bit: both come from the same query driven the
    /// same way, so ties between equal scores break the same way on both paths.
    pub fn common_matches(&self, clauses: &[Clause]) -> Result<Option<Arc<Matches>>, TextError> {
        if clauses.is_empty() || !self.matches.on.load(std::sync::atomic::Ordering::Relaxed) {
            return Ok(None);
        }
        let key = format!("{clauses:?}");
        if let Some(known) = self.matches.get(&key) {
            return Ok(known);
        }
        let found = self.search_clauses(clauses)?;
        let common = found.len() as u64 >= (self.num_docs / COMMON_SHARE).max(COMMON_MIN);
        let entry = common.then(|| {
            let len = found.iter().map(|h| h.0 as usize + 1).max().unwrap_or(0);
            let mut scores = vec![f32::NAN; len];
            for &(ord, score) in &found {
                scores[ord as usize] = score;
            }
            Arc::new(Matches { scores })
        });
        self.matches.put(key, entry.clone());
        Ok(entry)
    }

    /// Whether [`TextIndex::common_matches`] answers (on by default).
    pub fn set_common_matches(&self, on: bool) {
        self.matches
            .on
            .store(on, std::sync::atomic::Ordering::Relaxed);
    }

    /// Documents meeting every clause (see [`Clause`]), with their scores (highest first; ties
    /// by ord). No clause: nothing matches. Spatial constraints are applied by the caller to
    /// these hits: filtering inside the query (by cell postings, as an earlier version did)
    /// drives tantivy's unions by seeking, which sums a document's field scores in another
    /// order and so gives equal documents scores an ulp apart — and tied hits another order
    /// than the same word searched elsewhere.
    pub fn search_clauses(&self, clauses: &[Clause]) -> Result<Vec<(u32, f32)>, TextError> {
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = clauses
            .iter()
            .filter_map(|c| self.clause_query(c))
            .map(|q| (Occur::Must, q))
            .collect();
        let query: Box<dyn Query> = match clauses.len() {
            0 => return Ok(Vec::new()),
            1 => clauses.pop().expect("one clause").1,
            _ => Box::new(BooleanQuery::new(clauses)),
        };
        let mut hits = self.searcher.search(query.as_ref(), &AllHits)?;
        hits.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        Ok(hits)
    }

    /// A clause as a query: its word's phrases, OR its tags (constant score), OR for a place
    /// its address match (constant score).
    fn clause_query(&self, c: &Clause) -> Option<Box<dyn Query>> {
        let mut should: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        if let Some(w) = &c.word {
            if !(c.place && c.address_only)
                && let Some(q) = self.word_query(w)
            {
                should.push((Occur::Should, q));
            }
            if c.place
                && let Some(q) = self.field_phrase(w, ADDRESS_FIELD)
            {
                should.push((
                    Occur::Should,
                    Box::new(ConstScoreQuery::new(q, PLACE_SCORE)),
                ));
            }
        }
        if !c.tags.is_empty() {
            let any: Vec<(Occur, Box<dyn Query>)> = c
                .tags
                .iter()
                .map(|t| {
                    let q: Box<dyn Query> = Box::new(TermQuery::new(
                        Term::from_field_text(self.tag, t),
                        IndexRecordOption::Basic,
                    ));
                    (Occur::Should, q)
                })
                .collect();
            let score = if c.place { PLACE_SCORE } else { TAG_SCORE };
            should.push((
                Occur::Should,
                Box::new(ConstScoreQuery::new(
                    Box::new(BooleanQuery::new(any)),
                    score,
                )),
            ));
        }
        match should.len() {
            0 => None,
            1 => should.pop().map(|(_, q)| q),
            _ => Some(Box::new(BooleanQuery::new(should))),
        }
    }

    /// The phrase of a normalized word in one field (by index in [`TEXT_FIELDS`]).
    fn field_phrase(&self, word: &str, field: usize) -> Option<Box<dyn Query>> {
        Some(terms_query(self.fields[field], &word_terms(word)?))
    }

    /// Documents whose name or reading holds at least `min` of the distinct
    /// tokens of the compact `word`: the candidates of a fuzzy name match, unscored.
    pub fn sharing_tokens(&self, word: &str, min: usize) -> Result<Vec<u32>, TextError> {
        let mut tokenizer = JaTokenizer::bigram();
        let mut tokens: Vec<String> = Vec::new();
        tokenizer.token_stream(word).process(&mut |t| {
            if t.text != BREAK_MARK && t.text.chars().count() >= 2 && !tokens.contains(&t.text) {
                tokens.push(t.text.clone());
            }
        });
        if tokens.is_empty() {
            return Ok(Vec::new());
        }
        let fields = [self.fields[0].phrase, self.fields[1].phrase];
        let clauses: Vec<(Occur, Box<dyn Query>)> = tokens
            .iter()
            .map(|t| {
                let any: Vec<(Occur, Box<dyn Query>)> = fields
                    .iter()
                    .map(|f| {
                        let q: Box<dyn Query> = Box::new(TermQuery::new(
                            Term::from_field_text(*f, t),
                            IndexRecordOption::Basic,
                        ));
                        (Occur::Should, q)
                    })
                    .collect();
                let q: Box<dyn Query> = Box::new(BooleanQuery::new(any));
                (Occur::Should, q)
            })
            .collect();
        let min = min.clamp(1, clauses.len());
        let query = BooleanQuery::with_minimum_required_clauses(clauses, min);
        let mut hits = self
            .reader
            .searcher()
            .search(&query, &FirstHits(usize::MAX))?;
        hits.sort_unstable();
        Ok(hits)
    }

    /// Up to `k` documents whose name contains the normalized `word` as a phrase,
    /// in index order (for type-ahead: no scoring).
    pub fn names_containing(&self, word: &str, k: usize) -> Result<Vec<u32>, TextError> {
        let mut should: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for field in [0] {
            if let Some(q) = self.field_phrase(word, field) {
                should.push((Occur::Should, q));
            }
        }
        if should.is_empty() {
            return Ok(Vec::new());
        }
        let query = BooleanQuery::new(should);
        let mut hits = self.searcher.search(&query, &FirstHits(k))?;
        hits.sort_unstable();
        hits.truncate(k);
        Ok(hits)
    }

    /// The OR, over synonym alternatives and fields, of one normalized word's phrases.
    fn word_query(&self, word: &str) -> Option<Box<dyn Query>> {
        let mut should: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let mut seen = Vec::new();
        for alt in synonyms(word) {
            let Some(terms) = word_terms(&alt) else {
                continue;
            };
            if seen.contains(&terms) {
                continue;
            }
            for pair in &self.fields {
                let q = terms_query(*pair, &terms);
                should.push((Occur::Should, Box::new(BoostQuery::new(q, pair.boost))));
            }
            seen.push(terms);
        }
        if should.is_empty() {
            None
        } else {
            Some(Box::new(BooleanQuery::new(should)))
        }
    }
}

/// Collects the ords of the first `k` matching documents of each segment, unscored.
struct FirstHits(usize);

struct SegmentFirst {
    ords: Column<u64>,
    k: usize,
    hits: Vec<u32>,
}

impl Collector for FirstHits {
    type Fruit = Vec<u32>;
    type Child = SegmentFirst;

    fn for_segment(&self, _id: u32, segment: &SegmentReader) -> tantivy::Result<SegmentFirst> {
        Ok(SegmentFirst {
            ords: segment.fast_fields().u64(ORD_FIELD)?,
            k: self.0,
            hits: Vec::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<Vec<u32>>) -> tantivy::Result<Vec<u32>> {
        Ok(fruits.concat())
    }
}

impl SegmentCollector for SegmentFirst {
    type Fruit = Vec<u32>;

    fn collect(&mut self, doc: DocId, _score: Score) {
        if self.hits.len() < self.k
            && let Some(ord) = self.ords.first(doc)
        {
            self.hits.push(ord as u32);
        }
    }

    fn harvest(self) -> Vec<u32> {
        self.hits
    }
}

/// Collects every matching document as `(ord, score)`, without a limit.
/// A query is common from one match in this many documents on.
pub const COMMON_SHARE: u64 = 32;
/// ... and never below this many matches.
const COMMON_MIN: u64 = 256;
/// Common queries kept per snapshot (each a score per document: 1.2 MB at 300,000).
const COMMON_KEPT: usize = 8;
/// Queries remembered as rare before the memory is cleared.
const RARE_KEPT: usize = 1024;

/// Every match of one query: its score per ord.
pub struct Matches {
    /// NaN: no match.
    scores: Vec<f32>,
}

impl Matches {
    pub fn score(&self, ord: u32) -> Option<f32> {
        self.scores
            .get(ord as usize)
            .copied()
            .filter(|s| !s.is_nan())
    }
}

/// Per snapshot: common queries' matches (the least recently used go first) and the queries
/// known to be rare.
struct MatchCache {
    inner: std::sync::Mutex<MatchCacheState>,
    /// Off only where a test compares both ways.
    on: std::sync::atomic::AtomicBool,
}

impl Default for MatchCache {
    fn default() -> MatchCache {
        MatchCache {
            inner: Default::default(),
            on: true.into(),
        }
    }
}

#[derive(Default)]
struct MatchCacheState {
    common: Vec<(String, Arc<Matches>, u64)>,
    rare: std::collections::HashSet<String>,
    tick: u64,
}

impl MatchCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, MatchCacheState> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `Some(None)`: known rare; `None`: not known.
    fn get(&self, key: &str) -> Option<Option<Arc<Matches>>> {
        let mut st = self.lock();
        st.tick += 1;
        let tick = st.tick;
        if let Some(e) = st.common.iter_mut().find(|e| e.0 == key) {
            e.2 = tick;
            return Some(Some(e.1.clone()));
        }
        st.rare.contains(key).then_some(None)
    }

    fn put(&self, key: String, entry: Option<Arc<Matches>>) {
        let mut st = self.lock();
        st.tick += 1;
        let tick = st.tick;
        match entry {
            None => {
                if st.rare.len() >= RARE_KEPT {
                    st.rare.clear();
                }
                st.rare.insert(key);
            }
            Some(m) => {
                if st.common.iter().any(|e| e.0 == key) {
                    return;
                }
                if st.common.len() >= COMMON_KEPT
                    && let Some(k) = (0..st.common.len()).min_by_key(|&k| st.common[k].2)
                {
                    st.common.swap_remove(k);
                }
                st.common.push((key, m, tick));
            }
        }
    }
}

struct AllHits;

struct SegmentHits {
    ords: Column<u64>,
    hits: Vec<(u32, Score)>,
}

impl Collector for AllHits {
    type Fruit = Vec<(u32, Score)>;
    type Child = SegmentHits;

    fn for_segment(
        &self,
        _segment_local_id: u32,
        segment: &SegmentReader,
    ) -> tantivy::Result<SegmentHits> {
        Ok(SegmentHits {
            ords: segment.fast_fields().u64(ORD_FIELD)?,
            hits: Vec::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        true
    }

    fn merge_fruits(&self, fruits: Vec<Vec<(u32, Score)>>) -> tantivy::Result<Self::Fruit> {
        Ok(fruits.concat())
    }
}

impl SegmentCollector for SegmentHits {
    type Fruit = Vec<(u32, Score)>;

    fn collect(&mut self, doc: DocId, score: Score) {
        if let Some(ord) = self.ords.first(doc) {
            // Ords come from u32 values, so the conversion is lossless.
            self.hits.push((ord as u32, score));
        }
    }

    fn harvest(self) -> Self::Fruit {
        self.hits
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn doc(
        ord: u32,
        name: &str,
        kana: &str,
        services: &str,
        address: &str,
        notes: &str,
    ) -> TextDoc {
        TextDoc {
            ord,
            name: name.into(),
            kana: kana.into(),
            services: services.into(),
            address: address.into(),
            notes: notes.into(),
            ..TextDoc::default()
        }
    }

    /// Fictional facilities.
    fn fixture() -> Vec<TextDoc> {
        vec![
            doc(
                100,
                "さくら緩和ケアクリニック",
                "サクラカンワケアクリニック",
                "在宅療養支援診療所 home care clinic",
                "東京都世田谷区桜丘一丁目2-3",
                "オキシコドン持続皮下注に対応。",
            ),
            doc(
                101,
                "みなと中央病院",
                "ミナトチュウオウビョウイン",
                "緩和ケア病棟 palliative care unit 在宅療養後方支援病院",
                "東京都港区芝浦4-5-6",
                "PCU 20床。フェンタニル貼付剤の導入可。",
            ),
            doc(
                102,
                "クローバー薬局",
                "クローバーヤッキョク",
                "薬局 pharmacy 無菌調剤",
                "神奈川県横浜市青葉区",
                "ヒドロモルフォン注の在庫あり",
            ),
            doc(
                103,
                "ひまわり訪問看護ステーション",
                "ヒマワリホウモンカンゴステーション",
                "訪問看護 visiting nurse",
                "埼玉県さいたま市浦和区",
                "24時間対応",
            ),
            doc(
                104,
                "髙橋醫院",
                "タカハシイイン",
                "在支診",
                "千葉県船橋市",
                "往診可",
            ),
            doc(
                105,
                "山田医院",
                "ヤマダイイン",
                "内科 internal medicine",
                "東京都三鷹市",
                "モルヒネ内服の処方に対応",
            ),
            doc(
                106,
                "あおば歯科クリニック",
                "アオバシカクリニック",
                "歯科訪問診療 dental",
                "神奈川県川崎市",
                "",
            ),
            doc(
                107,
                "市立総合病院",
                "シリツソウゴウビョウイン",
                "一般病床 general",
                "静岡県浜松市",
                "緩和的な治療と地域包括ケア病棟を運営",
            ),
            doc(
                108,
                "桜丘クリニック",
                "サクラガオカクリニック",
                "内科",
                "大阪府大阪市",
                "",
            ),
            doc(
                109,
                "訪問・看護センターかえで",
                "ホウモンカンゴセンターカエデ",
                "居宅介護支援 care management",
                "京都府京都市",
                "緩和 ケアの相談",
            ),
            doc(
                110,
                "ﾐﾄﾞﾘ薬局",
                "ミドリヤッキョク",
                "薬局 pharmacy",
                "北海道札幌市",
                "ＰＣＵとの連携あり、オキシコンチン取扱い",
            ),
            doc(
                111,
                "霞ヶ関在宅クリニック",
                "カスミガセキザイタククリニック",
                "在宅療養支援診療所",
                "東京都千代田区霞が関",
                "メサペイン導入実績あり",
            ),
            doc(
                112,
                "Green Home Clinic",
                "グリーンホームクリニック",
                "在宅療養支援病院 home care hospital",
                "福岡県福岡市博多区1-2-3",
                "x線検査可。第2病棟あり",
            ),
            doc(
                113,
                "こもれび歯科",
                "コモレビシカ",
                "訪問歯科 dental",
                "愛知県名古屋市",
                "",
            ),
            doc(
                114,
                "はなみずき在宅診療所",
                "ハナミズキザイタクシンリョウジョ",
                "在宅療養支援診療所 在支診",
                "宮城県仙台市",
                "MSコンチン、ナルサス対応",
            ),
            doc(
                115,
                "駅前ファーマシー",
                "エキマエファーマシー",
                "pharmacy",
                "東京都渋谷区",
                "",
            ),
        ]
    }

    fn index() -> TextIndex {
        TextIndex::build(fixture()).expect("build")
    }

    fn set(idx: &TextIndex, q: &str) -> BTreeSet<u32> {
        idx.search(q)
            .expect("search")
            .into_iter()
            .map(|(o, _)| o)
            .collect()
    }

    fn ords(v: &[u32]) -> BTreeSet<u32> {
        v.iter().copied().collect()
    }

    #[test]
    fn normalizer() {
        assert_eq!(normalize("ヒドロモルフォン"), "ひどろもるふぉん");
        assert_eq!(normalize("ｵｷｼｺﾄﾞﾝ"), "おきしこどん");
        assert_eq!(normalize("ＰＣＵ　ＭＳコンチン"), "pcu msこんちん");
        assert_eq!(normalize("霞ヶ関 霞ケ関 八ヵ岳"), "霞け関 霞け関 八け岳");
        assert_eq!(
            normalize("髙橋醫院 渡邊 渡邉 齋藤 宮﨑 濵田 櫻井 廣田"),
            "高橋医院 渡辺 渡辺 斎藤 宮崎 浜田 桜井 広田"
        );
        assert_eq!(normalize("スーパー"), "すーぱー");
        assert_eq!(normalize("龍"), "龍");
        assert_eq!(normalize("葛\u{E0100}飾"), "葛飾");
        for s in ["ﾐﾄﾞﾘ薬局", "ＰＣＵとの連携", "Green Home", "ヽヾヴ"] {
            assert_eq!(normalize(&normalize(s)), normalize(s));
        }
    }

    #[test]
    fn tokens_have_real_positions() {
        let mut t = JaTokenizer::bigram();
        let mut got = Vec::new();
        t.token_stream("緩和ケア PCU・x線").process(&mut |tok| {
            got.push((tok.position, tok.text.clone()));
        });
        let want: Vec<(usize, String)> = [
            (0, "緩"),
            (0, "緩和"),
            (1, "和け"),
            (2, "けあ"),
            (3, "あ"),
            (4, " "),
            (5, "pcu"),
            (6, " "),
            (7, "x"),
            (8, "線"),
        ]
        .iter()
        .map(|(p, s)| (*p, s.to_string()))
        .collect();
        assert_eq!(got, want);

        let mut u = JaTokenizer::unigram();
        let mut got = Vec::new();
        u.token_stream("薬局 ab")
            .process(&mut |tok| got.push(tok.text.clone()));
        assert_eq!(got, ["薬", "局"]);
    }

    #[test]
    fn query_terms() {
        assert_eq!(word_terms("薬"), Some(WordTerms::Unigram("薬".into())));
        assert_eq!(word_terms("!?"), None);
        let phrase = |v: &[(usize, &str)]| {
            Some(WordTerms::Phrase(
                v.iter().map(|(p, s)| (*p, s.to_string())).collect(),
            ))
        };
        assert_eq!(word_terms("a"), phrase(&[(0, "a")]));
        assert_eq!(word_terms("緩和"), phrase(&[(0, "緩和")]));
        assert_eq!(word_terms("緩和け"), phrase(&[(0, "緩和"), (1, "和け")]));
        assert_eq!(word_terms("緩和けあ"), phrase(&[(0, "緩和"), (2, "けあ")]));
        assert_eq!(word_terms("(1-2)"), phrase(&[(0, "1"), (1, " "), (2, "2")]));
        assert_eq!(word_terms("x線"), phrase(&[(0, "x"), (1, "線")]));
    }

    #[test]
    fn synonym_expansion() {
        assert_eq!(synonyms("ＰＣＵ"), ["pcu", "緩和けあ病棟"]);
        assert_eq!(synonyms("緩和ケア病棟"), ["緩和けあ病棟", "pcu"]);
        assert_eq!(
            synonyms("オキシコンチン"),
            ["おきしこんちん", "おきしこどん"]
        );
        assert_eq!(synonyms("オキシコドン"), ["おきしこどん"]);
        assert_eq!(synonyms("PCUあり"), ["pcuあり", "緩和けあ病棟あり"]);
        assert_eq!(synonyms("pcus"), ["pcus"]);
        assert_eq!(synonyms("タペンタドール"), ["たぺんたどーる"]);
        assert_eq!(synonyms("タペンタ"), ["たぺんた", "たぺんたどーる"]);
        assert_eq!(synonyms("訪問看護"), ["訪問看護"]);
        assert_eq!(
            synonyms("訪問看護ステーション"),
            ["訪問看護すてーしょん", "訪問看護"]
        );
    }

    #[test]
    fn kana_folding() {
        let idx = index();
        assert_eq!(set(&idx, "くろーばー"), ords(&[102]));
        assert_eq!(set(&idx, "ひどろもるふぉん"), ords(&[102]));
        assert_eq!(set(&idx, "ｵｷｼｺﾄﾞﾝ"), ords(&[100]));
        assert_eq!(set(&idx, "みどり"), ords(&[110]));
        assert_eq!(set(&idx, "霞ケ関"), ords(&[111]));
        assert_eq!(set(&idx, "霞が関"), ords(&[111]));
    }

    #[test]
    fn full_width_ascii_and_pcu_synonym_both_ways() {
        let idx = index();
        assert_eq!(set(&idx, "ＰＣＵ"), ords(&[101, 110]));
        assert_eq!(set(&idx, "pcu"), ords(&[101, 110]));
        assert_eq!(set(&idx, "緩和ケア病棟"), ords(&[101, 110]));
    }

    #[test]
    fn brand_finds_generic() {
        let idx = index();
        assert_eq!(set(&idx, "オキシコンチン"), ords(&[100, 110]));
        assert_eq!(set(&idx, "ナルサス"), ords(&[102, 114]));
        assert_eq!(set(&idx, "ＭＳコンチン"), ords(&[105, 114]));
        assert_eq!(set(&idx, "モルヒネ"), ords(&[105]));
        assert_eq!(set(&idx, "メサドン"), ords(&[]));
        assert_eq!(set(&idx, "メサペイン"), ords(&[111]));
    }

    #[test]
    fn other_synonyms() {
        let idx = index();
        assert_eq!(set(&idx, "在支診"), ords(&[100, 104, 111, 114]));
        assert_eq!(set(&idx, "在宅療養支援診療所"), ords(&[100, 104, 111, 114]));
        assert_eq!(set(&idx, "在支病"), ords(&[112]));
        assert_eq!(set(&idx, "訪問歯科"), ords(&[106, 113]));
        assert_eq!(set(&idx, "歯科訪問診療"), ords(&[106, 113]));
        assert_eq!(set(&idx, "訪問看護ステーション"), ords(&[103]));
        assert_eq!(set(&idx, "後方支援"), ords(&[101]));
    }

    #[test]
    fn words_are_anded() {
        let idx = index();
        assert_eq!(set(&idx, "クリニック 東京都"), ords(&[100, 111]));
        assert_eq!(set(&idx, "クリニック　東京都"), ords(&[100, 111]));
        assert_eq!(set(&idx, "在宅療養支援診療所 東京都"), ords(&[100, 111]));
        assert_eq!(set(&idx, "薬局 北海道"), ords(&[110]));
        assert_eq!(set(&idx, "薬局 沖縄"), ords(&[]));
    }

    #[test]
    fn words_are_phrases() {
        let idx = index();
        // 107 has 緩和 and ケア病棟, but apart.
        assert!(!set(&idx, "緩和ケア病棟").contains(&107));
        assert_eq!(set(&idx, "ケア病棟"), ords(&[101, 107]));
        assert_eq!(set(&idx, "緩和"), ords(&[100, 101, 107, 109]));
    }

    #[test]
    fn no_match_across_breaks() {
        let idx = index();
        // 109 says 訪問・看護 and 緩和 ケア.
        assert_eq!(set(&idx, "訪問看護"), ords(&[103]));
        assert_eq!(set(&idx, "緩和ケア"), ords(&[100, 101]));
        assert_eq!(set(&idx, "看護センター"), ords(&[109]));
        // A break inside a query word must meet a break in the document.
        assert_eq!(set(&idx, "訪問・看護"), ords(&[109]));
        assert_eq!(set(&idx, "1-2-3"), ords(&[112]));
        assert_eq!(set(&idx, "2-3"), ords(&[100, 112]));
        assert_eq!(set(&idx, "区1"), ords(&[112]));
    }

    #[test]
    fn ascii_runs_are_whole_tokens() {
        let idx = index();
        assert_eq!(set(&idx, "2"), ords(&[100, 112]));
        assert_eq!(set(&idx, "20"), ords(&[101]));
        assert_eq!(set(&idx, "a"), ords(&[]));
        assert_eq!(set(&idx, "hom"), ords(&[]));
        assert_eq!(set(&idx, "HOME"), ords(&[100, 112]));
        assert_eq!(set(&idx, "home care"), ords(&[100, 112]));
        assert_eq!(set(&idx, "x線"), ords(&[112]));
        assert_eq!(set(&idx, "第2"), ords(&[112]));
        assert_eq!(set(&idx, "2病棟"), ords(&[112]));
    }

    #[test]
    fn single_character_queries() {
        let idx = index();
        assert_eq!(set(&idx, "薬"), ords(&[102, 110]));
        assert_eq!(set(&idx, "歯"), ords(&[106, 113]));
        assert_eq!(set(&idx, "丘"), ords(&[100, 108]));
        // ミナト, ﾐﾄﾞﾘ, カスミ, ハナミズキ
        assert_eq!(set(&idx, "ﾐ"), ords(&[101, 110, 111, 114]));
    }

    #[test]
    fn old_kanji() {
        let idx = index();
        assert_eq!(set(&idx, "醫院"), ords(&[104, 105]));
        assert_eq!(set(&idx, "高橋"), ords(&[104]));
        assert_eq!(set(&idx, "髙橋醫院"), ords(&[104]));
    }

    #[test]
    fn name_outranks_address() {
        let idx = index();
        let hits = idx.search("桜丘").unwrap();
        let order: Vec<u32> = hits.iter().map(|h| h.0).collect();
        assert_eq!(order, [108, 100]);
        assert!(hits[0].1 > hits[1].1);
    }

    #[test]
    fn spaces_inside_japanese_names_carry_no_meaning() {
        let idx = TextIndex::build([
            doc(
                1,
                "独立行政法人国立病院機構　埼玉病院",
                "",
                "",
                "",
                "緩和 ケア",
            ),
            doc(2, "訪問・看護センター", "", "", "", ""),
            doc(3, "Green Home Clinic", "", "", "", ""),
        ])
        .unwrap();
        assert_eq!(set(&idx, "国立病院機構埼玉病院"), ords(&[1]));
        assert_eq!(set(&idx, "機構埼玉"), ords(&[1]));
        // Only in names: notes keep their breaks; punctuation still breaks; Latin words stay apart.
        assert_eq!(set(&idx, "緩和ケア"), ords(&[]));
        assert_eq!(set(&idx, "訪問看護"), ords(&[]));
        assert_eq!(set(&idx, "home"), ords(&[3]));
        assert_eq!(set(&idx, "greenhome"), ords(&[]));
    }

    #[test]
    fn ties_are_ordered_by_ord() {
        let same = |ord| doc(ord, "同名クリニック", "", "", "", "");
        let idx = TextIndex::build([same(9), same(3), same(7)]).unwrap();
        let hits = idx.search("同名").unwrap();
        assert_eq!(hits.iter().map(|h| h.0).collect::<Vec<_>>(), [3, 7, 9]);
        assert!(hits.iter().all(|h| h.1 == hits[0].1 && h.1 > 0.0));
    }

    #[test]
    fn empty_and_garbage_queries() {
        let idx = index();
        assert!(matches!(idx.search(""), Err(TextError::EmptyQuery)));
        assert!(matches!(
            idx.search(" \t\u{3000} "),
            Err(TextError::EmptyQuery)
        ));
        let garbage = [
            "\"a:b\" OR (x* AND",
            "\\",
            "😀",
            "🏥 病院 😀",
            "*:*",
            "name:pcu",
            "AND OR NOT",
            "+-&&||!(){}[]^\"~*?:\\/",
            "\u{0}\u{1}\u{7f}",
            "゛゜ー々〆ヽ",
        ];
        for q in garbage {
            assert!(idx.search(q).is_ok(), "{q:?}");
        }
        let long: String = "a:(\"*ｱ😀病\\".chars().cycle().take(200).collect();
        assert!(idx.search(&long).is_ok());
        assert_eq!(set(&idx, "\\"), ords(&[]));
        assert_eq!(set(&idx, "😀"), ords(&[]));
        // Garbage around a real word does not hide it.
        assert_eq!(set(&idx, "「歯科」 😀"), ords(&[106, 113]));
    }

    // --- brute-force oracle --------------------------------------------------------------

    /// Break-free segments; in a name or reading (`names`), whitespace between two non-ASCII
    /// letters is no break.
    fn segments_of(text: &str, names: bool) -> Vec<String> {
        let text = if names {
            let chars: Vec<char> = normalize(text).chars().collect();
            let jp = |c: Option<&char>| c.is_some_and(|c| c.is_alphanumeric() && !c.is_ascii());
            let mut out = String::new();
            let mut i = 0;
            while i < chars.len() {
                if chars[i].is_whitespace() && jp(i.checked_sub(1).and_then(|p| chars.get(p))) {
                    let mut j = i;
                    while j < chars.len() && chars[j].is_whitespace() {
                        j += 1;
                    }
                    if jp(chars.get(j)) {
                        i = j;
                        continue;
                    }
                }
                out.push(chars[i]);
                i += 1;
            }
            out
        } else {
            text.to_string()
        };
        let text = text.as_str();
        normalize(text)
            .split(|c: char| !c.is_alphanumeric())
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    }

    /// Whether `word` occurs in `seg` without cutting an ASCII run (ASCII runs are tokens).
    fn seg_contains(seg: &str, word: &str) -> bool {
        let first = word
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric());
        let last = word
            .chars()
            .next_back()
            .is_some_and(|c| c.is_ascii_alphanumeric());
        seg.char_indices().any(|(i, _)| {
            seg[i..].starts_with(word) && {
                let before = seg[..i].chars().next_back();
                let after = seg[i + word.len()..].chars().next();
                !joins_ascii(first, before) && !joins_ascii(last, after)
            }
        })
    }

    fn doc_fields(d: &TextDoc) -> [&str; 5] {
        [&d.name, &d.kana, &d.services, &d.address, &d.notes]
    }

    fn brute(docs: &[TextDoc], word: &str) -> BTreeSet<u32> {
        docs.iter()
            .filter(|d| {
                doc_fields(d).iter().enumerate().any(|(i, f)| {
                    segments_of(f, i < NAME_FIELDS)
                        .iter()
                        .any(|s| seg_contains(s, word))
                })
            })
            .map(|d| d.ord)
            .collect()
    }

    /// Every 1–4 character substring of every segment of every field that has no synonym.
    fn oracle_words(docs: &[TextDoc]) -> Vec<String> {
        let mut words = BTreeSet::new();
        for d in docs {
            for (i, f) in doc_fields(d).iter().enumerate() {
                for seg in segments_of(f, i < NAME_FIELDS) {
                    let chars: Vec<char> = seg.chars().collect();
                    for len in 1..=4 {
                        for w in chars.windows(len) {
                            let w: String = w.iter().collect();
                            if synonyms(&w).len() == 1 {
                                words.insert(w);
                            }
                        }
                    }
                }
            }
        }
        words.into_iter().collect()
    }

    #[test]
    fn oracle_single_words() {
        let docs = fixture();
        let idx = TextIndex::build(docs.clone()).unwrap();
        let words = oracle_words(&docs);
        assert!(words.len() > 1000, "{}", words.len());
        for w in &words {
            assert_eq!(set(&idx, w), brute(&docs, w), "query {w:?}");
        }
    }

    #[test]
    fn oracle_word_pairs() {
        let docs = fixture();
        let idx = TextIndex::build(docs.clone()).unwrap();
        let words = oracle_words(&docs);
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        for _ in 0..500 {
            let (a, b) = (&words[next(words.len())], &words[next(words.len())]);
            let want: BTreeSet<u32> = brute(&docs, a)
                .intersection(&brute(&docs, b))
                .copied()
                .collect();
            assert_eq!(set(&idx, &format!("{a} {b}")), want, "query {a:?} {b:?}");
        }
    }

    #[test]
    fn oracle_repeated_characters() {
        let docs = vec![
            doc(1, "ささささ", "", "", "", ""),
            doc(2, "さささ", "", "", "", ""),
            doc(3, "ささ さささ", "", "", "", ""),
            doc(4, "ーーーーー", "", "", "", ""),
            doc(5, "ab ab", "", "", "", ""),
        ];
        let idx = TextIndex::build(docs.clone()).unwrap();
        for w in [
            "さ",
            "ささ",
            "さささ",
            "ささささ",
            "さささささ",
            "ーー",
            "ーーーー",
            "ab",
            "ab ab",
        ] {
            let want: BTreeSet<u32> = w
                .split(' ')
                .map(|w| brute(&docs, w))
                .reduce(|a, b| a.intersection(&b).copied().collect())
                .unwrap();
            assert_eq!(set(&idx, w), want, "query {w:?}");
        }
    }
}

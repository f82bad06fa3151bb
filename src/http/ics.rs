//! A small iCalendar (RFC 5545) writer for the events feed: text escaping, CRLF line ends and
//! 75-octet folding that never splits a UTF-8 character. Written by hand: the feed needs a
//! handful of properties, and every byte of it is checked by an independent parser in tests.

/// An iCalendar document being written.
#[derive(Default)]
pub struct Ics {
    out: String,
}

/// A TEXT value with `\`, `;`, `,` and newlines escaped.
pub fn text(v: &str) -> String {
    let mut s = String::with_capacity(v.len());
    for c in v.replace("\r\n", "\n").chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            ';' => s.push_str("\\;"),
            ',' => s.push_str("\\,"),
            '\n' | '\r' => s.push_str("\\n"),
            c if c.is_control() => {}
            c => s.push(c),
        }
    }
    s
}

impl Ics {
    /// One content line `name:value` (name may carry parameters), folded: at most 75 octets
    /// a line, never inside a character, and never next to whitespace (lenient readers trim
    /// the physical lines while unfolding).
    pub fn line(&mut self, name: &str, value: &str) {
        let chars: Vec<char> = format!("{name}:{value}").chars().collect();
        let (mut i, mut first) = (0, true);
        while i < chars.len() {
            let budget = if first { 75 } else { 74 };
            let (mut j, mut width) = (i, 0);
            while j < chars.len() && width + chars[j].len_utf8() <= budget {
                width += chars[j].len_utf8();
                j += 1;
            }
            let blank = |c: char| matches!(c, ' ' | '\t');
            while j < chars.len() && j > i + 1 && (blank(chars[j]) || blank(chars[j - 1])) {
                j -= 1;
            }
            if !first {
                self.out.push(' ');
            }
            self.out.extend(&chars[i..j]);
            self.out.push_str("\r\n");
            i = j;
            first = false;
        }
    }

    /// A TEXT property.
    pub fn text(&mut self, name: &str, value: &str) {
        self.line(name, &text(value));
    }

    pub fn finish(self) -> String {
        self.out
    }
}

/// The time zone every event is in (Japan has had no daylight saving since 1951).
pub fn tokyo_timezone(ics: &mut Ics) {
    ics.line("BEGIN", "VTIMEZONE");
    ics.line("TZID", "Asia/Tokyo");
    ics.line("BEGIN", "STANDARD");
    ics.line("DTSTART", "19700101T000000");
    ics.line("TZOFFSETFROM", "+0900");
    ics.line("TZOFFSETTO", "+0900");
    ics.line("TZNAME", "JST");
    ics.line("END", "STANDARD");
    ics.line("END", "VTIMEZONE");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_at_75_octets_without_splitting_characters() {
        let mut ics = Ics::default();
        let long = "緩和ケア研修会、 a b".repeat(20);
        ics.text("SUMMARY", &long);
        let out = ics.finish();
        for l in out.split("\r\n") {
            assert!(l.len() <= 75, "{l}");
        }
        assert!(!out.contains("\r\n  ") && !out.contains(" \r\n"));
        let unfolded = out.replace("\r\n ", "");
        assert_eq!(unfolded, format!("SUMMARY:{}\r\n", text(&long)));
        assert_eq!(text("a,b;c\\d\ne"), "a\\,b\\;c\\\\d\\ne");
    }
}

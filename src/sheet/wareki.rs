//! Dates as Japanese offices write them: ISO (2024-04-01), slashes (2024/4/1), 西暦 with kanji
//! (2024年4月1日) and 和暦 (令和6年4月1日, 令和元年5月1日, R6.4.1, R06.04.01, H31/4/30).
//! The era must cover the date: 平成31年5月1日 does not exist (令和元年 began that day).

use time::{Date, Month};

/// An era: its names and its first day.
struct Era {
    kanji: &'static str,
    letter: char,
    start: (i32, u8, u8),
    /// The day after its last (the next era's first), or none for the current one.
    end: Option<(i32, u8, u8)>,
}

const ERAS: &[Era] = &[
    Era {
        kanji: "令和",
        letter: 'R',
        start: (2019, 5, 1),
        end: None,
    },
    Era {
        kanji: "平成",
        letter: 'H',
        start: (1989, 1, 8),
        end: Some((2019, 5, 1)),
    },
    Era {
        kanji: "昭和",
        letter: 'S',
        start: (1926, 12, 25),
        end: Some((1989, 1, 8)),
    },
];

fn ymd(y: i32, m: u8, d: u8) -> Option<Date> {
    Date::from_calendar_date(y, Month::try_from(m).ok()?, d).ok()
}

/// Three numbers separated by `-`, `/`, `.` or 年/月/日 (with an optional trailing 日).
fn numbers(s: &str) -> Option<(i64, u8, u8)> {
    let s = s.trim().trim_end_matches('日');
    let parts: Vec<&str> = s
        .split(['-', '/', '.', '年', '月'])
        .map(str::trim)
        .collect();
    let [y, m, d] = parts.as_slice() else {
        return None;
    };
    let y = if *y == "元" { 1 } else { y.parse().ok()? };
    Some((y, m.parse().ok()?, d.parse().ok()?))
}

/// A date in any of the forms above, as `YYYY-MM-DD`; `None` when it is not one.
pub fn parse(text: &str) -> Option<String> {
    use unicode_normalization::UnicodeNormalization;
    let s: String = text.trim().nfkc().collect();
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    for era in ERAS {
        let rest = s
            .strip_prefix(era.kanji)
            .or_else(|| s.strip_prefix(era.letter))
            .or_else(|| s.strip_prefix(era.letter.to_ascii_lowercase()));
        if let Some(rest) = rest {
            let (y, m, d) = numbers(rest)?;
            if y < 1 {
                return None;
            }
            let year = era.start.0 + (y as i32) - 1;
            let date = ymd(year, m, d)?;
            let first = ymd(era.start.0, era.start.1, era.start.2)?;
            let past = era.end.and_then(|(y, m, d)| ymd(y, m, d));
            if date < first || past.is_some_and(|p| date >= p) {
                return None;
            }
            return Some(date.to_string());
        }
    }
    let (y, m, d) = numbers(s)?;
    if !(1000..=9999).contains(&y) {
        return None;
    }
    ymd(y as i32, m, d).map(|d| d.to_string())
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn western_and_japanese_calendar_dates() {
        for (text, want) in [
            ("2024-04-01", "2024-04-01"),
            ("2024/4/1", "2024-04-01"),
            ("2024年4月1日", "2024-04-01"),
            ("２０２４／０４／０１", "2024-04-01"),
            ("令和6年4月1日", "2024-04-01"),
            ("令和元年5月1日", "2019-05-01"),
            ("R6.4.1", "2024-04-01"),
            ("R06.04.01", "2024-04-01"),
            ("r6/4/1", "2024-04-01"),
            ("Ｒ６．４．１", "2024-04-01"),
            ("H31.4.30", "2019-04-30"),
            ("平成31年4月30日", "2019-04-30"),
            ("昭和64年1月7日", "1989-01-07"),
            ("平成元年1月8日", "1989-01-08"),
        ] {
            assert_eq!(parse(text).as_deref(), Some(want), "{text}");
        }
        for bad in [
            "",
            "令和",
            "2024-02-30",
            "平成31年5月1日",
            "令和1年4月30日",
            "昭和64年1月8日",
            "R0.1.1",
            "24-04-01",
            "2024-04",
            "明日",
            "T10.1.1",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}

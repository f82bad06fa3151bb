//! Query-string parsing with exact, fix-it error messages. Unknown parameters are rejected so
//! a typo (`limt=5`) is reported instead of silently ignored.

use super::error::ApiError;

pub struct Params {
    pairs: Vec<(String, String)>,
}

/// Decode one `application/x-www-form-urlencoded` component strictly: `+` is a space, `%` must
/// be followed by two hex digits, and the bytes must be UTF-8. A lenient decoder would turn
/// `q=%ZZ` into a search for the literal text and answer 200 with nothing found.
fn decode(raw: &str) -> Result<String, String> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => out.push(b),
                    None => {
                        let bad: String = raw[i..].chars().take(3).collect();
                        return Err(format!(
                            "`{bad}` is not percent-encoding: `%` must be followed by two hex digits (write `%25` for a literal %)."
                        ));
                    }
                }
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out)
        .map_err(|_| "the percent-encoded bytes are not UTF-8; encode text as UTF-8.".to_string())
}

impl Params {
    pub fn parse(query: &str, allowed: &[&str]) -> Result<Params, ApiError> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for part in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            let k = decode(k).map_err(|e| {
                ApiError::bad_parameter("query", format!("The query string cannot be decoded: {e}"))
            })?;
            let v = decode(v).map_err(|e| {
                ApiError::bad_parameter(&k, format!("`{k}` cannot be decoded: {e}"))
            })?;
            pairs.push((k, v));
        }
        for (i, (k, _)) in pairs.iter().enumerate() {
            if !allowed.contains(&k.as_str()) {
                let valid = if allowed.is_empty() {
                    "This endpoint takes no parameters.".to_string()
                } else {
                    format!("Valid parameters: {}.", allowed.join(", "))
                };
                return Err(ApiError::bad_parameter(
                    k,
                    format!("Unknown parameter `{k}`. {valid}"),
                ));
            }
            if pairs[..i].iter().any(|(p, _)| p == k) {
                return Err(ApiError::bad_parameter(
                    k,
                    format!(
                        "Parameter `{k}` is given twice; give it once (lists are comma-separated)."
                    ),
                ));
            }
        }
        Ok(Params { pairs })
    }

    /// A parameter's value; an empty value counts as absent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// Present with an empty value (`limit=`): for numbers that is a mistake, not "absent".
    pub fn is_blank(&self, name: &str) -> bool {
        self.pairs
            .iter()
            .any(|(k, v)| k == name && v.trim().is_empty())
    }

    /// A comma-separated list whose every item must parse.
    pub fn list<T>(
        &self,
        name: &str,
        parse: impl Fn(&str) -> Option<T>,
        valid: impl Fn() -> String,
    ) -> Result<Vec<T>, ApiError> {
        let Some(raw) = self.get(name) else {
            return Ok(Vec::new());
        };
        raw.split(',')
            .map(str::trim)
            .map(|item| {
                // `kind=,` or `kind=a,,b` is a mistake, not "no filter" (schemathesis found
                // `municipality=,` answering every facility).
                if item.is_empty() {
                    return Err(ApiError::bad_parameter(
                        name,
                        format!(
                            "`{name}` has an empty item: separate the values with single commas, or leave `{name}` out."
                        ),
                    ));
                }
                parse(item).ok_or_else(|| {
                    ApiError::bad_parameter(
                        name,
                        format!(
                            "Unknown value `{item}` for `{name}`. Valid values: {}.",
                            valid()
                        ),
                    )
                })
            })
            .collect()
    }

    /// An integer in `min..=max`, or `default` when absent.
    /// A yes/no flag: `true`/`1` or `false`/`0`; absent is false.
    pub fn flag(&self, name: &str) -> Result<bool, ApiError> {
        match self.get(name) {
            None => Ok(false),
            Some("true" | "1") => Ok(true),
            Some("false" | "0") => Ok(false),
            Some(other) => Err(ApiError::bad_parameter(
                name,
                format!("`{name}` is true or false; got `{other}`."),
            )),
        }
    }

    pub fn int_in(
        &self,
        name: &str,
        min: usize,
        max: usize,
        default: usize,
    ) -> Result<usize, ApiError> {
        let Some(raw) = self.get(name) else {
            if self.is_blank(name) {
                return Err(ApiError::bad_parameter(
                    name,
                    format!(
                        "`{name}` is empty: give an integer from {min} to {max}, or leave it out."
                    ),
                ));
            }
            return Ok(default);
        };
        match raw.parse::<usize>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(ApiError::bad_parameter(
                name,
                format!("`{name}` must be an integer from {min} to {max}; got `{raw}`."),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_decoding() {
        assert_eq!(decode("a+b%E7%97%85").unwrap(), "a b病");
        assert_eq!(decode("%25").unwrap(), "%");
        assert!(decode("%ZZ").unwrap_err().contains("`%ZZ`"));
        assert!(decode("%E").is_err());
        assert!(decode("%FF%FE").unwrap_err().contains("UTF-8"));
        let e = Params::parse("q=%ZZ", &["q"]).err().unwrap();
        assert_eq!(e.status.as_u16(), 400);
        let p = Params::parse("kind=a,,b&service=,", &["kind", "service"]).unwrap();
        for name in ["kind", "service"] {
            let e = p
                .list(name, |s| Some(s.to_string()), String::new)
                .unwrap_err();
            assert_eq!(
                (e.status.as_u16(), e.detail.as_str()),
                (
                    400,
                    format!("`{name}` has an empty item: separate the values with single commas, or leave `{name}` out.").as_str()
                )
            );
        }
        assert_eq!(
            p.list("absent", |s| Some(s.to_string()), String::new)
                .unwrap(),
            Vec::<String>::new()
        );
        let e = Params::parse("x=1", &[]).err().unwrap();
        assert_eq!(
            e.detail,
            "Unknown parameter `x`. This endpoint takes no parameters."
        );
    }
}

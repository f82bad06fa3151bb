//! Query-string parsing with exact, fix-it error messages. Unknown parameters are rejected so
//! a typo (`limt=5`) is reported instead of silently ignored.

use super::error::ApiError;

pub struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    pub fn parse(query: &str, allowed: &[&str]) -> Result<Params, ApiError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).map_err(|e| {
            ApiError::bad_parameter("query", format!("The query string cannot be decoded: {e}"))
        })?;
        for (i, (k, _)) in pairs.iter().enumerate() {
            if !allowed.contains(&k.as_str()) {
                return Err(ApiError::bad_parameter(
                    k,
                    format!(
                        "Unknown parameter `{k}`. Valid parameters: {}.",
                        allowed.join(", ")
                    ),
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
            .filter(|s| !s.is_empty())
            .map(|item| {
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
    pub fn int_in(
        &self,
        name: &str,
        min: usize,
        max: usize,
        default: usize,
    ) -> Result<usize, ApiError> {
        let Some(raw) = self.get(name) else {
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

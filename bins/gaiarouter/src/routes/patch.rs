//! PATCH semantics for nullable fields: absent = leave alone, `null` = clear, a value = set.

use serde::{Deserialize, Deserializer};

/// Use with `#[serde(default, deserialize_with = "patch::nullable")]` on an `Option<Option<T>>`.
pub fn nullable<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// An integer as JSON Schema (and so the OpenAPI document) defines one: any number with no fractional
/// part, `14` or `14.0` or `1.4e1`. serde's `i64` takes only the first spelling, yet clients generated from
/// the document, JavaScript above all, may send the others.
struct Integer(i64);

impl<'de> Deserialize<'de> for Integer {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = i64;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an integer")
            }

            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<i64, E> {
                Ok(v)
            }

            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<i64, E> {
                i64::try_from(v).map_err(|_| E::custom(format!("integer {v} is too large")))
            }

            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<i64, E> {
                // Up to 2^53 every integer has its own float; beyond, a float stands for many
                // integers (and a number below i64::MIN would read as i64::MIN).
                const EXACT: f64 = 9_007_199_254_740_992.0;
                if v.is_finite() && v.fract() == 0.0 && v.abs() <= EXACT {
                    Ok(v as i64)
                } else {
                    Err(E::invalid_type(serde::de::Unexpected::Float(v), &self))
                }
            }
        }
        deserializer.deserialize_any(Visitor).map(Integer)
    }
}

/// An optional integer field (`14`, `14.0`); use with `#[serde(default, deserialize_with = "patch::integer")]`.
pub fn integer<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    Option::<Integer>::deserialize(deserializer).map(|v| v.map(|i| i.0))
}

/// [`nullable`] for an integer field: absent = leave alone, `null` = clear, `14` or `14.0` = set.
pub fn nullable_integer<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<i64>>, D::Error> {
    integer(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Body {
        #[serde(default, deserialize_with = "integer")]
        n: Option<i64>,
        #[serde(default, deserialize_with = "nullable_integer")]
        m: Option<Option<i64>>,
    }

    fn parse(s: &str) -> Result<Body, serde_json::Error> {
        serde_json::from_str(s)
    }

    #[test]
    fn integers_may_be_written_as_numbers_without_a_fraction() {
        assert_eq!(parse(r#"{"n": 52376.0}"#).unwrap().n, Some(52376));
        assert_eq!(parse(r#"{"n": 1.4e1}"#).unwrap().n, Some(14));
        assert_eq!(parse(r#"{"n": -3}"#).unwrap().n, Some(-3));
        assert_eq!(parse(r#"{}"#).unwrap().n, None);
        assert_eq!(parse(r#"{"m": null}"#).unwrap().m, Some(None));
        assert_eq!(parse(r#"{"m": 7.0}"#).unwrap().m, Some(Some(7)));
        assert_eq!(parse(r#"{}"#).unwrap().m, None);
        for bad in [
            r#"{"n": 1.5}"#,
            r#"{"n": "3"}"#,
            r#"{"n": 1e19}"#,
            r#"{"n": -9223372036854775809}"#,
            r#"{"n": 1e16}"#,
            r#"{"n": 18446744073709551615}"#,
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}

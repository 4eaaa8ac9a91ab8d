//! Money: integer nano-dollars (10⁻⁹ USD) everywhere inside GaiaRouter, so sums over millions of records
//! are exact; US dollars (`f64`) only at the API's edge. The two conversions live here and nowhere else.

use serde::{Deserialize, Serialize};

/// An amount of money in nano-dollars.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Nanos(pub i64);

impl Nanos {
    /// US dollars, rounded to the nearest nano-dollar; `None` for what is not a finite amount that fits.
    pub fn from_usd(usd: f64) -> Option<Self> {
        let nanos = (usd * 1e9).round();
        (nanos.is_finite() && nanos >= i64::MIN as f64 && nanos <= i64::MAX as f64)
            .then_some(Nanos(nanos as i64))
    }

    /// The amount in US dollars, as the API shows it.
    pub fn usd(self) -> f64 {
        self.0 as f64 / 1e9
    }
}

impl std::fmt::Display for Nanos {
    /// `$12.50`: for messages.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "${:.2}", self.usd())
    }
}

/// Nano-dollars as US dollars (the API's unit).
pub fn usd(nanos: i64) -> f64 {
    Nanos(nanos).usd()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usd_and_nanos_convert_both_ways_exactly_where_a_float_can() {
        assert_eq!(Nanos::from_usd(12.5), Some(Nanos(12_500_000_000)));
        assert_eq!(Nanos::from_usd(0.000_000_001), Some(Nanos(1)));
        assert_eq!(Nanos(2_550).usd(), 0.000_002_55);
        assert_eq!(usd(1_500_000_000), 1.5);
        assert_eq!(Nanos::from_usd(f64::NAN), None);
        assert_eq!(Nanos::from_usd(1e300), None);
        assert_eq!(Nanos(12_500_000_000).to_string(), "$12.50");
    }
}

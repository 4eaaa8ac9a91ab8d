//! The parameters of a statistics or request-log query, parsed and validated once: periods, grouping,
//! scopes and status filters. Every failure is a 400 naming the parameter at fault.

use chrono::{DateTime, Datelike, Days, NaiveDate, NaiveDateTime, TimeDelta, Utc};
use gaia_core::{GaiaError, InboundApi};
use gaia_store::usage::StatusFilter;

/// The default statistics period: the last 30 days, today included.
pub const DEFAULT_PERIOD_DAYS: u64 = 30;
/// The longest period a statistics query may cover (about ten years of days).
pub const MAX_PERIOD_DAYS: i64 = 3660;

/// Whose usage a statistics query covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Global,
    Organization(String),
    ApiKey(String),
}

/// An inclusive range of UTC days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

/// A parsed `start_date` / `end_date` value: a day, or an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    Date(NaiveDate),
    Instant(DateTime<Utc>),
}

impl Bound {
    /// Parses an ISO 8601 date (`2026-11-27`) or date-time (`2026-11-27T10:00:00Z`, with any offset, or
    /// without one meaning UTC).
    pub fn parse(value: &str, param: &str) -> Result<Self, GaiaError> {
        let v = value.trim();
        if let Ok(d) = NaiveDate::parse_from_str(v, "%Y-%m-%d") {
            return Ok(Bound::Date(d));
        }
        if let Ok(t) = DateTime::parse_from_rfc3339(v) {
            return Ok(Bound::Instant(t.with_timezone(&Utc)));
        }
        for format in [
            "%Y-%m-%dT%H:%M:%S%.f",
            "%Y-%m-%d %H:%M:%S%.f",
            "%Y-%m-%dT%H:%M",
            "%Y-%m-%d %H:%M",
        ] {
            if let Ok(t) = NaiveDateTime::parse_from_str(v, format) {
                return Ok(Bound::Instant(t.and_utc()));
            }
        }
        Err(GaiaError::invalid_request(format!(
            "`{param}` must be an ISO 8601 date (YYYY-MM-DD) or date-time (YYYY-MM-DDTHH:MM:SSZ), got '{value}'"
        ))
        .with_param(param))
    }

    /// The UTC day of the bound.
    pub fn day(self) -> NaiveDate {
        match self {
            Bound::Date(d) => d,
            Bound::Instant(t) => t.date_naive(),
        }
    }
}

/// Two well-formed dates in the wrong order: refused by a rule no schema can state, so 422 (a date that
/// does not parse is a 400).
fn reversed(start: &str, end: &str) -> GaiaError {
    GaiaError::unprocessable(format!(
        "`start_date` ({start}) is after `end_date` ({end})"
    ))
    .with_param("start_date")
    .with_code("invalid_request")
}

impl Period {
    /// Parses `start_date` and `end_date`, both inclusive. Date-times count for their whole UTC day
    /// (statistics are kept per day). Missing `end_date` means today; missing `start_date` means 29 days
    /// before the end, so the default is the last 30 days.
    pub fn parse(
        start: Option<&str>,
        end: Option<&str>,
        today: NaiveDate,
    ) -> Result<Self, GaiaError> {
        let end = match end.filter(|s| !s.trim().is_empty()) {
            Some(s) => Bound::parse(s, "end_date")?.day(),
            None => today,
        };
        let start = match start.filter(|s| !s.trim().is_empty()) {
            Some(s) => Bound::parse(s, "start_date")?.day(),
            None => end
                .checked_sub_days(Days::new(DEFAULT_PERIOD_DAYS - 1))
                .unwrap_or(NaiveDate::MIN),
        };
        Self::new(start, end)
    }

    pub fn new(start: NaiveDate, end: NaiveDate) -> Result<Self, GaiaError> {
        if start > end {
            return Err(reversed(&start.to_string(), &end.to_string()));
        }
        if (end - start).num_days() >= MAX_PERIOD_DAYS {
            return Err(GaiaError::unprocessable(format!(
                "a statistics period may cover at most {MAX_PERIOD_DAYS} days"
            ))
            .with_param("start_date")
            .with_code("invalid_request"));
        }
        Ok(Self { start, end })
    }

    /// Every day of the period, in order.
    pub fn days(self) -> impl Iterator<Item = NaiveDate> {
        self.start.iter_days().take_while(move |d| *d <= self.end)
    }
}

/// A request-log time range: inclusive start, exclusive end (either open).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TimeRange {
    pub start: Option<DateTime<Utc>>,
    pub end_before: Option<DateTime<Utc>>,
}

impl TimeRange {
    /// Parses `start_date` and `end_date`, both inclusive: a date start means its midnight, a date end
    /// means the whole day; date-times are exact.
    pub fn parse(start: Option<&str>, end: Option<&str>) -> Result<Self, GaiaError> {
        let (start_raw, end_raw) = (start, end);
        let start_bound = start
            .filter(|s| !s.trim().is_empty())
            .map(|s| Bound::parse(s, "start_date"))
            .transpose()?;
        let end_bound = end
            .filter(|s| !s.trim().is_empty())
            .map(|s| Bound::parse(s, "end_date"))
            .transpose()?;
        let start = start_bound.map(|b| match b {
            Bound::Date(d) => d.and_time(chrono::NaiveTime::MIN).and_utc(),
            Bound::Instant(t) => t,
        });
        // Stored timestamps have microsecond precision: "up to and including t" is "before t + 1 µs".
        let end_before = end_bound.map(|b| match b {
            Bound::Date(d) => d
                .succ_opt()
                .unwrap_or(NaiveDate::MAX)
                .and_time(chrono::NaiveTime::MIN)
                .and_utc(),
            Bound::Instant(t) => t + TimeDelta::microseconds(1),
        });
        if let (Some(s), Some(e)) = (start, end_before)
            && s >= e
        {
            return Err(reversed(
                start_raw.unwrap_or_default(),
                end_raw.unwrap_or_default(),
            ));
        }
        Ok(Self { start, end_before })
    }
}

/// How `by_date` is bucketed, or which breakdown a CSV export lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GroupBy {
    #[default]
    Day,
    /// ISO weeks, starting on Monday; labelled by their Monday.
    Week,
    /// Calendar months, labelled `YYYY-MM`.
    Month,
    Model,
    Provider,
}

impl GroupBy {
    pub const ALL: [GroupBy; 5] = [
        GroupBy::Day,
        GroupBy::Week,
        GroupBy::Month,
        GroupBy::Model,
        GroupBy::Provider,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            GroupBy::Day => "day",
            GroupBy::Week => "week",
            GroupBy::Month => "month",
            GroupBy::Model => "model",
            GroupBy::Provider => "provider",
        }
    }

    /// Parses `group_by` (default `day`).
    pub fn parse(value: Option<&str>) -> Result<Self, GaiaError> {
        let Some(v) = value.filter(|s| !s.is_empty()) else {
            return Ok(GroupBy::Day);
        };
        GroupBy::ALL
            .into_iter()
            .find(|g| g.as_str() == v)
            .ok_or_else(|| {
                GaiaError::invalid_request(format!(
                    "`group_by` must be one of day, week, month, model, provider; got '{v}'"
                ))
                .with_param("group_by")
            })
    }

    /// The `by_date` bucket label of a day: the day, its week's Monday, or its month. (Model and
    /// provider groupings keep `by_date` per day.)
    pub fn bucket(self, day: NaiveDate) -> String {
        match self {
            GroupBy::Week => {
                let monday = day - TimeDelta::days(i64::from(day.weekday().num_days_from_monday()));
                monday.format("%Y-%m-%d").to_string()
            }
            GroupBy::Month => day.format("%Y-%m").to_string(),
            GroupBy::Day | GroupBy::Model | GroupBy::Provider => day.format("%Y-%m-%d").to_string(),
        }
    }
}

/// Parses a request-log `status` filter: `success` (< 400), `error` (>= 400) or an HTTP status code.
pub fn parse_status(value: Option<&str>) -> Result<Option<StatusFilter>, GaiaError> {
    let Some(v) = value.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    match v {
        "success" => Ok(Some(StatusFilter::Success)),
        "error" => Ok(Some(StatusFilter::Error)),
        code => match code.parse::<u16>() {
            Ok(c) if (100..=599).contains(&c) => Ok(Some(StatusFilter::Code(c))),
            _ => Err(GaiaError::invalid_request(format!(
                "`status` must be 'success', 'error' or an HTTP status code, got '{v}'"
            ))
            .with_param("status")),
        },
    }
}

/// Parses a request-log `api` filter: an inbound API's wire name (`chat.completions`, `messages`,
/// `responses`, `embeddings`). Surrounding spaces are ignored; empty means any.
pub fn parse_api(value: Option<&str>) -> Result<Option<InboundApi>, GaiaError> {
    let Some(v) = value.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    InboundApi::parse(v).map(Some).ok_or_else(|| {
        let names: Vec<&str> = InboundApi::ALL.iter().map(|a| a.as_str()).collect();
        GaiaError::invalid_request(format!(
            "`api` must be one of {}; got '{v}'",
            names.join(", ")
        ))
        .with_param("api")
    })
}

/// The first day of the month `day` falls in.
pub fn month_start(day: NaiveDate) -> NaiveDate {
    day.with_day(1).unwrap_or(day)
}

/// The last day of the month `day` falls in.
pub fn month_end(day: NaiveDate) -> NaiveDate {
    month_start(day)
        .checked_add_months(chrono::Months::new(1))
        .and_then(|d| d.pred_opt())
        .unwrap_or(day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn the_default_period_is_the_last_30_days_including_today() {
        let p = Period::parse(None, None, d("2026-11-27")).unwrap();
        assert_eq!(p.start, d("2026-10-29"));
        assert_eq!(p.end, d("2026-11-27"));
        assert_eq!(p.days().count(), 30);
    }

    #[test]
    fn dates_and_date_times_are_accepted_and_date_times_count_for_their_utc_day() {
        let p = Period::parse(
            Some("2026-11-01T23:30:00-02:00"),
            Some("2026-11-05T10:00:00"),
            d("2026-12-01"),
        )
        .unwrap();
        assert_eq!(p.start, d("2026-11-02"));
        assert_eq!(p.end, d("2026-11-05"));
        let only_end = Period::parse(None, Some("2026-02-10"), d("2026-12-01")).unwrap();
        assert_eq!(only_end.start, d("2026-01-12"));
    }

    #[test]
    fn reversed_dates_are_a_422_naming_start_date() {
        // Each date is well-formed (a 400 is for one that is not); their order is a rule no schema states.
        let err =
            Period::parse(Some("2026-11-05"), Some("2026-11-01"), d("2026-12-01")).unwrap_err();
        assert_eq!(err.status(), 422);
        assert_eq!(err.param.as_deref(), Some("start_date"));
        let err = TimeRange::parse(Some("2026-11-05T00:00:01Z"), Some("2026-11-05T00:00:00Z"))
            .unwrap_err();
        assert_eq!(err.status(), 422);
    }

    #[test]
    fn a_start_in_the_future_with_the_default_end_is_reversed() {
        assert!(Period::parse(Some("2030-01-01"), None, d("2026-01-01")).is_err());
    }

    #[test]
    fn invalid_dates_are_a_400_naming_the_parameter() {
        for bad in [
            "yesterday",
            "2026-13-01",
            "2026-02-30",
            "27/11/2026",
            "2026-11-27T25:00:00Z",
        ] {
            let err = Period::parse(None, Some(bad), d("2026-12-01")).unwrap_err();
            assert_eq!(err.status(), 400, "{bad}");
            assert_eq!(err.param.as_deref(), Some("end_date"), "{bad}");
        }
    }

    #[test]
    fn periods_longer_than_the_maximum_are_refused() {
        assert!(Period::parse(Some("2000-01-01"), Some("2026-01-01"), d("2026-01-01")).is_err());
        assert!(Period::parse(Some("2017-01-01"), Some("2026-01-01"), d("2026-01-01")).is_ok());
    }

    #[test]
    fn a_request_log_end_date_covers_its_whole_day_and_a_date_time_is_exact() {
        let r = TimeRange::parse(Some("2026-11-01"), Some("2026-11-02")).unwrap();
        assert_eq!(
            r.start,
            Some(Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap())
        );
        assert_eq!(
            r.end_before,
            Some(Utc.with_ymd_and_hms(2026, 11, 3, 0, 0, 0).unwrap())
        );
        let exact = TimeRange::parse(None, Some("2026-11-02T10:00:00Z")).unwrap();
        assert_eq!(
            exact.end_before,
            Some(Utc.with_ymd_and_hms(2026, 11, 2, 10, 0, 0).unwrap() + TimeDelta::microseconds(1))
        );
        assert_eq!(TimeRange::parse(None, None).unwrap(), TimeRange::default());
    }

    #[test]
    fn weeks_start_on_monday_and_months_are_calendar_months() {
        // 2026-11-29 is a Sunday, 2026-11-30 a Monday.
        assert_eq!(GroupBy::Week.bucket(d("2026-11-29")), "2026-11-23");
        assert_eq!(GroupBy::Week.bucket(d("2026-11-30")), "2026-11-30");
        assert_eq!(GroupBy::Week.bucket(d("2026-12-06")), "2026-11-30");
        // ISO week 1 of 2027 starts on Monday 2027-01-04; 2027-01-01 (Friday) belongs to 2026-12-28's week.
        assert_eq!(GroupBy::Week.bucket(d("2027-01-01")), "2026-12-28");
        assert_eq!(GroupBy::Month.bucket(d("2026-02-28")), "2026-02");
        assert_eq!(GroupBy::Day.bucket(d("2026-02-28")), "2026-02-28");
    }

    #[test]
    fn group_by_accepts_exactly_the_five_groupings() {
        assert_eq!(GroupBy::parse(None).unwrap(), GroupBy::Day);
        for g in GroupBy::ALL {
            assert_eq!(GroupBy::parse(Some(g.as_str())).unwrap(), g);
        }
        let err = GroupBy::parse(Some("hour")).unwrap_err();
        assert_eq!(err.param.as_deref(), Some("group_by"));
        assert!(GroupBy::parse(Some("Day")).is_err());
    }

    #[test]
    fn status_filters_are_success_error_or_a_code() {
        assert_eq!(
            parse_status(Some("success")).unwrap(),
            Some(StatusFilter::Success)
        );
        assert_eq!(
            parse_status(Some("error")).unwrap(),
            Some(StatusFilter::Error)
        );
        assert_eq!(
            parse_status(Some("429")).unwrap(),
            Some(StatusFilter::Code(429))
        );
        assert_eq!(parse_status(None).unwrap(), None);
        for bad in ["ok", "99", "600", "-1"] {
            assert!(parse_status(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn api_filters_are_the_wire_names_of_the_inbound_apis() {
        for api in InboundApi::ALL {
            assert_eq!(parse_api(Some(api.as_str())).unwrap(), Some(api));
        }
        assert_eq!(
            parse_api(Some(" messages ")).unwrap(),
            Some(InboundApi::Messages)
        );
        assert_eq!(parse_api(None).unwrap(), None);
        assert_eq!(parse_api(Some("  ")).unwrap(), None);
        for bad in ["bogus", "chat", "Messages", "chat_completions"] {
            let err = parse_api(Some(bad)).unwrap_err();
            assert_eq!(err.status(), 400, "{bad}");
            assert_eq!(err.param.as_deref(), Some("api"), "{bad}");
            assert!(err.message.contains("chat.completions"), "{}", err.message);
        }
    }

    #[test]
    fn month_bounds_handle_short_months_and_december() {
        assert_eq!(month_start(d("2028-02-15")), d("2028-02-01"));
        assert_eq!(month_end(d("2028-02-15")), d("2028-02-29"));
        assert_eq!(month_end(d("2026-12-31")), d("2026-12-31"));
    }
}

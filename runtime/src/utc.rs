//! Wall-clock times in UTC as vpl writes them: `2026-11-30T19:30:04.000Z` in event
//! messages and logs ([`iso8601`]), `20261130T193004.000Z` in the names of clips
//! ([`UtcTime::compact`]). One civil-date conversion serves both.

/// A moment as a civil date and time of day in UTC, to the millisecond.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UtcTime {
    pub year: i64,
    pub month: i64,
    pub day: i64,
    pub hour: i64,
    pub minute: i64,
    pub second: i64,
    pub millis: i64,
}

impl UtcTime {
    /// The moment `ms` milliseconds after 1970-01-01T00:00:00Z (before it when negative).
    pub fn from_unix_ms(ms: i64) -> UtcTime {
        let secs = ms.div_euclid(1000);
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        UtcTime {
            year: yoe + era * 400 + i64::from(month <= 2),
            month,
            day: doy - (153 * mp + 2) / 5 + 1,
            hour: rem / 3600,
            minute: rem % 3600 / 60,
            second: rem % 60,
            millis: ms.rem_euclid(1000),
        }
    }

    /// The wall clock now (1970-01-01 if the clock is set before it).
    pub fn now() -> UtcTime {
        let ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        UtcTime::from_unix_ms(ms)
    }

    /// `2026-11-30T19:30:04.000Z`.
    pub fn iso8601(&self) -> String {
        self.written("-", ":")
    }

    /// `20261130T193004.000Z`: ISO 8601's basic format, for file names.
    pub fn compact(&self) -> String {
        self.written("", "")
    }

    /// The date's fields joined by `date`, the time's by `time`.
    fn written(&self, date: &str, time: &str) -> String {
        format!(
            "{:04}{date}{:02}{date}{:02}T{:02}{time}{:02}{time}{:02}.{:03}Z",
            self.year, self.month, self.day, self.hour, self.minute, self.second, self.millis
        )
    }
}

/// `2026-11-30T19:30:04.000Z` for milliseconds since 1970 (UTC).
pub fn iso8601(ms: i64) -> String {
    UtcTime::from_unix_ms(ms).iso8601()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_utc_iso8601() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(951_782_400_123), "2000-02-29T00:00:00.123Z");
        assert_eq!(iso8601(1_796_067_004_000), "2026-11-30T19:30:04.000Z");
        assert_eq!(iso8601(-1), "1969-12-31T23:59:59.999Z");
    }

    #[test]
    fn clip_names_use_the_basic_format() {
        let t = UtcTime::from_unix_ms(1_796_067_004_042);
        assert_eq!(t.compact(), "20261130T193004.042Z");
        assert_eq!(
            UtcTime::from_unix_ms(951_782_400_123).compact(),
            "20000229T000000.123Z"
        );
    }
}

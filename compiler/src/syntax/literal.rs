//! Number tokens with their units (`4Mbps`, `30000/1001fps`, `1280x720`) → typed values.
//! An unknown unit or a malformed literal becomes a `LiteralError` (E0002).

/// A number literal as written, with the value it denotes.
#[derive(Debug, Clone, PartialEq)]
pub struct Literal {
    pub text: String,
    pub value: LitValue,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LitValue {
    Int(i64),
    Float(f64),
    /// Nanoseconds.
    Duration(i64),
    /// Bits per second.
    Bitrate(i64),
    /// Frames per second as a fraction `num/den`.
    Rate {
        num: u64,
        den: u64,
    },
    Resolution {
        width: u32,
        height: u32,
    },
    /// Already reported as E0002.
    Invalid,
}

impl LitValue {
    /// The unit family, as users call it in messages.
    pub fn kind_name(&self) -> &'static str {
        match self {
            LitValue::Int(_) => "an integer",
            LitValue::Float(_) => "a number",
            LitValue::Duration(_) => "a duration",
            LitValue::Bitrate(_) => "a bitrate",
            LitValue::Rate { .. } => "a frame rate",
            LitValue::Resolution { .. } => "a resolution",
            LitValue::Invalid => "an invalid literal",
        }
    }

    /// The value as a plain number, for range checks.
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            LitValue::Int(v) | LitValue::Duration(v) | LitValue::Bitrate(v) => Some(v as f64),
            LitValue::Float(v) => Some(v),
            LitValue::Rate { num, den } => Some(num as f64 / den as f64),
            LitValue::Resolution { .. } | LitValue::Invalid => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum LiteralError {
    UnknownUnit {
        unit: String,
        suggestion: Option<&'static str>,
    },
    /// `1280x`, `x720`, `12.5x720`, `640x640x3`
    MalformedResolution,
    /// `0fps`, `0/1fps`, `30/0fps`
    ZeroRate,
    /// `30000/1001` with no `fps`, or `1/2s`
    FractionWithoutFps,
    /// `1.5x` units that must be whole (`500.5ns`), or a number too large
    OutOfRange,
}

const DURATION_UNITS: &[(&str, i64)] = &[
    ("ns", 1),
    ("us", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
];
const BITRATE_UNITS: &[(&str, i64)] = &[
    ("bps", 1),
    ("kbps", 1_000),
    ("Mbps", 1_000_000),
    ("Gbps", 1_000_000_000),
];

/// Every unit suffix the language knows, for "did you mean".
pub const UNITS: &[&str] = &["ns", "us", "ms", "s", "bps", "kbps", "Mbps", "Gbps", "fps"];

/// Parses a `number` token.
pub fn parse_number(text: &str) -> Result<LitValue, LiteralError> {
    let (negative, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let digits_end = body
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '/'))
        .unwrap_or(body.len());
    let (number, unit) = body.split_at(digits_end);

    if let Some(height) = unit.strip_prefix('x') {
        return parse_resolution(negative, number, height);
    }
    if let Some((num, den)) = number.split_once('/') {
        if unit != "fps" {
            return Err(if UNITS.contains(&unit) || unit.is_empty() {
                LiteralError::FractionWithoutFps
            } else {
                unknown_unit(unit)
            });
        }
        let num: u64 = num.parse().map_err(|_| LiteralError::OutOfRange)?;
        let den: u64 = den.parse().map_err(|_| LiteralError::OutOfRange)?;
        if negative || num == 0 || den == 0 {
            return Err(LiteralError::ZeroRate);
        }
        return Ok(reduce(num, den));
    }
    let sign = if negative { -1 } else { 1 };
    match unit {
        "" => {
            if number.contains('.') {
                let v: f64 = number.parse().map_err(|_| LiteralError::OutOfRange)?;
                Ok(LitValue::Float(sign as f64 * v))
            } else {
                let v: i64 = number.parse().map_err(|_| LiteralError::OutOfRange)?;
                Ok(LitValue::Int(sign * v))
            }
        }
        "fps" => {
            let (num, den) = decimal_fraction(number)?;
            if negative || num == 0 {
                return Err(LiteralError::ZeroRate);
            }
            Ok(reduce(num, den))
        }
        _ => {
            if let Some(&(_, scale)) = DURATION_UNITS.iter().find(|(u, _)| *u == unit) {
                return Ok(LitValue::Duration(sign * scaled(number, scale)?));
            }
            if let Some(&(_, scale)) = BITRATE_UNITS.iter().find(|(u, _)| *u == unit) {
                return Ok(LitValue::Bitrate(sign * scaled(number, scale)?));
            }
            Err(unknown_unit(unit))
        }
    }
}

fn unknown_unit(unit: &str) -> LiteralError {
    LiteralError::UnknownUnit {
        unit: unit.to_string(),
        suggestion: crate::suggest::did_you_mean(unit, UNITS.iter().copied()),
    }
}

fn parse_resolution(negative: bool, width: &str, height: &str) -> Result<LitValue, LiteralError> {
    let whole = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if negative || !whole(width) || !whole(height) {
        return Err(LiteralError::MalformedResolution);
    }
    let width: u32 = width.parse().map_err(|_| LiteralError::OutOfRange)?;
    let height: u32 = height.parse().map_err(|_| LiteralError::OutOfRange)?;
    Ok(LitValue::Resolution { width, height })
}

/// `12.5` → (125, 10)
fn decimal_fraction(number: &str) -> Result<(u64, u64), LiteralError> {
    let (int, frac) = number.split_once('.').unwrap_or((number, ""));
    if frac.len() > 9 {
        return Err(LiteralError::OutOfRange);
    }
    let den = 10u64.pow(frac.len() as u32);
    let digits = format!("{int}{frac}");
    let num: u64 = digits.parse().map_err(|_| LiteralError::OutOfRange)?;
    Ok((num, den))
}

/// `1.5` with scale 1_000_000 → 1_500_000, exactly.
fn scaled(number: &str, scale: i64) -> Result<i64, LiteralError> {
    let (num, den) = decimal_fraction(number)?;
    let value = (num as i128) * (scale as i128);
    if value % (den as i128) != 0 {
        return Err(LiteralError::OutOfRange);
    }
    i64::try_from(value / den as i128).map_err(|_| LiteralError::OutOfRange)
}

fn reduce(num: u64, den: u64) -> LitValue {
    let g = gcd(num, den);
    LitValue::Rate {
        num: num / g,
        den: den / g,
    }
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units() {
        assert_eq!(parse_number("42"), Ok(LitValue::Int(42)));
        assert_eq!(parse_number("-1"), Ok(LitValue::Int(-1)));
        assert_eq!(parse_number("0.25"), Ok(LitValue::Float(0.25)));
        assert_eq!(parse_number("500ns"), Ok(LitValue::Duration(500)));
        assert_eq!(parse_number("20us"), Ok(LitValue::Duration(20_000)));
        assert_eq!(parse_number("40ms"), Ok(LitValue::Duration(40_000_000)));
        assert_eq!(parse_number("2s"), Ok(LitValue::Duration(2_000_000_000)));
        assert_eq!(parse_number("1.5s"), Ok(LitValue::Duration(1_500_000_000)));
        assert_eq!(parse_number("800bps"), Ok(LitValue::Bitrate(800)));
        assert_eq!(parse_number("500kbps"), Ok(LitValue::Bitrate(500_000)));
        assert_eq!(parse_number("4Mbps"), Ok(LitValue::Bitrate(4_000_000)));
        assert_eq!(parse_number("-4Mbps"), Ok(LitValue::Bitrate(-4_000_000)));
        assert_eq!(
            parse_number("30fps"),
            Ok(LitValue::Rate { num: 30, den: 1 })
        );
        assert_eq!(
            parse_number("12.5fps"),
            Ok(LitValue::Rate { num: 25, den: 2 })
        );
        assert_eq!(
            parse_number("30000/1001fps"),
            Ok(LitValue::Rate {
                num: 30000,
                den: 1001
            })
        );
        assert_eq!(
            parse_number("1280x720"),
            Ok(LitValue::Resolution {
                width: 1280,
                height: 720
            })
        );
    }

    #[test]
    fn malformed() {
        assert_eq!(
            parse_number("4Mbs"),
            Err(LiteralError::UnknownUnit {
                unit: "Mbs".into(),
                suggestion: Some("Mbps")
            })
        );
        assert_eq!(
            parse_number("4mbps"),
            Err(LiteralError::UnknownUnit {
                unit: "mbps".into(),
                suggestion: Some("Mbps")
            })
        );
        assert_eq!(
            parse_number("1280x"),
            Err(LiteralError::MalformedResolution)
        );
        assert_eq!(
            parse_number("640x640x3"),
            Err(LiteralError::MalformedResolution)
        );
        assert_eq!(parse_number("0fps"), Err(LiteralError::ZeroRate));
        assert_eq!(parse_number("30/0fps"), Err(LiteralError::ZeroRate));
        assert_eq!(
            parse_number("30000/1001"),
            Err(LiteralError::FractionWithoutFps)
        );
        assert_eq!(parse_number("1.5ns"), Err(LiteralError::OutOfRange));
        assert_eq!(
            parse_number("99999999999999999999"),
            Err(LiteralError::OutOfRange)
        );
        assert!(matches!(
            parse_number("3furlongs"),
            Err(LiteralError::UnknownUnit {
                suggestion: None,
                ..
            })
        ));
    }
}

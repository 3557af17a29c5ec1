//! PostgreSQL values to and from `spin:postgres@4` values: Spin's mapping,
//! column type by column type (dates and times as tuples, `timestamptz` as
//! seconds since the epoch, UUIDs and decimals as text, JSON as bytes,
//! ranges with their bound kinds, arrays of nullable elements, intervals).

use super::bindings::spin::postgres::postgres as v4;
use bytes::{BufMut, BytesMut};
use chrono::{Datelike, Timelike};
use rust_decimal::Decimal;
use std::error::Error as StdError;
use tokio_postgres::Row;
use tokio_postgres::types::{FromSql, IsNull, Kind, ToSql, Type, to_sql_checked};

type BoxError = Box<dyn StdError + Sync + Send>;

/// SQL `NULL` for a parameter of any type.
#[derive(Debug)]
struct Null;

impl ToSql for Null {
    fn to_sql(&self, _: &Type, _: &mut BytesMut) -> Result<IsNull, BoxError> {
        Ok(IsNull::Yes)
    }
    fn accepts(_: &Type) -> bool {
        true
    }
    to_sql_checked!();
}

/// An `interval`: microseconds, days and months, as PostgreSQL sends it.
#[derive(Debug, Clone, Copy)]
struct Interval(v4::Interval);

impl ToSql for Interval {
    fn to_sql(&self, _: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        out.put_i64(self.0.micros);
        out.put_i32(self.0.days);
        out.put_i32(self.0.months);
        Ok(IsNull::No)
    }
    fn accepts(ty: &Type) -> bool {
        *ty == Type::INTERVAL
    }
    to_sql_checked!();
}

impl<'a> FromSql<'a> for Interval {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        let raw: [u8; 16] = raw.try_into().map_err(|_| "an interval is 16 bytes")?;
        let (micros, rest) = raw.split_at(8);
        let (days, months) = rest.split_at(4);
        Ok(Self(v4::Interval {
            micros: i64::from_be_bytes(micros.try_into()?),
            days: i32::from_be_bytes(days.try_into()?),
            months: i32::from_be_bytes(months.try_into()?),
        }))
    }
    fn accepts(ty: &Type) -> bool {
        *ty == Type::INTERVAL
    }
}

type Bound<T> = Option<(T, v4::RangeBoundKind)>;

/// A range (`int4range`, `int8range`, `numrange`), in PostgreSQL's binary
/// format: flags, then each finite bound as a length-prefixed element.
#[derive(Debug, Clone)]
struct Range<T> {
    lower: Bound<T>,
    upper: Bound<T>,
}

const RANGE_EMPTY: u8 = 0x01;
const RANGE_LB_INC: u8 = 0x02;
const RANGE_UB_INC: u8 = 0x04;
const RANGE_LB_INF: u8 = 0x08;
const RANGE_UB_INF: u8 = 0x10;

fn member(ty: &Type) -> Option<&Type> {
    match ty.kind() {
        Kind::Range(member) => Some(member),
        _ => None,
    }
}

impl<T: ToSql> ToSql for Range<T> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        let member = member(ty).ok_or("not a range type")?;
        let inclusive = |b: &Bound<T>| matches!(b, Some((_, v4::RangeBoundKind::Inclusive)));
        let mut flags = 0;
        if self.lower.is_none() {
            flags |= RANGE_LB_INF;
        } else if inclusive(&self.lower) {
            flags |= RANGE_LB_INC;
        }
        if self.upper.is_none() {
            flags |= RANGE_UB_INF;
        } else if inclusive(&self.upper) {
            flags |= RANGE_UB_INC;
        }
        out.put_u8(flags);
        for (value, _) in [&self.lower, &self.upper].into_iter().flatten() {
            let at = out.len();
            out.put_i32(0);
            value.to_sql(member, out)?;
            let len = i32::try_from(out.len() - at - 4)?;
            out[at..at + 4].copy_from_slice(&len.to_be_bytes());
        }
        Ok(IsNull::No)
    }
    fn accepts(ty: &Type) -> bool {
        member(ty).is_some_and(T::accepts)
    }
    to_sql_checked!();
}

impl<'a, T: FromSql<'a>> FromSql<'a> for Range<T> {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        let member = member(ty).ok_or("not a range type")?;
        let (&flags, mut rest) = raw.split_first().ok_or("an empty range value")?;
        if flags & RANGE_EMPTY != 0 {
            return Ok(Self {
                lower: None,
                upper: None,
            });
        }
        let mut bound = |infinite: u8, inclusive: u8| -> Result<Bound<T>, BoxError> {
            if flags & infinite != 0 {
                return Ok(None);
            }
            let (len, tail) = rest.split_at_checked(4).ok_or("a truncated range")?;
            let len = usize::try_from(i32::from_be_bytes(len.try_into()?))?;
            let (value, tail) = tail.split_at_checked(len).ok_or("a truncated range")?;
            rest = tail;
            let kind = if flags & inclusive != 0 {
                v4::RangeBoundKind::Inclusive
            } else {
                v4::RangeBoundKind::Exclusive
            };
            Ok(Some((T::from_sql(member, value)?, kind)))
        };
        let lower = bound(RANGE_LB_INF, RANGE_LB_INC)?;
        let upper = bound(RANGE_UB_INF, RANGE_UB_INC)?;
        Ok(Self { lower, upper })
    }
    fn accepts(ty: &Type) -> bool {
        member(ty).is_some_and(T::accepts)
    }
}

fn bad(what: &str, value: impl std::fmt::Display) -> v4::Error {
    v4::Error::BadParameter(format!("invalid {what} {value}"))
}

fn decimal(text: &str) -> Result<Decimal, v4::Error> {
    Decimal::from_str_exact(text).map_err(|_| bad("decimal", text))
}

fn date((y, m, d): (i32, u8, u8)) -> Result<chrono::NaiveDate, v4::Error> {
    chrono::NaiveDate::from_ymd_opt(y, m.into(), d.into())
        .ok_or_else(|| bad("date", format!("{y}-{m}-{d}")))
}

fn time((h, m, s, ns): (u8, u8, u8, u32)) -> Result<chrono::NaiveTime, v4::Error> {
    chrono::NaiveTime::from_hms_nano_opt(h.into(), m.into(), s.into(), ns)
        .ok_or_else(|| bad("time", format!("{h}:{m}:{s}.{ns:09}")))
}

/// A parameter, ready to bind.
pub type Param = Box<dyn ToSql + Sync + Send>;

/// Converts guest parameters for binding.
pub fn params(values: Vec<v4::ParameterValue>) -> Result<Vec<Param>, v4::Error> {
    use v4::ParameterValue as P;
    values
        .into_iter()
        .map(|value| -> Result<Param, v4::Error> {
            Ok(match value {
                P::Boolean(b) => Box::new(b),
                P::Int8(i) => Box::new(i),
                P::Int16(i) => Box::new(i),
                P::Int32(i) => Box::new(i),
                P::Int64(i) => Box::new(i),
                P::Floating32(f) => Box::new(f),
                P::Floating64(f) => Box::new(f),
                P::Str(s) => Box::new(s),
                P::Binary(b) => Box::new(b),
                P::Date(d) => Box::new(date(d)?),
                P::Time(t) => Box::new(time(t)?),
                P::Datetime((y, mo, d, h, mi, s, ns)) => Box::new(chrono::NaiveDateTime::new(
                    date((y, mo, d))?,
                    time((h, mi, s, ns))?,
                )),
                P::Timestamp(secs) => Box::new(
                    chrono::DateTime::<chrono::Utc>::from_timestamp(secs, 0)
                        .ok_or_else(|| bad("epoch timestamp", secs))?,
                ),
                P::Uuid(u) => Box::new(uuid::Uuid::parse_str(&u).map_err(|_| bad("UUID", &u))?),
                P::Jsonb(j) => Box::new(
                    serde_json::from_slice::<serde_json::Value>(&j)
                        .map_err(|_| bad("JSON", String::from_utf8_lossy(&j)))?,
                ),
                P::Decimal(d) => Box::new(decimal(&d)?),
                P::RangeInt32((lower, upper)) => Box::new(Range { lower, upper }),
                P::RangeInt64((lower, upper)) => Box::new(Range { lower, upper }),
                P::RangeDecimal((lower, upper)) => {
                    let convert =
                        |b: Bound<String>| b.map(|(v, k)| decimal(&v).map(|d| (d, k))).transpose();
                    Box::new(Range {
                        lower: convert(lower)?,
                        upper: convert(upper)?,
                    })
                }
                P::ArrayInt32(a) => Box::new(a),
                P::ArrayInt64(a) => Box::new(a),
                P::ArrayDecimal(a) => Box::new(
                    a.iter()
                        .map(|v| v.as_deref().map(decimal).transpose())
                        .collect::<Result<Vec<_>, _>>()?,
                ),
                P::ArrayStr(a) => Box::new(a),
                P::Interval(i) => Box::new(Interval(i)),
                P::DbNull => Box::new(Null),
            })
        })
        .collect()
}

/// A column's type, as the interface names it.
pub fn data_type(ty: &Type) -> v4::DbDataType {
    use v4::DbDataType as D;
    match *ty {
        Type::BOOL => D::Boolean,
        Type::CHAR => D::Int8,
        Type::INT2 => D::Int16,
        Type::INT4 => D::Int32,
        Type::INT8 => D::Int64,
        Type::FLOAT4 => D::Floating32,
        Type::FLOAT8 => D::Floating64,
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => D::Str,
        Type::BYTEA => D::Binary,
        Type::DATE => D::Date,
        Type::TIME => D::Time,
        Type::TIMESTAMP => D::Datetime,
        Type::TIMESTAMPTZ => D::Timestamp,
        Type::UUID => D::Uuid,
        Type::JSON | Type::JSONB => D::Jsonb,
        Type::NUMERIC => D::Decimal,
        Type::INT4_RANGE => D::RangeInt32,
        Type::INT8_RANGE => D::RangeInt64,
        Type::NUM_RANGE => D::RangeDecimal,
        Type::INT4_ARRAY => D::ArrayInt32,
        Type::INT8_ARRAY => D::ArrayInt64,
        Type::NUMERIC_ARRAY => D::ArrayDecimal,
        Type::TEXT_ARRAY | Type::VARCHAR_ARRAY | Type::BPCHAR_ARRAY => D::ArrayStr,
        Type::INTERVAL => D::Interval,
        _ => D::Other(ty.name().to_owned()),
    }
}

/// Raw bytes, for columns of a type the interface has no variant for.
struct Raw(Vec<u8>);

impl<'a> FromSql<'a> for Raw {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        Ok(Self(raw.to_vec()))
    }
    fn accepts(_: &Type) -> bool {
        true
    }
}

/// Column `i` of `row`.
pub fn value(row: &Row, i: usize) -> Result<v4::DbValue, v4::Error> {
    use v4::DbValue as V;
    let ty = row.columns()[i].type_().clone();
    let failed = |e: tokio_postgres::Error| {
        v4::Error::ValueConversionFailed(format!("column {i} ({}): {e}", ty.name()))
    };
    macro_rules! get {
        ($t:ty, $f:expr) => {
            row.try_get::<_, Option<$t>>(i).map_err(failed)?.map($f)
        };
    }
    let value = match ty {
        Type::BOOL => get!(bool, V::Boolean),
        Type::CHAR => get!(i8, V::Int8),
        Type::INT2 => get!(i16, V::Int16),
        Type::INT4 => get!(i32, V::Int32),
        Type::INT8 => get!(i64, V::Int64),
        Type::FLOAT4 => get!(f32, V::Floating32),
        Type::FLOAT8 => get!(f64, V::Floating64),
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => get!(String, V::Str),
        Type::BYTEA => get!(Vec<u8>, V::Binary),
        Type::DATE => get!(chrono::NaiveDate, |d| V::Date((
            d.year(),
            d.month() as u8,
            d.day() as u8
        ))),
        Type::TIME => get!(chrono::NaiveTime, |t| V::Time((
            t.hour() as u8,
            t.minute() as u8,
            t.second() as u8,
            t.nanosecond()
        ))),
        Type::TIMESTAMP => get!(chrono::NaiveDateTime, |t| V::Datetime((
            t.year(),
            t.month() as u8,
            t.day() as u8,
            t.hour() as u8,
            t.minute() as u8,
            t.second() as u8,
            t.nanosecond()
        ))),
        Type::TIMESTAMPTZ => get!(chrono::DateTime<chrono::Utc>, |t| V::Timestamp(
            t.timestamp()
        )),
        Type::UUID => get!(uuid::Uuid, |u| V::Uuid(u.to_string())),
        Type::JSON | Type::JSONB => {
            get!(serde_json::Value, |j| V::Jsonb(j.to_string().into_bytes()))
        }
        Type::NUMERIC => get!(Decimal, |d| V::Decimal(d.to_string())),
        Type::INT4_RANGE => get!(Range<i32>, |r| V::RangeInt32((r.lower, r.upper))),
        Type::INT8_RANGE => get!(Range<i64>, |r| V::RangeInt64((r.lower, r.upper))),
        Type::NUM_RANGE => get!(Range<Decimal>, |r| {
            let text = |b: Bound<Decimal>| b.map(|(d, k)| (d.to_string(), k));
            V::RangeDecimal((text(r.lower), text(r.upper)))
        }),
        Type::INT4_ARRAY => get!(Vec<Option<i32>>, V::ArrayInt32),
        Type::INT8_ARRAY => get!(Vec<Option<i64>>, V::ArrayInt64),
        Type::NUMERIC_ARRAY => get!(Vec<Option<Decimal>>, |a| V::ArrayDecimal(
            a.into_iter().map(|d| d.map(|d| d.to_string())).collect()
        )),
        Type::TEXT_ARRAY | Type::VARCHAR_ARRAY | Type::BPCHAR_ARRAY => {
            get!(Vec<Option<String>>, V::ArrayStr)
        }
        Type::INTERVAL => get!(Interval, |i| V::Interval(i.0)),
        _ => get!(Raw, |r| V::Unsupported(r.0)),
    };
    Ok(value.unwrap_or(V::DbNull))
}

/// The byte size of a value, for the host's result limit.
pub fn size(value: &v4::DbValue) -> usize {
    use v4::DbValue as V;
    16 + match value {
        V::Str(s) | V::Uuid(s) | V::Decimal(s) => s.len(),
        V::Binary(b) | V::Jsonb(b) | V::Unsupported(b) => b.len(),
        V::ArrayStr(a) | V::ArrayDecimal(a) => {
            a.iter().map(|s| s.as_ref().map_or(1, String::len)).sum()
        }
        V::ArrayInt32(a) => a.len() * 8,
        V::ArrayInt64(a) => a.len() * 16,
        _ => 0,
    }
}

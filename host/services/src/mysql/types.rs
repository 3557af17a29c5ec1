//! Spin's MySQL values to and from `mysql_async`'s, as Spin converts them
//! (`crates/factor-outbound-mysql/src/client.rs`): a column's type comes
//! from its wire type, signedness and binary flag; a value is read as its
//! column's type; a type the interface lacks (DECIMAL, DATE, JSON, …) is
//! `other`, and a value of it is `value-conversion-failed` (cast it in SQL).

use super::v3;
use mysql_async::consts::{ColumnFlags, ColumnType};
use mysql_async::{Value, from_value_opt};

/// The driver's positional parameters.
pub fn params(params: Vec<v3::ParameterValue>) -> mysql_async::Params {
    use v3::ParameterValue as P;
    if params.is_empty() {
        return mysql_async::Params::Empty;
    }
    mysql_async::Params::Positional(
        params
            .into_iter()
            .map(|p| match p {
                P::Boolean(v) => Value::from(v),
                P::Int8(v) => Value::from(v),
                P::Int16(v) => Value::from(v),
                P::Int32(v) => Value::from(v),
                P::Int64(v) => Value::from(v),
                P::Uint8(v) => Value::from(v),
                P::Uint16(v) => Value::from(v),
                P::Uint32(v) => Value::from(v),
                P::Uint64(v) => Value::from(v),
                P::Floating32(v) => Value::from(v),
                P::Floating64(v) => Value::from(v),
                P::Str(v) => Value::from(v),
                P::Binary(v) => Value::from(v),
                P::DbNull => Value::NULL,
            })
            .collect(),
    )
}

/// The interface's columns.
pub fn columns(columns: &[mysql_async::Column]) -> Vec<v3::Column> {
    columns
        .iter()
        .map(|c| v3::Column {
            name: c.name_str().into_owned(),
            data_type: data_type(c),
        })
        .collect()
}

fn data_type(column: &mysql_async::Column) -> v3::DbDataType {
    use v3::DbDataType as D;
    let ty = column.column_type();
    let flags = column.flags();
    let signed = !flags.contains(ColumnFlags::UNSIGNED_FLAG);
    let binary = flags.contains(ColumnFlags::BINARY_FLAG);
    if ty.is_numeric_type() {
        match (ty, signed) {
            (ColumnType::MYSQL_TYPE_DOUBLE, _) => D::Floating64,
            (ColumnType::MYSQL_TYPE_FLOAT, _) => D::Floating32,
            (ColumnType::MYSQL_TYPE_INT24 | ColumnType::MYSQL_TYPE_LONG, true) => D::Int32,
            (ColumnType::MYSQL_TYPE_INT24 | ColumnType::MYSQL_TYPE_LONG, false) => D::Uint32,
            (ColumnType::MYSQL_TYPE_LONGLONG, true) => D::Int64,
            (ColumnType::MYSQL_TYPE_LONGLONG, false) => D::Uint64,
            (ColumnType::MYSQL_TYPE_SHORT, true) => D::Int16,
            (ColumnType::MYSQL_TYPE_SHORT, false) => D::Uint16,
            (ColumnType::MYSQL_TYPE_TINY, true) => D::Int8,
            (ColumnType::MYSQL_TYPE_TINY, false) => D::Uint8,
            _ => D::Other,
        }
    } else if ty.is_character_type() {
        match (ty, binary) {
            (ColumnType::MYSQL_TYPE_BLOB, false) => D::Str,
            (
                ColumnType::MYSQL_TYPE_BLOB
                | ColumnType::MYSQL_TYPE_LONG_BLOB
                | ColumnType::MYSQL_TYPE_MEDIUM_BLOB,
                _,
            ) => D::Binary,
            (ColumnType::MYSQL_TYPE_STRING | ColumnType::MYSQL_TYPE_VAR_STRING, true) => D::Binary,
            (ColumnType::MYSQL_TYPE_STRING | ColumnType::MYSQL_TYPE_VAR_STRING, false) => D::Str,
            _ => D::Other,
        }
    } else {
        D::Other
    }
}

/// One row's values, each read as its column's type.
pub fn row(
    mut row: mysql_async::Row,
    columns: &[v3::Column],
) -> Result<Vec<v3::DbValue>, v3::Error> {
    (0..row.len())
        .map(|i| match (row.take::<Value, _>(i), columns.get(i)) {
            (None | Some(Value::NULL), _) => Ok(v3::DbValue::DbNull),
            (Some(_), None) => Err(v3::Error::Other(format!("Can't get column at index {i}"))),
            (Some(value), Some(column)) => value_as(value, column),
        })
        .collect()
}

fn value_as(value: Value, column: &v3::Column) -> Result<v3::DbValue, v3::Error> {
    use v3::DbDataType as D;
    use v3::DbValue as V;
    fn read<T: mysql_async::prelude::FromValue>(value: Value) -> Result<T, v3::Error> {
        from_value_opt::<T>(value).map_err(|e| v3::Error::ValueConversionFailed(e.to_string()))
    }
    Ok(match column.data_type {
        D::Boolean => V::Boolean(read(value)?),
        D::Int8 => V::Int8(read(value)?),
        D::Int16 => V::Int16(read(value)?),
        D::Int32 => V::Int32(read(value)?),
        D::Int64 => V::Int64(read(value)?),
        D::Uint8 => V::Uint8(read(value)?),
        D::Uint16 => V::Uint16(read(value)?),
        D::Uint32 => V::Uint32(read(value)?),
        D::Uint64 => V::Uint64(read(value)?),
        D::Floating32 => V::Floating32(read(value)?),
        D::Floating64 => V::Floating64(read(value)?),
        D::Str => V::Str(read(value)?),
        D::Binary => V::Binary(read(value)?),
        D::Other => {
            return Err(v3::Error::ValueConversionFailed(format!(
                "Cannot convert value {value:?} in column {} data type {:?}",
                column.name, column.data_type
            )));
        }
    })
}

/// About how many bytes `value` holds, for the result limit.
pub fn size(value: &v3::DbValue) -> usize {
    std::mem::size_of::<v3::DbValue>()
        + match value {
            v3::DbValue::Str(s) => s.len(),
            v3::DbValue::Binary(b) => b.len(),
            _ => 0,
        }
}

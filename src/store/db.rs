//! One way to run a statement on either engine the store speaks: SQLite (the
//! embedded default, through rusqlite) and PostgreSQL (a platform serving
//! many stations, through the `postgres` client).
//!
//! Owns the statement API every store query goes through ([`Db`]), the
//! parameters ([`Param`], built with [`params!`](crate::store::params)) and
//! the rows ([`Row`]) read back. SQL is written once, with `?1`, `?2`, …
//! placeholders as SQLite spells them; on PostgreSQL they become `$1`, `$2`.
//! Every value is one of five kinds (null, integer, real, text, bytes), the
//! subset both engines agree on: booleans are stored as 0/1 integers,
//! timestamps as RFC 3339 text. An expression whose type differs between
//! the engines (a `SUM` is NUMERIC on PostgreSQL) is cast in the query.

use std::cell::RefCell;
use std::collections::HashMap;
use std::error::Error as StdError;

use bytes::BytesMut;
use postgres::types::{FromSql, IsNull, ToSql, Type, to_sql_checked};

use super::StoreError;

/// Which database engine a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    pub fn as_str(self) -> &'static str {
        match self {
            Engine::Sqlite => "sqlite",
            Engine::Postgres => "postgres",
        }
    }
}

/// A statement parameter, borrowed from the caller.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Param<'a> {
    Null,
    Int(i64),
    Real(f64),
    Text(&'a str),
    Blob(&'a [u8]),
}

/// What can be passed as a statement parameter.
pub trait ToParam {
    fn to_param(&self) -> Param<'_>;
}

macro_rules! int_params {
    ($($t:ty),*) => {$(
        impl ToParam for $t {
            fn to_param(&self) -> Param<'_> {
                Param::Int(i64::try_from(*self).expect("a parameter fits in 64 bits"))
            }
        }
    )*};
}
int_params!(i64, i32, u32, u16, u8, u64, usize, i16);

impl ToParam for bool {
    fn to_param(&self) -> Param<'_> {
        Param::Int(i64::from(*self))
    }
}

impl ToParam for f64 {
    fn to_param(&self) -> Param<'_> {
        Param::Real(*self)
    }
}

impl ToParam for str {
    fn to_param(&self) -> Param<'_> {
        Param::Text(self)
    }
}

impl ToParam for String {
    fn to_param(&self) -> Param<'_> {
        Param::Text(self)
    }
}

impl ToParam for [u8] {
    fn to_param(&self) -> Param<'_> {
        Param::Blob(self)
    }
}

impl ToParam for Vec<u8> {
    fn to_param(&self) -> Param<'_> {
        Param::Blob(self)
    }
}

impl<T: ToParam> ToParam for Option<T> {
    fn to_param(&self) -> Param<'_> {
        match self {
            Some(value) => value.to_param(),
            None => Param::Null,
        }
    }
}

impl<T: ToParam + ?Sized> ToParam for &T {
    fn to_param(&self) -> Param<'_> {
        (**self).to_param()
    }
}

impl ToParam for Param<'_> {
    fn to_param(&self) -> Param<'_> {
        *self
    }
}

/// Statement parameters: `params![a, b]`, an array `[id]`, or `[]`.
pub trait Params {
    fn to_params(&self) -> Vec<Param<'_>>;
}

impl<T: ToParam, const N: usize> Params for [T; N] {
    fn to_params(&self) -> Vec<Param<'_>> {
        self.iter().map(ToParam::to_param).collect()
    }
}

impl Params for Vec<Param<'_>> {
    fn to_params(&self) -> Vec<Param<'_>> {
        self.clone()
    }
}

impl Params for &[Param<'_>] {
    fn to_params(&self) -> Vec<Param<'_>> {
        self.to_vec()
    }
}

/// Builds statement parameters of mixed types: `params![id, name, None::<i64>]`.
#[macro_export]
#[doc(hidden)]
macro_rules! __store_params {
    () => { ::std::vec::Vec::<$crate::store::db::Param<'_>>::new() };
    ($($value:expr),+ $(,)?) => {
        ::std::vec![$($crate::store::db::ToParam::to_param(&$value)),+]
    };
}
pub use crate::__store_params as params;

/// A value read back from a row.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

impl Value {
    fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Int(_) => "integer",
            Value::Real(_) => "real",
            Value::Text(_) => "text",
            Value::Blob(_) => "bytes",
        }
    }
}

/// What a column can be read as.
pub trait FromValue: Sized {
    /// # Errors
    /// A message naming the mismatch.
    fn from_value(value: &Value) -> Result<Self, String>;
}

fn mismatch(want: &str, value: &Value) -> String {
    format!("expected {want}, found {}", value.kind())
}

impl FromValue for i64 {
    fn from_value(value: &Value) -> Result<Self, String> {
        match value {
            Value::Int(v) => Ok(*v),
            other => Err(mismatch("an integer", other)),
        }
    }
}

macro_rules! narrow_ints {
    ($($t:ty),*) => {$(
        impl FromValue for $t {
            fn from_value(value: &Value) -> Result<Self, String> {
                let wide = i64::from_value(value)?;
                <$t>::try_from(wide).map_err(|_| format!("{wide} is out of range"))
            }
        }
    )*};
}
narrow_ints!(i32, u32, u64, usize, u16);

impl FromValue for bool {
    fn from_value(value: &Value) -> Result<Self, String> {
        Ok(i64::from_value(value)? != 0)
    }
}

impl FromValue for f64 {
    fn from_value(value: &Value) -> Result<Self, String> {
        match value {
            Value::Real(v) => Ok(*v),
            Value::Int(v) => Ok(*v as f64),
            other => Err(mismatch("a number", other)),
        }
    }
}

impl FromValue for String {
    fn from_value(value: &Value) -> Result<Self, String> {
        match value {
            Value::Text(v) => Ok(v.clone()),
            other => Err(mismatch("text", other)),
        }
    }
}

impl FromValue for Vec<u8> {
    fn from_value(value: &Value) -> Result<Self, String> {
        match value {
            Value::Blob(v) => Ok(v.clone()),
            Value::Text(v) => Ok(v.as_bytes().to_vec()),
            other => Err(mismatch("bytes", other)),
        }
    }
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(value: &Value) -> Result<Self, String> {
        match value {
            Value::Null => Ok(None),
            other => T::from_value(other).map(Some),
        }
    }
}

/// One row of a result, read by column index as in the `SELECT`.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    values: Vec<Value>,
}

impl Row {
    /// The value of column `index`.
    ///
    /// # Errors
    /// [`StoreError::Sql`] when the column is missing or of another type.
    pub fn get<T: FromValue>(&self, index: usize) -> Result<T, StoreError> {
        let value = self
            .values
            .get(index)
            .ok_or_else(|| StoreError::Sql(format!("no column {index} in the row")))?;
        T::from_value(value).map_err(|e| StoreError::Sql(format!("column {index}: {e}")))
    }
}

/// A PostgreSQL connection with the statements it has prepared.
pub(crate) struct PgConnection {
    /// Always `Some` until dropped.
    client: Option<postgres::Client>,
    statements: HashMap<String, postgres::Statement>,
}

impl PgConnection {
    pub(crate) fn new(client: postgres::Client) -> PgConnection {
        PgConnection {
            client: Some(client),
            statements: HashMap::new(),
        }
    }

    pub(crate) fn client(&mut self) -> &mut postgres::Client {
        self.client
            .as_mut()
            .expect("the client lives until the connection drops")
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.client.as_ref().is_none_or(postgres::Client::is_closed)
    }
}

impl Drop for PgConnection {
    /// Closing a connection runs the client's own runtime, which cannot
    /// start on a thread driving async tasks (a store dropped in async
    /// code): there it closes on a thread of its own.
    fn drop(&mut self) {
        if let Some(client) = self.client.take()
            && tokio::runtime::Handle::try_current().is_ok()
        {
            std::thread::spawn(move || drop(client));
        }
    }
}

/// An open PostgreSQL transaction with the connection's statement cache.
pub(crate) struct PgTransaction<'c> {
    pub(crate) tx: postgres::Transaction<'c>,
    statements: &'c mut HashMap<String, postgres::Statement>,
}

impl PgConnection {
    pub(crate) fn transaction(&mut self) -> Result<PgTransaction<'_>, StoreError> {
        Ok(PgTransaction {
            tx: self
                .client
                .as_mut()
                .expect("the client lives until the connection drops")
                .transaction()?,
            statements: &mut self.statements,
        })
    }
}

enum Conn<'c> {
    Sqlite(&'c rusqlite::Connection),
    Postgres(RefCell<PgTransaction<'c>>),
}

/// A connection (or open transaction) on either engine; every store query
/// goes through it.
pub struct Db<'c> {
    conn: Conn<'c>,
}

impl<'c> Db<'c> {
    pub(crate) fn sqlite(conn: &'c rusqlite::Connection) -> Db<'c> {
        Db {
            conn: Conn::Sqlite(conn),
        }
    }

    pub(crate) fn postgres(tx: PgTransaction<'c>) -> Db<'c> {
        Db {
            conn: Conn::Postgres(RefCell::new(tx)),
        }
    }

    /// Ends a PostgreSQL transaction: committed when `commit`, else rolled back.
    pub(crate) fn finish(self, commit: bool) -> Result<(), StoreError> {
        match self.conn {
            Conn::Sqlite(_) => Ok(()),
            Conn::Postgres(cell) => {
                let pg = cell.into_inner();
                if commit {
                    pg.tx.commit()?;
                } else {
                    pg.tx.rollback()?;
                }
                Ok(())
            }
        }
    }

    pub fn engine(&self) -> Engine {
        match self.conn {
            Conn::Sqlite(_) => Engine::Sqlite,
            Conn::Postgres(_) => Engine::Postgres,
        }
    }

    /// Runs one statement; returns the rows it changed.
    ///
    /// # Errors
    /// SQL errors.
    pub fn execute(&self, sql: &str, params: impl Params) -> Result<usize, StoreError> {
        let params = params.to_params();
        match &self.conn {
            Conn::Sqlite(conn) => Ok(conn
                .prepare_cached(sql)?
                .execute(rusqlite::params_from_iter(params.iter()))?),
            Conn::Postgres(cell) => {
                let mut pg = cell.borrow_mut();
                let statement = pg.statement(sql)?;
                let refs = pg_params(&params);
                Ok(pg.tx.execute(&statement, &refs)? as usize)
            }
        }
    }

    /// Runs a statement and reads every row it returns.
    ///
    /// # Errors
    /// SQL errors, or `f`'s.
    pub fn query_map<T>(
        &self,
        sql: &str,
        params: impl Params,
        mut f: impl FnMut(&Row) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        self.rows(sql, params)?.iter().map(&mut f).collect()
    }

    /// The first row a statement returns, if any.
    ///
    /// # Errors
    /// SQL errors, or `f`'s.
    pub fn query_opt<T>(
        &self,
        sql: &str,
        params: impl Params,
        f: impl FnOnce(&Row) -> Result<T, StoreError>,
    ) -> Result<Option<T>, StoreError> {
        self.rows(sql, params)?.first().map(f).transpose()
    }

    /// The first row a statement returns; a statement that returns none is
    /// a bug in the query (a count, an `INSERT … RETURNING`).
    ///
    /// # Errors
    /// SQL errors, or `f`'s; [`StoreError::Sql`] when no row came back.
    pub fn query_row<T>(
        &self,
        sql: &str,
        params: impl Params,
        f: impl FnOnce(&Row) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.query_opt(sql, params, f)?
            .ok_or_else(|| StoreError::Sql(format!("the query returned no row: {sql}")))
    }

    /// Runs several statements separated by semicolons, without parameters.
    ///
    /// # Errors
    /// SQL errors.
    pub fn execute_batch(&self, sql: &str) -> Result<(), StoreError> {
        match &self.conn {
            Conn::Sqlite(conn) => Ok(conn.execute_batch(sql)?),
            Conn::Postgres(cell) => Ok(cell.borrow_mut().tx.batch_execute(sql)?),
        }
    }

    fn rows(&self, sql: &str, params: impl Params) -> Result<Vec<Row>, StoreError> {
        let params = params.to_params();
        match &self.conn {
            Conn::Sqlite(conn) => {
                let mut statement = conn.prepare_cached(sql)?;
                let columns = statement.column_count();
                let mut rows = statement.query(rusqlite::params_from_iter(params.iter()))?;
                let mut out = Vec::new();
                while let Some(row) = rows.next()? {
                    let mut values = Vec::with_capacity(columns);
                    for index in 0..columns {
                        values.push(sqlite_value(row.get_ref(index)?));
                    }
                    out.push(Row { values });
                }
                Ok(out)
            }
            Conn::Postgres(cell) => {
                let mut pg = cell.borrow_mut();
                let statement = pg.statement(sql)?;
                let refs = pg_params(&params);
                let rows = pg.tx.query(&statement, &refs)?;
                rows.iter()
                    .map(|row| {
                        let values = (0..row.len())
                            .map(|index| row.try_get::<_, Value>(index))
                            .collect::<Result<_, _>>()?;
                        Ok(Row { values })
                    })
                    .collect()
            }
        }
    }
}

impl PgTransaction<'_> {
    fn statement(&mut self, sql: &str) -> Result<postgres::Statement, StoreError> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.tx.prepare(&postgres_placeholders(sql))?;
        self.statements.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }
}

fn pg_params<'a>(params: &'a [Param<'a>]) -> Vec<&'a (dyn ToSql + Sync)> {
    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect()
}

/// `?1` → `$1` outside quoted text and identifiers.
pub(crate) fn postgres_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut quote: Option<char> = None;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                out.push(c);
                if c == q {
                    quote = None;
                }
            }
            None => match c {
                '\'' | '"' => {
                    quote = Some(c);
                    out.push(c);
                }
                '?' => {
                    assert!(
                        chars.peek().is_some_and(char::is_ascii_digit),
                        "store SQL numbers its placeholders (?1, ?2): {sql}"
                    );
                    out.push('$');
                }
                _ => out.push(c),
            },
        }
    }
    out
}

fn sqlite_value(value: rusqlite::types::ValueRef<'_>) -> Value {
    use rusqlite::types::ValueRef;
    match value {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(v) => Value::Int(v),
        ValueRef::Real(v) => Value::Real(v),
        ValueRef::Text(v) => Value::Text(String::from_utf8_lossy(v).into_owned()),
        ValueRef::Blob(v) => Value::Blob(v.to_vec()),
    }
}

impl rusqlite::ToSql for Param<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match *self {
            Param::Null => ValueRef::Null,
            Param::Int(v) => ValueRef::Integer(v),
            Param::Real(v) => ValueRef::Real(v),
            Param::Text(v) => ValueRef::Text(v.as_bytes()),
            Param::Blob(v) => ValueRef::Blob(v),
        }))
    }
}

type BoxError = Box<dyn StdError + Sync + Send>;

fn is_text(ty: &Type) -> bool {
    [
        Type::TEXT,
        Type::VARCHAR,
        Type::BPCHAR,
        Type::NAME,
        Type::UNKNOWN,
    ]
    .contains(ty)
}

impl ToSql for Param<'_> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        match *self {
            Param::Null => Ok(IsNull::Yes),
            Param::Int(v) => match *ty {
                Type::INT8 => v.to_sql(ty, out),
                Type::INT4 => i32::try_from(v)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(v)?.to_sql(ty, out),
                Type::FLOAT8 => (v as f64).to_sql(ty, out),
                Type::BOOL => (v != 0).to_sql(ty, out),
                _ if is_text(ty) => v.to_string().as_str().to_sql(ty, out),
                _ => Err(format!("an integer parameter cannot be sent as {ty}").into()),
            },
            Param::Real(v) => match *ty {
                Type::FLOAT8 => v.to_sql(ty, out),
                Type::FLOAT4 => (v as f32).to_sql(ty, out),
                _ => Err(format!("a real parameter cannot be sent as {ty}").into()),
            },
            Param::Text(v) => match *ty {
                Type::BYTEA => v.as_bytes().to_sql(ty, out),
                _ if is_text(ty) => v.to_sql(ty, out),
                _ => Err(format!("a text parameter cannot be sent as {ty}").into()),
            },
            Param::Blob(v) => match *ty {
                Type::BYTEA => v.to_sql(ty, out),
                _ => Err(format!("a bytes parameter cannot be sent as {ty}").into()),
            },
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

impl<'a> FromSql<'a> for Value {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        Ok(match *ty {
            Type::INT8 => Value::Int(i64::from_sql(ty, raw)?),
            Type::INT4 => Value::Int(i32::from_sql(ty, raw)?.into()),
            Type::INT2 => Value::Int(i16::from_sql(ty, raw)?.into()),
            Type::OID => Value::Int(u32::from_sql(ty, raw)?.into()),
            Type::BOOL => Value::Int(bool::from_sql(ty, raw)?.into()),
            Type::FLOAT8 => Value::Real(f64::from_sql(ty, raw)?),
            Type::FLOAT4 => Value::Real(f32::from_sql(ty, raw)?.into()),
            Type::BYTEA => Value::Blob(Vec::<u8>::from_sql(ty, raw)?),
            _ if is_text(ty) => Value::Text(String::from_sql(ty, raw)?),
            _ => {
                return Err(format!(
                    "a column of type {ty} is not read by bantin; cast it in the query"
                )
                .into());
            }
        })
    }

    fn from_sql_null(_: &Type) -> Result<Self, BoxError> {
        Ok(Value::Null)
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_dollars_outside_quotes() {
        assert_eq!(
            postgres_placeholders("SELECT '?1', \"a?\" FROM t WHERE a = ?1 AND b = ?12"),
            "SELECT '?1', \"a?\" FROM t WHERE a = $1 AND b = $12"
        );
    }

    #[test]
    fn sqlite_round_trips_every_kind() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let db = Db::sqlite(&conn);
        db.execute_batch("CREATE TABLE t (i INTEGER, r REAL, s TEXT, b BLOB, n INTEGER)")
            .unwrap();
        let blob = vec![0u8, 255];
        let changed = db
            .execute(
                "INSERT INTO t VALUES (?1, ?2, ?3, ?4, ?5)",
                params![7_i64, 1.5, "chữ", blob, None::<i64>],
            )
            .unwrap();
        assert_eq!(changed, 1);
        let row = db
            .query_row("SELECT i, r, s, b, n, i = 7 FROM t", params![], |r| {
                Ok((
                    r.get::<i64>(0)?,
                    r.get::<f64>(1)?,
                    r.get::<String>(2)?,
                    r.get::<Vec<u8>>(3)?,
                    r.get::<Option<i64>>(4)?,
                    r.get::<bool>(5)?,
                ))
            })
            .unwrap();
        assert_eq!(row, (7, 1.5, "chữ".to_owned(), blob, None, true));
        let none = db
            .query_opt("SELECT i FROM t WHERE i = ?1", [8], |r| r.get::<i64>(0))
            .unwrap();
        assert_eq!(none, None);
        let err = db
            .query_row("SELECT s FROM t", params![], |r| r.get::<i64>(0))
            .unwrap_err();
        assert!(err.to_string().contains("expected an integer"), "{err}");
    }
}

//! Hand-written SQL that PostgreSQL parses and plans once per connection.
//!
//! diesel never caches the prepared statement of a `sql_query` (nor of any `UPDATE`, nor of an
//! `INSERT` built from an `Insertable`): each call costs diesel-async a `Parse` round trip of its
//! own before `Bind`/`Execute`, and PostgreSQL a parse and a plan. [`prepared_sql`] is
//! `sql_query` for SQL that is a constant: the connection's statement cache keeps it by its
//! text, so from the second call on a connection it is one round trip to a statement that is
//! already prepared.
//!
//! The SQL given must:
//! * be a `&'static str`, never built from data: the cache is keyed by the text and keeps every
//!   statement it sees for the life of the connection;
//! * refer to its binds as `$1`, `$2`, .. in the order they are bound (each as often as needed,
//!   in any order), and contain no other `$`;
//! * name the columns it returns (no `*`): PostgreSQL refuses to run a prepared statement whose
//!   result columns changed under it ("cached plan must not change result type"), which a
//!   migration adding a column would cause until the connection is replaced.

use std::marker::PhantomData;

use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::result::{Error as DieselError, QueryResult};
use diesel::serialize::ToSql;
use diesel::sql_types::{HasSqlType, Untyped};

/// A constant SQL statement that is prepared once per connection; bind its `$n` with
/// [`PreparedSql::bind`], run it with diesel-async's `RunQueryDsl` (rows by name, as with
/// `sql_query`).
pub(crate) fn prepared_sql(sql: &'static str) -> PreparedSql<()> {
    PreparedSql { sql, binds: () }
}

#[must_use = "a query does nothing until it is run"]
pub(crate) struct PreparedSql<B> {
    sql: &'static str,
    binds: B,
}

impl<B: Binds> PreparedSql<B> {
    /// Binds the next placeholder (`$1` first) as the SQL type `ST`.
    pub(crate) fn bind<ST, V>(self, value: V) -> PreparedSql<(B, Bind<ST, V>)> {
        PreparedSql {
            sql: self.sql,
            binds: (
                self.binds,
                Bind {
                    value,
                    sql_type: PhantomData,
                },
            ),
        }
    }
}

/// One bound value and its SQL type.
pub(crate) struct Bind<ST, V> {
    value: V,
    sql_type: PhantomData<fn() -> ST>,
}

/// The values bound so far: `()`, then `(earlier, Bind)` for each [`PreparedSql::bind`].
pub(crate) trait Binds {
    const COUNT: usize;

    /// Pushes the bind with 0-based index `n`.
    fn push<'b>(&'b self, n: usize, out: &mut AstPass<'_, 'b, Pg>) -> QueryResult<()>;
}

impl Binds for () {
    const COUNT: usize = 0;

    fn push<'b>(&'b self, n: usize, _: &mut AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        Err(query_error(format!("nothing is bound to ${}", n + 1)))
    }
}

impl<B, ST, V> Binds for (B, Bind<ST, V>)
where
    B: Binds,
    Pg: HasSqlType<ST>,
    V: ToSql<ST, Pg>,
{
    const COUNT: usize = B::COUNT + 1;

    fn push<'b>(&'b self, n: usize, out: &mut AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        if n == B::COUNT {
            out.push_bind_param::<ST, V>(&self.1.value)
        } else {
            self.0.push(n, out)
        }
    }
}

impl<B: Binds> QueryFragment<Pg> for PreparedSql<B> {
    /// The SQL with each `$n` replaced by the bind `n` (diesel numbers the placeholders itself).
    /// Unlike `sql_query`, this does not mark the statement unsafe to cache.
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        let mut rest = self.sql;
        while let Some(at) = rest.find('$') {
            out.push_sql(&rest[..at]);
            let digits = rest[at + 1..]
                .bytes()
                .take_while(u8::is_ascii_digit)
                .count();
            let number = &rest[at + 1..at + 1 + digits];
            match number.parse::<usize>() {
                Ok(n) if (1..=B::COUNT).contains(&n) => self.binds.push(n - 1, &mut out)?,
                _ => {
                    return Err(query_error(format!(
                        "`${number}` is not one of the {} binds of: {}",
                        B::COUNT,
                        self.sql
                    )));
                }
            }
            rest = &rest[at + 1 + digits..];
        }
        out.push_sql(rest);
        Ok(())
    }
}

/// No static id: the statement cache keys these by their SQL text (and bind types).
impl<B> QueryId for PreparedSql<B> {
    type QueryId = ();

    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<B> Query for PreparedSql<B> {
    type SqlType = Untyped;
}

fn query_error(message: String) -> DieselError {
    DieselError::QueryBuilderError(message.into())
}

#[cfg(test)]
mod tests {
    use diesel::query_builder::QueryBuilder as _;
    use diesel::sql_types::{BigInt, Text};

    use super::*;

    fn sql_of(query: &impl QueryFragment<Pg>) -> QueryResult<String> {
        let mut builder = diesel::pg::PgQueryBuilder::default();
        query.to_sql(&mut builder, &Pg)?;
        Ok(builder.finish())
    }

    #[test]
    fn placeholders_are_renumbered_in_order_of_appearance() {
        let query = prepared_sql("SELECT $2, $1 WHERE a = $2 AND b = $10")
            .bind::<BigInt, _>(1_i64)
            .bind::<Text, _>("x")
            .bind::<BigInt, _>(3_i64)
            .bind::<BigInt, _>(4_i64)
            .bind::<BigInt, _>(5_i64)
            .bind::<BigInt, _>(6_i64)
            .bind::<BigInt, _>(7_i64)
            .bind::<BigInt, _>(8_i64)
            .bind::<BigInt, _>(9_i64)
            .bind::<BigInt, _>(10_i64);
        assert_eq!(
            sql_of(&query).unwrap(),
            "SELECT $1, $2 WHERE a = $3 AND b = $4"
        );
    }

    #[test]
    fn it_is_safe_to_cache() {
        let query = prepared_sql("SELECT $1").bind::<BigInt, _>(1_i64);
        assert!(query.is_safe_to_cache_prepared(&Pg).unwrap());
        assert_eq!(<PreparedSql<()> as QueryId>::query_id(), None);
    }

    #[test]
    fn an_unbound_or_stray_placeholder_is_an_error() {
        let unbound = prepared_sql("SELECT $2").bind::<BigInt, _>(1_i64);
        assert!(sql_of(&unbound).is_err());
        let zero = prepared_sql("SELECT $0").bind::<BigInt, _>(1_i64);
        assert!(sql_of(&zero).is_err());
        let stray = prepared_sql("SELECT '$'").bind::<BigInt, _>(1_i64);
        assert!(sql_of(&stray).is_err());
    }

    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }

    /// The point of this module, checked on a real connection: run three times, the statement
    /// is prepared once and stays prepared; `sql_query` leaves nothing prepared.
    #[tokio::test]
    async fn a_statement_is_prepared_once_per_connection() {
        use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl as _};

        let databases = local_postgres::TestDatabases::get(|_| async { Ok(()) })
            .await
            .expect("test databases");
        let db = databases.fresh().await.expect("fresh database");
        let mut conn = AsyncPgConnection::establish(db.url())
            .await
            .expect("connect");
        let prepared_here = "SELECT count(*) AS n FROM pg_prepared_statements \
                             WHERE statement LIKE 'SELECT $1 + 0 AS n%'";
        for n in 0..3_i64 {
            let cached: Count = prepared_sql("SELECT $1 + 0 AS n")
                .bind::<BigInt, _>(n)
                .get_result(&mut conn)
                .await
                .expect("prepared_sql");
            assert_eq!(cached.n, n);
            let uncached: Count = diesel::sql_query("SELECT $1 + 0 AS n /* sql_query */")
                .bind::<BigInt, _>(n)
                .get_result(&mut conn)
                .await
                .expect("sql_query");
            assert_eq!(uncached.n, n);
        }
        let prepared: Vec<String> = diesel::sql_query(
            "SELECT statement AS n FROM pg_prepared_statements ORDER BY statement",
        )
        .load::<Statement>(&mut conn)
        .await
        .expect("prepared statements")
        .into_iter()
        .map(|s| s.statement)
        .collect();
        let count: Count = diesel::sql_query(prepared_here)
            .get_result(&mut conn)
            .await
            .expect("count");
        assert_eq!(count.n, 1, "prepared now: {prepared:?}");
    }

    #[derive(diesel::QueryableByName)]
    struct Statement {
        #[diesel(sql_type = Text, column_name = n)]
        statement: String,
    }
}

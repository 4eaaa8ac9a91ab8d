//! What every repository does the same way: read one row by id or `NotFound`, read one page of a query
//! with the total count, and report a write that breaks a unique constraint as a `Conflict`.

use sea_orm::{DbErr, EntityTrait, FromQueryResult, PaginatorTrait, PrimaryKeyTrait, Select};

use crate::conn::Db;
use crate::{Page, PageRequest, StoreError, is_unique_violation};

/// A write's error as a [`StoreError`]: `Conflict(message())` when the row breaks a unique constraint,
/// the database error as it is otherwise.
pub(crate) fn conflict_if_unique(
    message: impl FnOnce() -> String,
) -> impl FnOnce(DbErr) -> StoreError {
    move |e| {
        if is_unique_violation(&e) {
            StoreError::Conflict(message())
        } else {
            e.into()
        }
    }
}

/// The row of `E` with primary key `id`; `NotFound(what)` when there is none.
pub(crate) async fn find_by_id<E>(db: &Db, id: &str, what: &str) -> Result<E::Model, StoreError>
where
    E: EntityTrait,
    String: Into<<E::PrimaryKey as PrimaryKeyTrait>::ValueType>,
{
    E::find_by_id(id.to_owned())
        .one(db)
        .await?
        .ok_or_else(|| StoreError::NotFound(what.to_owned()))
}

/// Page `page` of `select`'s rows (the page number is 1-based), each made into an item by `item`, with
/// the number of rows on every page.
pub(crate) async fn fetch_page<E, T>(
    db: &Db,
    select: Select<E>,
    page: PageRequest,
    item: impl FnMut(E::Model) -> Result<T, StoreError>,
) -> Result<Page<T>, StoreError>
where
    E: EntityTrait,
    E::Model: FromQueryResult + Sized + Send + Sync,
{
    let paginator = select.paginate(db, page.limit);
    let total = paginator.num_items().await?;
    let rows = paginator.fetch_page(page.page - 1).await?;
    Ok(Page {
        items: rows.into_iter().map(item).collect::<Result<_, _>>()?,
        total,
        page: page.page,
        limit: page.limit,
    })
}

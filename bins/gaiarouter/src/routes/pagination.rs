//! The list-endpoint conventions: `?page=1&limit=20` in, `{"data":[…],"pagination":{…}}` out.

use gaia_core::GaiaError;
use gaia_store::{Page, PageRequest};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The highest page number accepted. Far beyond any real list (a billion pages), and low enough that
/// `(page - 1) × limit` fits every database's `OFFSET` even with the CSV export's 10,000 rows a page.
pub const MAX_PAGE: u64 = 1_000_000_000;

/// Paging parameters (1-based page; limit 1–100, default 20).
#[derive(Debug, Clone, Copy, Deserialize, IntoParams)]
pub struct PageQuery {
    /// 1-based page number (default 1).
    #[param(minimum = 1, maximum = 1_000_000_000)]
    pub page: Option<u64>,
    /// Items per page, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
}

impl PageQuery {
    pub fn validate(self) -> Result<PageRequest, GaiaError> {
        if let Some(page) = self.page
            && !(1..=MAX_PAGE).contains(&page)
        {
            return Err(GaiaError::invalid_request(format!(
                "`page` must be between 1 and {MAX_PAGE}"
            ))
            .with_param("page"));
        }
        if let Some(limit) = self.limit
            && !(1..=PageRequest::MAX_LIMIT).contains(&limit)
        {
            return Err(GaiaError::invalid_request(format!(
                "`limit` must be between 1 and {}",
                PageRequest::MAX_LIMIT
            ))
            .with_param("limit"));
        }
        Ok(PageRequest::new(self.page, self.limit))
    }
}

/// Where a page sits in the whole list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Pagination {
    pub page: u64,
    pub limit: u64,
    pub total: u64,
    pub pages: u64,
}

/// A page of results.
#[derive(Debug, Serialize, ToSchema)]
pub struct Paginated<T: Serialize> {
    pub data: Vec<T>,
    pub pagination: Pagination,
}

impl<T: Serialize> Paginated<T> {
    pub fn from_page<U>(page: Page<U>, map: impl FnMut(U) -> T) -> Self {
        let pages = page.pages();
        Self {
            data: page.items.into_iter().map(map).collect(),
            pagination: Pagination {
                page: page.page,
                limit: page.limit,
                total: page.total,
                pages,
            },
        }
    }
}

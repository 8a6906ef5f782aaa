//! Keyset pagination: a page of rows and the cursor of the next one.

/// How many rows a page holds: 1 to 100, 20 by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageLimit(u32);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("limit must be between 1 and {max} (got {0})", max = PageLimit::MAX)]
pub struct PageLimitError(pub i64);

impl PageLimit {
    pub const MAX: u32 = 100;
    pub const DEFAULT: PageLimit = PageLimit(20);

    pub fn new(limit: i64) -> Result<Self, PageLimitError> {
        u32::try_from(limit)
            .ok()
            .filter(|l| (1..=Self::MAX).contains(l))
            .map(PageLimit)
            .ok_or(PageLimitError(limit))
    }

    pub const fn get(self) -> u32 {
        self.0
    }
}

impl Default for PageLimit {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// One page of rows. `next` is the cursor to pass for the following page, `None` on the last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T, C> {
    pub items: Vec<T>,
    pub next: Option<C>,
}

impl<T, C> Page<T, C> {
    /// Builds a page from rows fetched with `limit + 1`: the extra row only says there is more.
    pub fn from_overfetch(mut rows: Vec<T>, limit: PageLimit, cursor_of: impl Fn(&T) -> C) -> Self {
        let limit = limit.get() as usize;
        let next = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(&cursor_of)
        } else {
            None
        };
        Page { items: rows, next }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits() {
        assert!(PageLimit::new(0).is_err());
        assert!(PageLimit::new(101).is_err());
        assert_eq!(PageLimit::new(100).map(PageLimit::get), Ok(100));
    }

    #[test]
    fn overfetch_says_whether_there_is_more() {
        let limit = PageLimit::new(2).unwrap();
        let page = Page::from_overfetch(vec![5, 4, 3], limit, |n| *n);
        assert_eq!(page.items, vec![5, 4]);
        assert_eq!(page.next, Some(4));
        let last = Page::from_overfetch(vec![2, 1], limit, |n| *n);
        assert_eq!(last.next, None);
    }
}

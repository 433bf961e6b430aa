//! Case-insensitive "contains" search in text columns, the same on both backends: `lower()` of
//! the column `LIKE` a lower-cased pattern escaped with a backslash.

diesel::define_sql_function! {
    /// SQL `lower()`: case-insensitive search on both backends (SQLite folds ASCII only).
    fn lower(text: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// The LIKE pattern (escaped with a backslash) matching text that contains `needle`, lower-cased
/// for comparing with [`lower`] of a column.
pub(crate) fn contains_pattern(needle: &str) -> String {
    format!("%{}%", escape_like(&needle.to_lowercase()))
}

/// `text` with LIKE's wildcards and the escape character itself escaped by a backslash, so that
/// a search for `50%` or `a_b` finds just that.
pub(crate) fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

-- Storage parameters for the two tables whose rows are updated again and again.
--
-- cases: a command rewrites the row (state, version, updated_at), mostly without touching an
-- indexed column. Such an update can stay on its page (a HOT update, no new index entries) only
-- if the page has room; pages filled to the brim made about two of five updates write new
-- entries into all four indexes of the table. Inserts now leave a quarter of each page free.
ALTER TABLE cases SET (fillfactor = 75);

-- outbox: each mail is updated twice (claimed, then sent), and its status is indexed, so every
-- update writes a new row version. The rendered mail and its context, written once and never
-- changed, are kept out of line (TOAST) even when small, so these versions copy a pointer
-- rather than some kilobytes of text.
ALTER TABLE outbox SET (toast_tuple_target = 128);

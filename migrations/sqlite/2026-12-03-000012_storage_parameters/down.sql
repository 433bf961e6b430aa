-- PostgreSQL only (storage parameters); SQLite has none of the kind.
SELECT 1;

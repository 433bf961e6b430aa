-- PostgreSQL only (the guard of the one statement of writes); SQLite executes writes one by one.
SELECT 1;

-- PostgreSQL only (lz4 compression of large values); SQLite stores values uncompressed.
SELECT 1;

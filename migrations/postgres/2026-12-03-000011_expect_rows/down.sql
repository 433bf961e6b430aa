DROP FUNCTION vorgang_expect_rows(BIGINT, BIGINT);

-- The guard of a command's one statement of writes (`db::deferred`): the statement's final
-- SELECT passes the row count of the case update through this function, which fails the whole
-- statement unless the update wrote the rows it had to. Nothing of the statement is then
-- written, also when it runs without a transaction around it. The error is a serialization
-- failure naming this function as its constraint, so the server can tell it from others.
CREATE FUNCTION vorgang_expect_rows(written BIGINT, expected BIGINT) RETURNS BIGINT
LANGUAGE plpgsql AS $$
BEGIN
    IF written IS DISTINCT FROM expected THEN
        RAISE EXCEPTION 'expected % changed rows, found %', expected, written
            USING ERRCODE = 'serialization_failure', CONSTRAINT = 'vorgang_expect_rows';
    END IF;
    RETURN written;
END
$$;

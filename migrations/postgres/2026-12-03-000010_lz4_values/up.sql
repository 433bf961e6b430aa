-- The large values every command writes (the engine state of the case, the rendered invitation
-- mails and their contexts) are compressed with lz4 where the server offers it. pglz, the
-- default, was a measurable share of PostgreSQL's CPU per command; lz4 compresses several
-- times faster at a similar ratio on this text. Values stored before keep their compression
-- until rewritten; a server built without lz4 keeps pglz.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_settings
               WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN
        ALTER TABLE cases ALTER COLUMN state SET COMPRESSION lz4;
        ALTER TABLE outbox ALTER COLUMN rendered SET COMPRESSION lz4,
                           ALTER COLUMN context SET COMPRESSION lz4;
    END IF;
END
$$;

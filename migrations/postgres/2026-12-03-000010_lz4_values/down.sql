ALTER TABLE cases ALTER COLUMN state SET COMPRESSION default;
ALTER TABLE outbox ALTER COLUMN rendered SET COMPRESSION default,
                   ALTER COLUMN context SET COMPRESSION default;

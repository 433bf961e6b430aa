-- The earliest legal deadline of a case's active steps, for sorting lists by „Nächste Frist“;
-- set by every write of the case's state, 9999-12-31 when there is none (service::next_deadline).
-- Cases written before it are computed at start-up (NULL until then).
ALTER TABLE cases ADD COLUMN next_deadline DATE;

-- Where a case stands in its procedure, for sorting lists by „Stand“: the position of its
-- earliest active step in its workflow version (steps are written in procedure order); set by
-- every write of the case. Cases written before it are ranked at start-up (NULL until then).
ALTER TABLE cases ADD COLUMN stand_rank INTEGER;

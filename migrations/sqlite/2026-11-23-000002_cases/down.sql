DROP TABLE documents;
DROP TABLE outbox;
DROP TABLE timers;
DROP TABLE case_events;
DROP TABLE aktenzeichen_counters;
DROP TABLE cases;
DROP TABLE workflow_definitions;

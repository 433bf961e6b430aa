DROP TABLE case_origins;

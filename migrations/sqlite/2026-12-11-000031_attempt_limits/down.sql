DROP TABLE attempt_limits;

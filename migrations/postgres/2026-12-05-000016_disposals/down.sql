DROP TABLE disposed_cases;

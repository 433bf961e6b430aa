DROP TABLE responsibility_notices;

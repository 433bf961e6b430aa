DROP TABLE time_windows;

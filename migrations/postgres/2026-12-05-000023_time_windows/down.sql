DROP TABLE window_reminders;
DROP TABLE time_windows;

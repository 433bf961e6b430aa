ALTER TABLE cases RESET (fillfactor);
ALTER TABLE outbox RESET (toast_tuple_target);

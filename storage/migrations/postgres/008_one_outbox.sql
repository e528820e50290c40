-- The twin of SQLite's 014: messages for other people join the reports in `outbox` (their
-- message in `payload`), so one sender delivers both with leases and the "in doubt" rule.
ALTER TABLE outbox ADD COLUMN payload TEXT;
ALTER TABLE outbox ADD COLUMN topic TEXT;
ALTER TABLE outbox ADD COLUMN reason TEXT;
CREATE INDEX outbox_by_topic ON outbox (topic) WHERE topic IS NOT NULL;

-- A message left 'sending' may have gone out: it is kept as in doubt, not sent again.
INSERT INTO outbox (report, period, channel, chat_id, payload, topic, reason, status, next_part,
                    unknown_parts, attempts, next_attempt, last_error, created_at, sent_at)
SELECT 'message', 'm' || id, channel, chat_id, payload, topic, reason,
       CASE status WHEN 'sending' THEN 'unknown' ELSE status END,
       CASE status WHEN 'sending' THEN 1 ELSE 0 END,
       CASE status WHEN 'sending' THEN '0' ELSE '' END,
       attempts, next_attempt, last_error, created_at, sent_at
FROM message_outbox;
DROP TABLE message_outbox;

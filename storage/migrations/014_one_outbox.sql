-- One outbox: messages for other people (hand-offs, relayed answers, notices, announcements)
-- join the reports in `outbox`, so they get its leases, its per-message progress and its
-- "in doubt" rule. Such a row carries its message in `payload` (JSON); a report row has none
-- (its messages are built when it is delivered). `topic` groups messages whose outcome is
-- counted (an announcement); `reason` says why one was not delivered.
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

-- flow: rate limits (issue 13). A job's resolved limits travel with it as JSON
-- (flow.rate.encode_limits); each (key, per) has one row holding its sliding log:
-- the start times of the last jobs in the window, and until when it is full.
-- `rate_pending` (1 while a rate-limited job waits) leads the index the rate-limited
-- part of a claim reads, as `pending` does for the rest. IF NOT EXISTS (MariaDB)
-- lets the script run again after an interrupted migration.
ALTER TABLE activejob_jobs
    ADD COLUMN IF NOT EXISTS rate_limits LONGTEXT,
    ADD COLUMN IF NOT EXISTS rate_pending TINYINT
        GENERATED ALWAYS AS (rate_limits IS NOT NULL AND state IN ('ready', 'scheduled')) STORED,
    ADD INDEX IF NOT EXISTS activejob_jobs_rate_limited (rate_pending, priority, run_at, id);

CREATE TABLE IF NOT EXISTS activejob_rate_windows (
    rate_key   VARCHAR(255) NOT NULL,
    per        DOUBLE       NOT NULL,
    starts     LONGTEXT     NOT NULL,
    full_until DOUBLE,
    touched_at DOUBLE       NOT NULL,
    PRIMARY KEY (rate_key, per)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- flow: rate limits (issue 13). A job's resolved limits travel with it as JSON
-- (flow.rate.encode_limits); each (key, per) has one row holding its sliding log:
-- the start times of the last jobs in the window, and until when it is full.
ALTER TABLE activejob_jobs ADD COLUMN rate_limits TEXT;

CREATE INDEX activejob_jobs_rate_limited ON activejob_jobs (priority, run_at, id)
    WHERE rate_limits IS NOT NULL AND state IN ('ready', 'scheduled');

CREATE TABLE activejob_rate_windows (
    rate_key   TEXT NOT NULL,
    per        REAL NOT NULL,
    starts     TEXT NOT NULL DEFAULT '[]',
    full_until REAL,
    touched_at REAL NOT NULL,
    PRIMARY KEY (rate_key, per)
);

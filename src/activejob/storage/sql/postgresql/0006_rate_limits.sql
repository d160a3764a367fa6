-- flow: rate limits (issue 13). A job's resolved limits travel with it as JSON
-- (flow.rate.encode_limits); each (key, per) has one row holding its sliding log:
-- the start times of the last jobs in the window, and until when it is full.
ALTER TABLE activejob_jobs ADD COLUMN rate_limits jsonb;

CREATE INDEX activejob_jobs_rate_limited ON activejob_jobs (priority, run_at, id)
    WHERE rate_limits IS NOT NULL AND state IN ('ready', 'scheduled');

CREATE TABLE activejob_rate_windows (
    rate_key   text   NOT NULL,
    per        float8 NOT NULL,
    starts     text   NOT NULL DEFAULT '[]',
    full_until float8,
    touched_at float8 NOT NULL,
    PRIMARY KEY (rate_key, per)
);

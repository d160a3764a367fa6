-- flow: cancellation. A running job asked to stop (activejob.cancel) carries the
-- attempts count of the claim it was asked in: the request holds for that claim only
-- (a retry by an operator, claimed again, is not cancelled by an old request).
ALTER TABLE activejob_jobs ADD COLUMN cancel_attempts INTEGER
    CHECK (cancel_attempts IS NULL OR typeof(cancel_attempts) = 'integer');

-- The few rows with a request: those released unrun (recovery, a drain) are discarded.
CREATE INDEX activejob_jobs_cancel ON activejob_jobs (id) WHERE cancel_attempts IS NOT NULL;

-- flow: cancellation. A running job asked to stop (activejob.cancel) carries the
-- attempts count of the claim it was asked in: the request holds for that claim only
-- (a retry by an operator, claimed again, is not cancelled by an old request).
ALTER TABLE activejob_jobs ADD COLUMN cancel_attempts INT NULL;

-- The few rows with a request (MySQL has no partial index: NULLs sort first).
CREATE INDEX activejob_jobs_cancel ON activejob_jobs (cancel_attempts);

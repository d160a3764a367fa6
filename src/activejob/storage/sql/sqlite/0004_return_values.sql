-- Return values (django.tasks' TaskResult.return_value, and any job that keeps its
-- own): the JSON text of what a succeeded job returned, written in the transaction
-- that records its result. NULL for every other job.

ALTER TABLE activejob_jobs ADD COLUMN return_value TEXT
    CHECK (return_value IS NULL OR typeof(return_value) = 'text');

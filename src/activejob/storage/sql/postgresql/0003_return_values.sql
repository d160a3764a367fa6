-- Return values (django.tasks' TaskResult.return_value, and any job that keeps its
-- own): the JSON text of what a succeeded job returned, written in the transaction
-- that records its result. NULL for every other job. Adding a nullable column
-- without a default rewrites nothing.

ALTER TABLE activejob_jobs ADD COLUMN IF NOT EXISTS return_value text;

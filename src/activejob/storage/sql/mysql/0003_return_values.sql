-- Return values (django.tasks' TaskResult.return_value, and any job that keeps its
-- own): the JSON text of what a succeeded job returned, written in the transaction
-- that records its result. NULL for every other job. DDL commits by itself here, so
-- the column is added only if it is missing (MySQL 8 has no ADD COLUMN IF NOT
-- EXISTS): this script may run again after an interrupted migration.

SET @activejob_add_return_value = IF(
    (SELECT COUNT(*) FROM information_schema.columns
     WHERE table_schema = DATABASE() AND table_name = 'activejob_jobs'
       AND column_name = 'return_value') = 0,
    'ALTER TABLE activejob_jobs ADD COLUMN return_value LONGTEXT NULL',
    'DO 0');
PREPARE activejob_add_return_value FROM @activejob_add_return_value;
EXECUTE activejob_add_return_value;
DEALLOCATE PREPARE activejob_add_return_value;

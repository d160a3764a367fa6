-- Concurrency limits: the blocked-jobs index also holds run_at, so the walk along a
-- key's line of blocked jobs (free_slot_line in queries.sql) tells a due job from
-- one not yet due in the index and reads the rows of only the key's next few jobs,
-- however long its line. The index keeps its name (the queries that name it are
-- unchanged) and its order (state, blocked_by, priority, id). One ALTER (online, in
-- place): the step applies whole or not at all, and may safely run again.
ALTER TABLE activejob_jobs
    DROP INDEX activejob_jobs_blocked,
    ADD KEY activejob_jobs_blocked (state, blocked_by, priority, id, run_at);

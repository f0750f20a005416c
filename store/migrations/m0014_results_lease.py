"""Writing a finished job's results, once, with several processes on one store: the process
writing a job's results holds a lease on it (`results_owner` until `results_lease_until`), and a
job's batch results are booked in the ledger at most once per request key (a partial UNIQUE
index; the inserts skip a key already there). Rows booked twice before this step (two
processes collecting the same job at once) are removed first, keeping the first of each."""

STEPS = [
    "ALTER TABLE batch_jobs ADD COLUMN results_owner TEXT",
    "ALTER TABLE batch_jobs ADD COLUMN results_lease_until REAL",
    "DELETE FROM ledger WHERE operation = 'batch_result' AND request_key IS NOT NULL"
    " AND id NOT IN (SELECT min(id) FROM ledger WHERE operation = 'batch_result'"
    " AND request_key IS NOT NULL GROUP BY request_key)",
    "CREATE UNIQUE INDEX ux_ledger_batch_result_key ON ledger (request_key)"
    " WHERE operation = 'batch_result'",
]

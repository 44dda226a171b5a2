/// Migration 13: TR-143 results (issue 13). The headline figures are columns (fleet group-bys and charts read them
/// without parsing); the whole computed result, with the CPE's raw values, is the JSON in `result`. An organisation
/// may name its own test server (`speedtest_base_url`; '' = inherit).
extension Schema {
    static let diagnosticResults = Migration(13, """
        CREATE TABLE diagnostic_results (
            id INTEGER PRIMARY KEY,
            device_id INTEGER NOT NULL,
            task_id INTEGER,
            test TEXT NOT NULL,
            state TEXT NOT NULL,
            ok INTEGER NOT NULL,
            at INTEGER NOT NULL,
            throughput_bps REAL,
            avg_rtt_us INTEGER,
            jitter_us REAL,
            loss REAL,
            result TEXT NOT NULL
        );
        CREATE INDEX diagnostic_results_device ON diagnostic_results(device_id, test, id);
        CREATE INDEX diagnostic_results_test_at ON diagnostic_results(test, at);
        CREATE INDEX tasks_waiting ON tasks(updated_at) WHERE state = 'waiting';
        ALTER TABLE organisations ADD COLUMN speedtest_base_url TEXT NOT NULL DEFAULT '';
        """)
}

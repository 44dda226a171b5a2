extension Schema {
    /// Version 4: indexes for inventory pages and analytics over large populations (docs/performance.md).
    /// - serial: find a device by serial (CLI, API) and sort by it without scanning the table;
    /// - (model_name, software_version) and (software_version, model_name): covering for the group-bys by model
    ///   and by version, and for filters on either;
    /// - (model_name, last_inform): a model's devices by last contact (the default inventory view of a model);
    /// - (last_inform, inform_interval) replaces (last_inform): covering for online/offline/never counts.
    /// Every session rewrites its device row; SQLStore only sets the indexed identity columns when they changed,
    /// so only the two last_inform indexes are rewritten per session.
    static let queryIndexes = Migration(4, """
        CREATE INDEX devices_serial ON devices(serial);
        CREATE INDEX devices_model_version ON devices(model_name, software_version);
        CREATE INDEX devices_model_last_inform ON devices(model_name, last_inform);
        CREATE INDEX devices_version_model ON devices(software_version, model_name);
        CREATE INDEX devices_last_inform_interval ON devices(last_inform, inform_interval);
        DROP INDEX devices_last_inform;
        ANALYZE;
        """)
}

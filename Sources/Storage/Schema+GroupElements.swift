extension Schema {
    /// Version 23: on PostgreSQL, group and tag filters match array elements with GIN indexes. The planner has no
    /// statistics for `(',' || groups || ',') ILIKE '%,x,%'` and guessed a few rows where 1M devices had 125,000,
    /// so "group + model, sorted by serial" sorted 200,000 rows (311 ms) instead of walking (model_name, serial)
    /// (0.5 ms). The index gives it element frequencies. SQLite plans that query well already.
    static let groupElements = Migration(23, "-- SQLite needs nothing here", postgres: """
        CREATE INDEX devices_group_elements ON devices USING gin (string_to_array(lower(groups), ','));
        CREATE INDEX devices_tag_elements ON devices USING gin (string_to_array(lower(tags), ','));
        ANALYZE devices;
        """)
}

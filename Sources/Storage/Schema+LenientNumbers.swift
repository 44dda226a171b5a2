extension Schema {
    /// Version 21: PostgreSQL functions that read a number from text as SQLite's CAST does (the number at the start
    /// of the text, 0 when there is none), for the rewritten `CAST(x AS REAL|INTEGER)` (`PostgresDialect.casts`):
    /// parameter values such as "N/A" or "-60 dBm" must not fail a whole fleet query. Nothing to do on SQLite.
    static let lenientNumbers = Migration(21, "-- SQLite's CAST is lenient already", postgres: """
        CREATE FUNCTION corral_real(t text) RETURNS double precision LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
          SELECT coalesce(CAST(substring(t FROM '^\\s*([-+]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][-+]?[0-9]+)?)') AS double precision), 0)
        $$;
        CREATE FUNCTION corral_int(t text) RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
          SELECT coalesce(CAST(substring(t FROM '^\\s*([-+]?[0-9]{1,18})') AS bigint), 0)
        $$;
        """)
}

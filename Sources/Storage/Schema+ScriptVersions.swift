/// Migration 12: every accepted version of a profile or automation file (issue 12): what `serve` ran from when, and
/// who put it there. A removed file is a version with empty text.
extension Schema {
    static let scriptVersions = Migration(12, """
        CREATE TABLE script_versions (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            name TEXT NOT NULL,
            text TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            created_by TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX script_versions_name ON script_versions(kind, name, id);
        """)
}

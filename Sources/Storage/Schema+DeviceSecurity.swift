/// Migration 7: re-bootstrap impostor detection and quarantine (issue 11). `superseded_ha1` keeps the credentials a
/// device had confirmed before its last re-bootstrap (using them afterwards means two parties claim the device);
/// `credential_conflict` flags that until an operator resolves it; `rebootstrap_hold` is the quarantine state
/// (1 awaiting approval, 2 approved once).
extension Schema {
    static let deviceSecurity = Migration(7, """
        ALTER TABLE devices ADD COLUMN superseded_ha1 TEXT NOT NULL DEFAULT '';
        ALTER TABLE devices ADD COLUMN credential_conflict INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE devices ADD COLUMN rebootstrap_hold INTEGER NOT NULL DEFAULT 0;
        """)
}

/// Migration 14: firmware images (issue 14). An image is a stored file with a version and the devices it is for
/// (a profile and/or a model glob; '' = any); files are deduplicated by SHA-256 within an organisation.
extension Schema {
    static let firmware = Migration(14, """
        ALTER TABLE files ADD COLUMN version TEXT NOT NULL DEFAULT '';
        ALTER TABLE files ADD COLUMN target_profile TEXT NOT NULL DEFAULT '';
        ALTER TABLE files ADD COLUMN target_model TEXT NOT NULL DEFAULT '';
        ALTER TABLE files ADD COLUMN notes TEXT NOT NULL DEFAULT '';
        CREATE INDEX files_sha256 ON files(organisation_id, sha256);
        """)
}

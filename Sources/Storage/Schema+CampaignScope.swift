/// Migration 5: campaigns belong to the organisation of whoever started them (their devices were chosen inside that
/// subtree, and only that subtree sees and steers them) and record who started them. Older campaigns (CLI) are root's.
extension Schema {
    static let campaignScope = Migration(5, """
        ALTER TABLE campaigns ADD COLUMN organisation_id INTEGER NOT NULL DEFAULT 1;
        ALTER TABLE campaigns ADD COLUMN created_by TEXT NOT NULL DEFAULT '';
        CREATE INDEX campaigns_organisation ON campaigns(organisation_id, id);
        """)
}

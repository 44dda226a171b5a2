/// Migration 17: the UTC offset of each device's clock, from its Informs' CurrentTime (device-local rollout windows).
extension Schema {
    static let deviceClock = Migration(17, """
        ALTER TABLE devices ADD COLUMN utc_offset INTEGER;
        """)
}

/// Migration 19: refused first contacts (issue 16), one row per (reason, OUI, serial, address, username) with a count
/// and first/last time; at most `OnboardingAttempt.maxRows` rows, the least recent pruned first.
extension Schema {
    static let onboardingAttempts = Migration(19, """
        CREATE TABLE onboarding_attempts (
            id INTEGER PRIMARY KEY,
            first_at INTEGER NOT NULL,
            last_at INTEGER NOT NULL,
            count INTEGER NOT NULL,
            address TEXT NOT NULL,
            oui TEXT NOT NULL,
            serial TEXT NOT NULL,
            product_class TEXT NOT NULL,
            username TEXT NOT NULL,
            reason TEXT NOT NULL,
            detail TEXT NOT NULL,
            device_id INTEGER,
            UNIQUE (reason, oui, serial, address, username)
        );
        CREATE INDEX onboarding_attempts_last ON onboarding_attempts(last_at);
        CREATE INDEX onboarding_attempts_device ON onboarding_attempts(device_id) WHERE device_id IS NOT NULL;
        """)
}

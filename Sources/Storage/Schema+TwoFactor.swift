/// Migration 8: two-factor login (TOTP) for operator users (issue 11). `user_totp` holds the secret; while
/// `confirmed_at` is 0 the enrolment is pending and `pending_codes` keeps the recovery codes shown with the QR code
/// (hashed into `user_recovery_codes` once a first code confirms it). `last_step` makes each code work once.
/// `organisations.require_admin_2fa` makes admins of that organisation and everything below it enrol.
extension Schema {
    static let twoFactor = Migration(8, """
        CREATE TABLE user_totp (
            user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
            secret TEXT NOT NULL,
            confirmed_at INTEGER NOT NULL DEFAULT 0,
            last_step INTEGER NOT NULL DEFAULT 0,
            pending_codes TEXT NOT NULL DEFAULT ''
        );
        CREATE TABLE user_recovery_codes (
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            code_hash TEXT NOT NULL,
            used_at INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (user_id, code_hash)
        );
        ALTER TABLE organisations ADD COLUMN require_admin_2fa INTEGER NOT NULL DEFAULT 0;
        """)
}

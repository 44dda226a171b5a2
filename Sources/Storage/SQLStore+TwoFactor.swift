import ACSCore
import Foundation

/// A user's TOTP enrolment as stored.
public struct TwoFactorRecord: Sendable, Equatable {
    public var secret: String
    public var confirmedAt: Int64
    public var lastStep: Int64
    /// Recovery codes in clear while the enrolment is pending (shown next to the QR code); empty once confirmed.
    public var pendingCodes: [String]
    public var isEnabled: Bool { confirmedAt > 0 }
}

/// Two-factor state of operator users and which organisations require it of their admins.
public protocol TwoFactorStore: Sendable {
    func twoFactor(userID: Int64) throws -> TwoFactorRecord?
    /// Starts (or restarts) an enrolment; refused when one is confirmed already.
    func beginTwoFactor(userID: Int64, secret: String, recoveryCodes: [String]) async throws
    /// Turns a pending enrolment on; `step` was the confirming code's; the codes are stored as their hashes.
    func confirmTwoFactor(userID: Int64, step: Int64, recoveryCodeHashes: [String], at: Int64) async throws
    /// Records `step` as used; false when it (or a later one) was used already: the atomic replay check.
    func useTOTPStep(userID: Int64, step: Int64) async throws -> Bool
    /// Spends a recovery code; false when unknown or spent.
    func useRecoveryCode(userID: Int64, hash: String, at: Int64) async throws -> Bool
    func recoveryCodesLeft(userID: Int64) throws -> Int
    /// Users whose two-factor is on.
    func usersWithTwoFactor() throws -> Set<Int64>
    func removeTwoFactor(userID: Int64) async throws
    func setAdminTwoFactorRequired(organisationID: Int64, _ required: Bool) async throws
    func organisationsRequiringAdminTwoFactor() throws -> Set<Int64>
}

extension SQLStore: TwoFactorStore {
    public func twoFactor(userID: Int64) throws -> TwoFactorRecord? {
        try db.read { c in
            var r: TwoFactorRecord?
            try c.query("SELECT secret, confirmed_at, last_step, pending_codes FROM user_totp WHERE user_id = ?", [.int(userID)]) {
                let pending = $0.text(3)
                r = TwoFactorRecord(secret: $0.text(0), confirmedAt: $0.int(1), lastStep: $0.int(2),
                                    pendingCodes: pending.isEmpty ? [] : pending.split(separator: "\n").map(String.init))
            }
            return r
        }
    }

    public func beginTwoFactor(userID: Int64, secret: String, recoveryCodes: [String]) async throws {
        try await db.write { c in
            if try c.scalar("SELECT count(*) FROM user_totp WHERE user_id = ? AND confirmed_at > 0", [.int(userID)]).int > 0 {
                throw StoreConflict("two-factor authentication is on already; turn it off first")
            }
            try c.run("""
                INSERT INTO user_totp (user_id, secret, pending_codes) VALUES (?, ?, ?)
                ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, pending_codes = excluded.pending_codes, last_step = 0
                """, [.int(userID), .text(secret), .text(recoveryCodes.joined(separator: "\n"))])
        }
    }

    public func confirmTwoFactor(userID: Int64, step: Int64, recoveryCodeHashes: [String], at: Int64) async throws {
        try await db.write { c in
            try c.run("UPDATE user_totp SET confirmed_at = ?, last_step = ?, pending_codes = '' WHERE user_id = ? AND confirmed_at = 0",
                      [.int(at), .int(step), .int(userID)])
            guard c.changes == 1 else { throw StoreConflict("no two-factor enrolment is pending") }
            try c.run("DELETE FROM user_recovery_codes WHERE user_id = ?", [.int(userID)])
            for h in recoveryCodeHashes {
                try c.run("INSERT INTO user_recovery_codes (user_id, code_hash) VALUES (?, ?)", [.int(userID), .text(h)])
            }
        }
    }

    public func useTOTPStep(userID: Int64, step: Int64) async throws -> Bool {
        try await db.write { c in
            try c.run("UPDATE user_totp SET last_step = ? WHERE user_id = ? AND last_step < ?", [.int(step), .int(userID), .int(step)])
            return c.changes == 1
        }
    }

    public func useRecoveryCode(userID: Int64, hash: String, at: Int64) async throws -> Bool {
        try await db.write { c in
            try c.run("UPDATE user_recovery_codes SET used_at = ? WHERE user_id = ? AND code_hash = ? AND used_at = 0",
                      [.int(at), .int(userID), .text(hash)])
            return c.changes == 1
        }
    }

    public func recoveryCodesLeft(userID: Int64) throws -> Int {
        try db.read { c in Int(try c.scalar("SELECT count(*) FROM user_recovery_codes WHERE user_id = ? AND used_at = 0", [.int(userID)]).int) }
    }

    public func usersWithTwoFactor() throws -> Set<Int64> {
        try db.read { c in
            var out = Set<Int64>()
            try c.query("SELECT user_id FROM user_totp WHERE confirmed_at > 0") { out.insert($0.int(0)) }
            return out
        }
    }

    public func removeTwoFactor(userID: Int64) async throws {
        try await db.write { c in
            try c.run("DELETE FROM user_totp WHERE user_id = ?", [.int(userID)])
            try c.run("DELETE FROM user_recovery_codes WHERE user_id = ?", [.int(userID)])
        }
    }

    public func setAdminTwoFactorRequired(organisationID: Int64, _ required: Bool) async throws {
        try await db.write { c in
            try c.run("UPDATE organisations SET require_admin_2fa = ? WHERE id = ?", [.int(required ? 1 : 0), .int(organisationID)])
        }
    }

    public func organisationsRequiringAdminTwoFactor() throws -> Set<Int64> {
        try db.read { c in
            var out = Set<Int64>()
            try c.query("SELECT id FROM organisations WHERE require_admin_2fa = 1") { out.insert($0.int(0)) }
            return out
        }
    }
}

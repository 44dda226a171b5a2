import ACSCore
import CWMP
import Foundation
import NIOConcurrencyHelpers
import Storage

/// Records refused first contacts off the session path: sessions add to a bounded in-memory buffer (repeats merged,
/// DeviceIds read at most 50 times a second, from bodies up to 64 KiB), and a loop writes it out every 2 s in one
/// transaction.
public final class OnboardingAttemptRecorder: Sendable {
    let buffer = NIOLockedValueBox(OnboardingAttemptBuffer())
    let maxBodyBytes: Int
    /// Refused bodies are parsed for their DeviceId only up to this size.
    static let maxParsedBytes = 64 << 10

    init(maxBodyBytes: Int) { self.maxBodyBytes = maxBodyBytes }

    func add(_ a: OnboardingAttempt) { buffer.withLockedValue { _ = $0.add(a) } }

    /// An attempt refused before its body was read: the DeviceId comes from the body if the rate allows.
    func add(reason: OnboardingAttempt.Reason, detail: String, username: String, address: String, body: [UInt8], now: Int64) {
        // Over the parse budget, or a body larger than any Inform needs: recorded without its DeviceId (merged per
        // address, username and reason), never dropped.
        var id = DeviceID(manufacturer: "", oui: "", productClass: "", serialNumber: "")
        if body.count <= Self.maxParsedBytes, buffer.withLockedValue({ $0.mayRead(now: now) }),
           let env = try? CWMPDecoder.decode(body, from: .cpe, limits: CodecLimits(maxBytes: min(maxBodyBytes, Self.maxParsedBytes))),
           case .cpeRequest(.inform(let inform)) = env.body {
            id = inform.deviceId
        }
        add(OnboardingAttempt(at: now, address: address, oui: String(id.oui.uppercased().prefix(64)), serial: String(id.serialNumber.prefix(64)),
                              productClass: String(id.productClass.prefix(64)), username: String(username.prefix(128)), reason: reason, detail: detail))
    }

    /// Writes what was collected; returns how many were dropped since the last flush.
    @discardableResult
    public func flush(to store: OnboardingStore, now: Int64) async throws -> Int {
        let (attempts, dropped) = buffer.withLockedValue { $0.drain() }
        if !attempts.isEmpty { try await store.recordOnboardingAttempts(attempts, now: now) }
        return dropped
    }
}

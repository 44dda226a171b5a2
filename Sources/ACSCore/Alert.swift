/// How bad an alert is, most severe first (the order of the alerts page and of `corral_alerts_active`).
public enum AlertSeverity: String, Sendable, Codable, CaseIterable, Comparable {
    case critical, major, minor, warning

    public static func < (a: AlertSeverity, b: AlertSeverity) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

public enum AlertState: String, Sendable, Codable, CaseIterable {
    /// The condition holds but not yet for the rule's `for` duration: nobody is told yet.
    case pending
    case active
    case cleared
}

/// One alert on one device: raised by an `alert{}` rule of an automation file, or by a handler (`dev:alert`).
public struct AlertRecord: Sendable, Equatable {
    public var id: Int64
    /// The rule's (or handler's) alert name: "weak-lte", "offline".
    public var name: String
    public var deviceID: Int64
    public var severity: AlertSeverity
    public var state: AlertState
    /// When the condition was first seen true.
    public var since: Int64
    public var raisedAt: Int64
    public var clearedAt: Int64
    public var message: String
    /// The value that raised it, as text ("-110"), when the rule tests a parameter.
    public var value: String
    /// Where it comes from: "<file>" for rules, "<file>#<n>" for handlers.
    public var source: String
    /// Who acknowledged it in the NOC, and when (0 = not acknowledged).
    public var acknowledgedBy: String
    public var acknowledgedAt: Int64

    public init(id: Int64 = 0, name: String, deviceID: Int64, severity: AlertSeverity, state: AlertState, since: Int64,
                raisedAt: Int64 = 0, clearedAt: Int64 = 0, message: String = "", value: String = "", source: String = "",
                acknowledgedBy: String = "", acknowledgedAt: Int64 = 0) {
        self.id = id; self.name = name; self.deviceID = deviceID; self.severity = severity; self.state = state; self.since = since
        self.raisedAt = raisedAt; self.clearedAt = clearedAt; self.message = message; self.value = value; self.source = source
        self.acknowledgedBy = acknowledgedBy; self.acknowledgedAt = acknowledgedAt
    }

    /// Alert names: short, no spaces, safe in URLs, metrics labels and log lines.
    public static func validName(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.count <= 64 && s.utf8.allSatisfy { c in
            (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || c == 0x2D || c == 0x5F || c == 0x2E
        }
    }
}

/// What one evaluation of an alert rule changes. Pure: the devices where the condition holds now and the rule's open
/// alerts in, changes out; the store makes each change idempotent (raising an open alert or clearing a cleared one
/// does nothing), so a pass cut short by a restart is simply done again.
public enum AlertTransitions {
    public enum Change: Sendable, Equatable {
        /// The condition started holding; raised after `hold` seconds if it keeps holding.
        case pending(deviceID: Int64, since: Int64)
        case raise(deviceID: Int64, since: Int64)
        /// The condition no longer holds: an active alert is cleared, a pending one forgotten.
        case clear(deviceID: Int64)
    }

    /// `holding`: devices where the condition is true now. `open`: the rule's pending and active alerts.
    public static func plan(holding: Set<Int64>, open: [AlertRecord], hold: Int64, now: Int64) -> [Change] {
        var out: [Change] = []
        var seen = Set<Int64>()
        for a in open.sorted(by: { $0.deviceID < $1.deviceID }) {
            seen.insert(a.deviceID)
            if !holding.contains(a.deviceID) {
                out.append(.clear(deviceID: a.deviceID))
            } else if a.state == .pending && now - a.since >= hold {
                out.append(.raise(deviceID: a.deviceID, since: a.since))
            }
        }
        for id in holding.subtracting(seen).sorted() {
            out.append(hold <= 0 ? .raise(deviceID: id, since: now) : .pending(deviceID: id, since: now))
        }
        return out
    }
}

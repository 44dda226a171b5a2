import ACSCore
import CoreMetrics
import CWMP
import Foundation
import NIOConcurrencyHelpers
import Prometheus

/// Corral's own metrics (issue 16): instrumented with swift-metrics, exported by swift-prometheus's registry at
/// /metrics. One per server, not the process-wide MetricsSystem (tests run several servers in one process);
/// `corral serve` also bootstraps MetricsSystem with this factory, so libraries' metrics land in the same registry.
public final class CorralMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    public let factory: CorralMetricsFactory
    /// The swift-metrics handles made so far, by label and dimensions (made once, then only incremented).
    private let made = NIOLockedValueBox<[String: any AnyObject & Sendable]>([:])
    private let sessions: CoreMetrics.Counter

    public init() {
        factory = CorralMetricsFactory(registry: registry)
        sessions = CoreMetrics.Counter(label: "corral_cwmp_sessions_total", factory: factory)
    }

    private func handle<M: AnyObject & Sendable>(_ label: String, _ dimensions: [(String, String)], _ make: () -> M) -> M {
        let key = label + dimensions.map { "|\($0.0)=\($0.1)" }.joined()
        return made.withLockedValue { m in
            if let found = m[key] as? M { return found }
            let new = make()
            m[key] = new
            return new
        }
    }

    func counter(_ label: String, _ dimensions: [(String, String)] = []) -> CoreMetrics.Counter {
        handle(label, dimensions) { CoreMetrics.Counter(label: label, dimensions: dimensions, factory: factory) }
    }

    func timer(_ label: String, _ dimensions: [(String, String)] = []) -> CoreMetrics.Timer {
        handle(label, dimensions) { CoreMetrics.Timer(label: label, dimensions: dimensions, factory: factory) }
    }

    /// The event codes counted by name; anything else (vendor "X …" codes) is "other", so labels stay bounded.
    static let knownEvents: Set<String> = [
        "0 BOOTSTRAP", "1 BOOT", "2 PERIODIC", "3 SCHEDULED", "4 VALUE CHANGE", "5 KICKED", "6 CONNECTION REQUEST",
        "7 TRANSFER COMPLETE", "8 DIAGNOSTICS COMPLETE", "9 REQUEST DOWNLOAD", "10 AUTONOMOUS TRANSFER COMPLETE",
        "11 DU STATE CHANGE COMPLETE", "12 AUTONOMOUS DU STATE CHANGE COMPLETE", "13 WAKEUP", "14 HEARTBEAT",
        "M Reboot", "M ScheduleInform", "M Download", "M ScheduleDownload", "M Upload", "M ChangeDUState",
    ]

    /// A session opened on this Inform.
    func sessionOpened(_ inform: Inform) {
        sessions.increment()
        for e in inform.events {
            counter("corral_informs_total", [("event", Self.knownEvents.contains(e.code) ? e.code : "other")]).increment()
        }
    }

    func sessionEnded(seconds: Double) {
        timer("corral_cwmp_session_duration_seconds").recordNanoseconds(Int64(max(0, seconds) * 1e9))
    }

    /// An Inform refused because another node holds the device's session.
    func leaseRefused() { counter("corral_session_lease_refusals_total", []).increment() }

    /// `reason`: an OnboardingAttempt reason's code, or "throttled".
    func authFailed(_ reason: String) { counter("corral_cwmp_auth_failures_total", [("reason", reason)]).increment() }

    /// A task reached a final state.
    func taskFinished(_ t: DeviceTask) {
        guard t.state.isFinal else { return }
        counter("corral_tasks_total", [("action", t.kind.label), ("outcome", t.state.rawValue)]).increment()
    }

    func connectionRequest(_ t: WakeTry) {
        let outcome = t.outcome == "woke" ? "woke" : "failed"
        counter("corral_connection_requests_total", [("method", t.method.rawValue), ("outcome", outcome)]).increment()
        timer("corral_connection_request_latency_seconds", [("method", t.method.rawValue)]).recordMilliseconds(t.millis)
    }

    /// A gauge set when /metrics is read.
    public func gauge(_ name: String, _ value: Double, labels: [(String, String)] = [], help: String) {
        registry.makeGauge(name: name, labels: labels, help: help).set(value)
    }

    /// The Prometheus text of everything registered.
    public func text() -> String { registry.emitToString() }
}

/// swift-metrics' factory over the registry, with HELP text and histogram buckets per metric name.
public struct CorralMetricsFactory: MetricsFactory {
    let registry: PrometheusCollectorRegistry

    static let help: [String: String] = [
        "corral_cwmp_sessions_total": "CWMP sessions opened.",
        "corral_informs_total": "Informs by event code (other: vendor codes).",
        "corral_cwmp_auth_failures_total": "Refused CPE authentications and first contacts, by reason.",
        "corral_tasks_total": "Tasks that reached a final state, by action and outcome.",
        "corral_connection_requests_total": "Connection requests by method and outcome (woke: the CPE opened a session).",
        "corral_cwmp_session_duration_seconds": "Duration of completed CWMP sessions.",
        "corral_connection_request_latency_seconds": "Time from sending a connection request to the CPE's session (or giving up).",
    ]

    static let buckets: [String: [Duration]] = [
        "corral_cwmp_session_duration_seconds": [.milliseconds(10), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
                                                 .seconds(1), .seconds(2), .seconds(5), .seconds(10), .seconds(30), .seconds(60)],
        "corral_connection_request_latency_seconds": [.milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
                                                      .seconds(2), .seconds(5), .seconds(10), .seconds(30)],
    ]
    static let defaultBuckets: [Duration] = [.milliseconds(5), .milliseconds(25), .milliseconds(100), .milliseconds(500), .seconds(1), .seconds(5), .seconds(30)]

    public func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        registry.makeCounter(name: label, labels: dimensions, help: Self.help[label] ?? "")
    }

    public func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        registry.makeCounter(name: label, labels: dimensions, help: Self.help[label] ?? "")
    }

    public func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        guard aggregate else { return registry.makeGauge(name: label, labels: dimensions, help: Self.help[label] ?? "") }
        return registry.makeValueHistogram(name: label, labels: dimensions, buckets: [0.001, 0.01, 0.1, 1, 10, 100, 1000], help: Self.help[label] ?? "")
    }

    public func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        registry.makeGauge(name: label, labels: dimensions, help: Self.help[label] ?? "")
    }

    public func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        registry.makeDurationHistogram(name: label, labels: dimensions, buckets: Self.buckets[label] ?? Self.defaultBuckets, help: Self.help[label] ?? "")
    }

    public func destroyCounter(_ handler: any CounterHandler) {
        if let c = handler as? Prometheus.Counter { registry.unregisterCounter(c) }
    }

    public func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {
        if let c = handler as? Prometheus.Counter { registry.unregisterCounter(c) }
    }

    public func destroyRecorder(_ handler: any RecorderHandler) {
        if let g = handler as? Prometheus.Gauge { registry.unregisterGauge(g) }
        if let h = handler as? ValueHistogram { registry.unregisterValueHistogram(h) }
    }

    public func destroyMeter(_ handler: any MeterHandler) {
        if let g = handler as? Prometheus.Gauge { registry.unregisterGauge(g) }
    }

    public func destroyTimer(_ handler: any TimerHandler) {
        if let h = handler as? DurationHistogram { registry.unregisterDurationHistogram(h) }
    }
}

import Foundation
import SpeedTest

/// UDP echo diagnostics (TR-143 UDPEchoDiagnostics, Echo Plus when DataBlockSize >= 24), and IPPing / TraceRoute
/// simulated with UDP echo datagrams: a simulated CPE is an unprivileged process and cannot send ICMP.
extension Diagnostics {
    static func echoPlan(_ test: Test, input: Inputs, link: LinkProfile) -> UDPEchoProbe.Plan {
        switch test {
        case .udpEcho:
            let size = min(65_535, input.int("DataBlockSize", default: 24))
            return UDPEchoProbe.Plan(count: min(10_000, input.int("NumberOfRepetitions", default: 1)), size: size, echoPlus: size >= 24,
                                     interval: .milliseconds(min(65_535, input.int("InterTransmissionTime", default: 1000))),
                                     sequential: false, timeout: .milliseconds(input.int("Timeout", default: 5000)), latency: link.latency)
        case .traceRoute:
            return UDPEchoProbe.Plan(count: min(3, input.int("NumberOfTries", default: 3)), size: min(65_535, input.int("DataBlockSize", default: 38)),
                                     echoPlus: false, interval: .zero, sequential: true,
                                     timeout: .milliseconds(input.int("Timeout", default: 5000)), latency: link.latency)
        default:
            // Pings go one after the other, each as soon as the previous one is answered or timed out.
            return UDPEchoProbe.Plan(count: min(10_000, input.int("NumberOfRepetitions", default: 4)), size: min(65_535, input.int("DataBlockSize", default: 64)),
                                     echoPlus: false, interval: .zero, sequential: true,
                                     timeout: .milliseconds(input.int("Timeout", default: 1000)), latency: link.latency)
        }
    }

    static func echo(_ test: Test, input: Inputs, port: Int, plan: UDPEchoProbe.Plan) async -> DiagnosticsResult {
        let host = input.string("Host")
        guard let address = await resolve(host, port: port) else { return .error("Error_CannotResolveHostName") }
        guard let run = await UDPEchoProbe.run(plan, to: address) else { return .error("Error_Internal") }
        let rtts = run.samples.compactMap(\.rttMicros)
        let ok = rtts.count, lost = run.samples.count - rtts.count
        let avg = ok > 0 ? rtts.reduce(0, +) / ok : 0
        let lo = rtts.min() ?? 0, hi = rtts.max() ?? 0
        func ms(_ us: Int) -> String { String((us + 500) / 1000) }
        var v: [(String, String)] = []
        if let ip = run.localIP { v.append(("IPAddressUsed", ip)) }
        switch test {
        case .udpEcho:
            v += [("SuccessCount", String(ok)), ("FailureCount", String(lost)), ("AverageResponseTime", String(avg)),
                  ("MinimumResponseTime", String(lo)), ("MaximumResponseTime", String(hi))]
            guard input.bool("EnableIndividualPacketResults") else { return DiagnosticsResult(state: "Complete", values: v) }
            let maxRows = input.int("UDPEchoDiagnosticsMaxResults", default: 10_000)
            let rows = run.samples.prefix(maxRows).map { s -> [(String, String)] in
                let h = s.reply
                return [("PacketSuccess", s.received != nil ? "true" : "false"), ("PacketSendTime", dateTime(s.sent)),
                        ("PacketReceiveTime", dateTime(s.received)),
                        ("TestGenSN", String(plan.echoPlus ? UInt32(s.sequence) : 0)), ("TestRespSN", String(h?.testRespSN ?? 0)),
                        ("TestRespRcvTimeStamp", String(h?.testRespRecvTimeStamp ?? 0)),
                        ("TestRespReplyTimeStamp", String(h?.testRespReplyTimeStamp ?? 0)),
                        ("TestRespReplyFailureCount", String(h?.testRespReplyFailureCount ?? 0))]
            }
            return DiagnosticsResult(state: "Complete", values: v, tables: [("IndividualPacketResult", Array(rows))])
        case .ping:
            // TR-098's IPPingDiagnostics has a misspelt MinimumResponseTmie beside MinimumResponseTime: both filled.
            v += [("SuccessCount", String(ok)), ("FailureCount", String(lost)), ("AverageResponseTime", ms(avg)),
                  ("MinimumResponseTime", ms(lo)), ("MinimumResponseTmie", ms(lo)), ("MaximumResponseTime", ms(hi)),
                  ("AverageResponseTimeDetailed", String(avg)), ("MinimumResponseTimeDetailed", String(lo)),
                  ("MaximumResponseTimeDetailed", String(hi))]
            return DiagnosticsResult(state: "Complete", values: v)
        default:
            // One hop, the host itself (a UDP echo cannot see the routers in between). Never reached: no hop found.
            guard ok > 0 else { return DiagnosticsResult(state: "Error_MaxHopCountExceeded", values: v, tables: [("RouteHops", [])]) }
            let p = input.root == "InternetGatewayDevice." ? "Hop" : ""
            let times = run.samples.map { $0.rttMicros.map { ms($0) } ?? "0" }.joined(separator: ",")
            let hop = [(p + "Host", host), (p + "HostAddress", address.ipAddress ?? host), (p + "ErrorCode", "0"), (p + "RTTimes", times)]
            v.append(("ResponseTime", ms(avg)))
            return DiagnosticsResult(state: "Complete", values: v, tables: [("RouteHops", [hop])])
        }
    }
}

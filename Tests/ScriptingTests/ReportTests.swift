import ACSCore
import CWMP
import DataModel
import Foundation
import Storage
import Testing
@testable import Scripting

/// Reports over 10,000 devices written straight into a real SQLite store.
@Suite(.serialized) struct ReportTests {
    static let now: Int64 = 1_750_000_000
    static let fleet: (SQLStore, ProfileRegistry) = {
        let dir = NSTemporaryDirectory() + "corral-reports-" + UUID().uuidString.prefix(8)
        let store = try! SQLStore(directory: dir)
        let (lib, _) = ProfileLibrary.load(directory: Repo.profiles, secrets: SecretResolver(values: ["acme-r1-onboarding": "x", "acme-ont-onboarding": "y"]))
        let done = DispatchSemaphore(value: 0)
        Task {
            try! await seed(store)
            done.signal()
        }
        done.wait()
        return (store, lib.registry)
    }()

    /// Device i: TR-181 if even (RSSI -120 + i % 61 on the standard path; every 10th an ACME router on its own
    /// profile), TR-098 if odd; software 1.0/1.1/2.0 by i % 3; last Inform i minutes ago (i % 7 == 0: 30 days ago).
    static func seed(_ store: SQLStore) async throws {
        let count = 10_000
        try await withThrowingTaskGroup(of: Void.self) { group in
            for chunk in stride(from: 0, to: count, by: 500) {
                group.addTask {
                    var writes: [StoreWrite] = []
                    for i in chunk..<min(count, chunk + 500) {
                        let tr181 = i % 2 == 0
                        let acme = tr181 && i % 10 == 0
                        let d = try await store.createDevice(Device(
                            name: "00C0FF-R\(i)", oui: acme ? "00D09E" : "00C0FF", productClass: acme ? "LTE-R1" : "GW", serialNumber: "R\(i)",
                            modelName: acme ? "R1" : (tr181 ? "SimRouter" : "SimGateway"), softwareVersion: ["1.0", "1.1", "2.0"][i % 3],
                            profile: acme ? "acme-lte-r1" : (tr181 ? "generic-tr181" : "generic-tr098"), dataModel: tr181 ? .tr181 : .tr098,
                            ipAddress: "10.0.\(i / 256).\(i % 256)", createdAt: now - 90 * 86_400,
                            lastInform: i % 7 == 0 ? now - 30 * 86_400 - Int64(i) : now - Int64(i) * 60))
                        if tr181 {
                            writes.append(.parameters(deviceID: d.id, values: [
                                ParameterValue(name: "Device.Cellular.Interface.1.RSSI", value: String(rssi(i)), type: .int),
                                ParameterValue(name: "Device.WiFi.SSID.1.SSID", value: "Net-\(i)")], at: now))
                            writes.append(.automation(.kpiSamples([KPISample(deviceID: d.id, name: "lte.rssi", at: now - 100, value: Double(rssi(i)))])))
                        }
                    }
                    try await store.apply(writes)
                }
            }
            try await group.waitForAll()
        }
    }

    static func rssi(_ i: Int) -> Int { -120 + i % 61 }

    final class Capture: @unchecked Sendable {
        var text = ""
    }

    func report(_ file: String, format: ReportFormat = .csv, args: [String: String] = [:]) throws -> (ReportSummary, String) {
        let (store, registry) = Self.fleet
        let source = try String(contentsOfFile: Repo.root + "/scripts/reports/" + file, encoding: .utf8)
        let out = Capture()
        let summary = try ReportRunner.run(source: source, name: file, store: store, registry: registry, args: args, now: Self.now,
                                           output: ReportWriter(format: format) { out.text += $0 })
        return (summary, out.text)
    }

    @Test func weakSignalFindsExactlyTheWeakDevices() throws {
        _ = Self.fleet
        let clock = ContinuousClock()
        let start = clock.now
        let (summary, csv) = try report("weak-signal.lua", args: ["rssi": "-100"])
        let elapsed = clock.now - start
        let expected = (0..<10_000).filter { $0 % 2 == 0 && Self.rssi($0) < -100 }
        #expect(summary.rows == expected.count)
        let lines = csv.split(separator: "\r\n")
        #expect(lines.first == "name,serial,profile,lte.rssi,lte.rsrp,kpi:lte.rssi:86400,status")
        #expect(lines.count == expected.count + 1)
        #expect(lines.contains("00C0FF-R0,R0,acme-lte-r1,-120,,-120,offline"))
        #expect(lines.contains("00C0FF-R2,R2,generic-tr181,-118,,-118,online"))
        print("weak-signal over 10k devices: \(summary.rows) rows in \(elapsed)")
    }

    @Test func censusCountsEveryDeviceOnce() throws {
        let (summary, json) = try report("software-census.lua", format: .json)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let rows = try #require(object["rows"] as? [[String: Any]])
        #expect(rows.count == summary.rows)
        #expect(rows.compactMap { $0["devices"] as? Int }.reduce(0, +) == 10_000)
        let r1 = rows.filter { $0["model"] as? String == "R1" }.compactMap { $0["devices"] as? Int }.reduce(0, +)
        #expect(r1 == 1_000)
    }

    @Test func offlineReportUsesTheCutoff() throws {
        let (summary, table) = try report("offline.lua", format: .table, args: ["days": "7"])
        #expect(summary.rows == (0..<10_000).filter { $0 % 7 == 0 || $0 * 60 > 7 * 86_400 }.count)
        #expect(table.contains("days_offline"))
        #expect(table.hasSuffix("(\(summary.rows) rows)\n"))
    }

    @Test func failingReportsSayWhy() {
        func failure(_ source: String) -> ScriptError? {
            let (store, registry) = Self.fleet
            do {
                _ = try ReportRunner.run(source: source, name: "bad.lua", store: store, registry: registry, now: Self.now,
                                         output: ReportWriter(format: .csv) { _ in }, limits: ScriptLimits(instructions: 1_000_000, memoryBytes: 8 << 20))
                return nil
            } catch let e as ScriptError { return e } catch { return ScriptError(.invalid, "\(error)") }
        }
        #expect(failure("report{columns={'name'}}\nfor dev in devices{limit=1} do dev:set('wifi.ssid', 'x') end")?.message
                == "bad.lua:2: dev:set is not available in a report")
        #expect(failure("while true do end")?.kind == .instructionLimit)
        #expect(failure("report{columns={'x'}}\nfor dev in devices{where = 'nope.alias < 3'} do end")?.message.contains("unknown alias or path 'nope.alias'") == true)
        #expect(failure("emit{}")?.message == "bad.lua:1: call report{ columns = {...} } before emit")
        #expect(failure("local x = 1")?.message == "bad.lua: the script never calls report{}")
    }

    @Test func csvFromTheCLIDefusesFormulasLikeTheAPI() throws {
        let (store, registry) = Self.fleet
        var out = ""
        _ = try ReportRunner.run(source: "report{columns={'v'}}\nemit{v = \"=HYPERLINK(\\\"http://evil\\\")\"}\nemit{v = '-12'}\nemit{v = '@SUM(A1)'}",
                                 name: "f.lua", store: store, registry: registry, now: Self.now, output: ReportWriter(format: .csv) { out += $0 })
        #expect(out == "v\r\n\"'=HYPERLINK(\"\"http://evil\"\")\"\r\n-12\r\n'@SUM(A1)\r\n", "\(out)")
    }

    @Test func reportOutputHasABudget() throws {
        let (store, registry) = Self.fleet
        var written = 0
        var limits = ScriptLimits(instructions: 100_000_000, memoryBytes: 64 << 20)
        limits.outputBytes = 4 << 20
        limits.outputRows = 1000
        func run(_ source: String) -> ScriptError? {
            do {
                _ = try ReportRunner.run(source: source, name: "big.lua", store: store, registry: registry, now: Self.now,
                                         output: ReportWriter(format: .csv) { written += $0.utf8.count }, limits: limits)
                return nil
            } catch let e as ScriptError { return e } catch { return ScriptError(.invalid, "\(error)") }
        }
        // One 1 MiB string emitted again and again (the attack emitted 10 MiB 60 times): stopped at the byte budget.
        let bytes = run("report{columns={'x'}}\nlocal s = ('x'):rep(1 << 20)\nfor i = 1, 60 do emit{x = s} end")
        #expect(bytes?.kind == .outputLimit, "\(String(describing: bytes))")
        #expect(bytes?.message == "big.lua:3: report output limit of 4 MiB exceeded", "\(String(describing: bytes))")
        #expect(written <= 5 << 20, "\(written) bytes written")
        let rows = run("report{columns={'n'}}\nfor i = 1, 1e6 do emit{n = i} end")
        #expect(rows?.kind == .outputLimit && rows?.message.contains("1000 rows") == true, "\(String(describing: rows))")
        #expect(run("report{columns={'n'}}\nfor i = 1, 1000 do emit{n = i} end") == nil)
    }
}

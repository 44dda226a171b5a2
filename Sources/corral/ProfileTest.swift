import ACSCore
import ArgumentParser
import Engine
import Foundation
import NetHTTP
import Scripting
import Simulator
import Storage

/// `corral profile test`: each profile with a `test = { model = ... }` section is run against simulated devices on
/// a private server: they must onboard onto it, get its desired values, resolve its aliases and report its KPIs.
struct ProfileTest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "test", abstract: "Run profiles against simulated devices (their `test` section).")
    @OptionGroup var store: StoreOptions
    @Option(help: "Profile directory (default: profiles_dir of the config, or CORRAL_PROFILES).") var profiles: String?
    @Option(help: "Simulated devices per profile.") var count = 2
    @Option(help: "Seconds to wait for each profile.") var timeout: Double = 40
    @Option(name: .customLong("datamodels"), help: "Directory with the BBF data-model XML files.") var datamodels = "datamodels"
    @Argument(help: "Profile names (default: every profile with a test section).") var names: [String] = []

    func run() async throws {
        NetRuntime.installNIOExecutor()
        var base = try ConfigLoading.load(store)
        if let profiles { base.profilesDirectory = profiles }
        let (library, problems) = base.profileLibrary()
        for p in problems where p.kind != .warning { FileHandle.standardError.write(Data("error: \(p.message)\n".utf8)) }
        var failed = 0
        for profile in library.registry.profiles where names.isEmpty ? library.tests[profile.name]?.isEmpty == false : names.contains(profile.name) {
            let issues = try await test(profile, library: library, base: base)
            if issues.isEmpty {
                print("PASS \(profile.name)")
            } else {
                failed += 1
                print("FAIL \(profile.name)")
                for i in issues { print("  - \(i)") }
            }
        }
        if failed > 0 || problems.contains(where: { $0.kind != .warning }) { throw ExitCode(1) }
    }

    func test(_ profile: DeviceProfile, library: ProfileLibrary, base: CorralConfig) async throws -> [String] {
        let spec = library.tests[profile.name] ?? LuaTable()
        guard let model = spec["model"].string else { return ["no test = { model = ... } section"] }
        guard !profile.onboardingUsername.isEmpty else { return ["onboarding is off (secret not set?): simulated devices cannot onboard"] }
        let modelPath = model == "tr181" || model == "tr098" || model.hasPrefix("/") ? model
            : ((base.profilesDirectory ?? ".") as NSString).appendingPathComponent(model)
        var config = base
        config.dataDirectory = NSTemporaryDirectory() + "corral-profile-test-" + UUID().uuidString.prefix(8)
        config.host = "127.0.0.1"
        config.cwmpPort = 0
        config.httpPort = 0
        config.speedtestPort = 0   // test servers are not part of a profile test (and several run at once)
        config.udpEchoPort = 0
        var o = config.profiles[profile.name] ?? CorralConfig.ProfileOverride()
        o.informInterval = 2
        config.profiles[profile.name] = o
        defer { try? FileManager.default.removeItem(atPath: config.dataDirectory) }
        let server = try CorralServer(config: config)
        try await server.start()
        var sc = SimulatorConfig(acsURL: "http://127.0.0.1:\(server.cwmpPort)/cwmp", count: count, model: modelPath)
        sc.serialPrefix = "PT-"
        sc.username = profile.onboardingUsername
        sc.password = profile.onboardingPassword
        sc.dataModelDirectory = datamodels
        sc.jitter = 0.2
        let sim = try Simulator(config: sc)
        try await sim.start()
        defer { Task { await sim.stop(); await server.stop() } }

        var issues: [String] = []
        let deadline = Date().addingTimeInterval(timeout)
        func wait(_ what: String, _ condition: () throws -> Bool) async throws -> Bool {
            while Date() < deadline {
                if try condition() { return true }
                try await Task.sleep(for: .milliseconds(200))
            }
            issues.append("timed out waiting for \(what)")
            return false
        }
        guard try await wait("onboarding", { try server.store.devices(limit: 100, offset: 0).filter(\.credentialsConfirmed).count == count }) else { return issues }
        let devices = try server.store.devices(limit: 100, offset: 0)
        for d in devices where d.profile != profile.name { issues.append("\(d.name) matched profile \(d.profile)") }
        guard issues.isEmpty, let kind = devices.first?.dataModel else { return issues }
        // Two more sessions each, so the profile's provisioning ran after onboarding.
        let informs = try devices.map { try server.store.informs(deviceID: $0.id, limit: 100).count }
        _ = try await wait("two more sessions", {
            try zip(devices, informs).allSatisfy { try server.store.informs(deviceID: $0.id, limit: 100).count >= $1 + 2 }
        })
        for d in devices {
            guard let cpe = sim.device(serial: d.serialNumber) else { continue }
            for want in profile.desired {
                guard let path = profile.path(for: want.name, kind: kind) else { issues.append("desired \(want.name): unknown alias"); continue }
                let have = cpe.value(path)
                if have.map({ LuaConvert.same($0, want.value, want.type ?? .string) }) != true {
                    issues.append("\(d.name): desired \(want.name) = \(want.value), CPE has \(have ?? "no such parameter")")
                }
            }
            for (alias, path) in profile.aliases.sorted(by: { $0.key < $1.key }) {
                guard let p = profile.path(for: alias, kind: kind) else { continue }
                if cpe.value(p) == nil { issues.append("\(d.name): alias \(alias) -> \(path) does not exist on the device") }
            }
            for k in profile.kpis where try server.store.kpiSamples(deviceID: d.id, name: k, limit: 1).isEmpty {
                issues.append("\(d.name): no sample of KPI \(k)")
            }
            if let expect = spec["expect"].table {
                for name in expect.keys {
                    let want = expect[name].string ?? ""
                    let have = profile.path(for: name, kind: kind).flatMap { cpe.value($0) }
                    if have != want { issues.append("\(d.name): expected \(name) = \(want), CPE has \(have ?? "nothing")") }
                }
            }
            for f in try server.store.faults(deviceID: d.id, limit: 50) where f.source == "provision" {
                issues.append("\(d.name): provision fault: \(f.message) (\(f.detail))")
            }
        }
        return issues
    }
}

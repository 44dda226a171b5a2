import ACSCore
import CLua
import Foundation
import LuaSandbox

/// The text of one profile file.
public struct ProfileSource: Sendable, Equatable {
    public let file: String
    public let text: String
    public init(file: String, text: String) { self.file = file; self.text = text }
}

/// The built-in profiles (the same text as profiles/generic-*.lua; a test keeps them identical) and the public
/// default secrets that keep a fresh install working. Operators override both.
public enum BuiltinProfiles {
    public static let defaultSecrets = ["generic-tr181-onboarding": "onboard-tr181", "generic-tr098-onboarding": "onboard-tr098"]

    /// Profiles that still accept a public default onboarding password: anyone who reads the README can onboard a
    /// device with them (and, under rebootstrap = "allow", re-bootstrap a known serial). Warned about at start-up and
    /// on the dashboard.
    public static func usingPublicSecret(_ registry: ProfileRegistry) -> [String] {
        let publicPasswords = Set(defaultSecrets.values)
        return registry.profiles.filter { !$0.onboardingUsername.isEmpty && publicPasswords.contains($0.onboardingPassword) }.map(\.name)
    }
    public static var sources: [ProfileSource] {
        [ProfileSource(file: "builtin:generic-tr181.lua", text: genericTR181), ProfileSource(file: "builtin:generic-tr098.lua", text: genericTR098)]
    }
}

/// Where `secret "name"` values come from: the config's secrets, then CORRAL_SECRET_<NAME>, then the public
/// built-in defaults of the generic profiles.
public struct SecretResolver: Sendable {
    public var values: [String: String]
    /// Environment values by upper-cased key (CORRAL_SECRET_ stripped).
    public var environment: [String: String]
    public init(values: [String: String] = [:], environment: [String: String] = [:]) { self.values = values; self.environment = environment }

    public func value(_ name: String) -> String? {
        values[name] ?? environment[Self.envKey(name)] ?? BuiltinProfiles.defaultSecrets[name]
    }

    /// "acme-r1-onboarding" -> "ACME_R1_ONBOARDING".
    public static func envKey(_ name: String) -> String { String(name.uppercased().map { $0.isLetter || $0.isNumber ? $0 : "_" }) }
}

/// Every profile, loaded and checked: the pure registry the engine uses for onboarding and matching, plus the
/// sources that session VMs load to get the hooks.
public struct ProfileLibrary: Sendable {
    public let sources: [ProfileSource]
    public let secrets: SecretResolver
    public private(set) var registry: ProfileRegistry
    /// `test = {...}` sections by profile name, for `corral profile test`.
    public let tests: [String: LuaTable]

    /// Built-ins plus `directory/*.lua` (a file may replace a built-in by using its name). Problems are returned,
    /// not thrown: one broken profile must not keep the others from working.
    public static func load(directory: String?, secrets: SecretResolver = SecretResolver()) -> (ProfileLibrary, [ScriptError]) {
        var sources = BuiltinProfiles.sources
        var problems: [ScriptError] = []
        if let directory {
            do {
                for file in try FileManager.default.contentsOfDirectory(atPath: directory).sorted() where file.hasSuffix(".lua") {
                    let path = (directory as NSString).appendingPathComponent(file)
                    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                        problems.append(ScriptError(.invalid, "\(file): not readable as UTF-8 text"))
                        continue
                    }
                    sources.append(ProfileSource(file: file, text: text))
                }
            } catch {
                if FileManager.default.fileExists(atPath: directory) { problems.append(ScriptError(.invalid, "\(directory): \(error)")) }
            }
        }
        return load(sources: sources, secrets: secrets)
    }

    public static func load(sources: [ProfileSource], secrets: SecretResolver = SecretResolver()) -> (ProfileLibrary, [ScriptError]) {
        let vm = LuaVM()
        let (parsed, problems) = install(sources, secrets: secrets, into: vm)
        let lib = ProfileLibrary(sources: sources, secrets: secrets, registry: ProfileRegistry(parsed.map(\.profile)),
                                 tests: Dictionary(parsed.map { ($0.profile.name, $0.test) }, uniquingKeysWith: { _, b in b }))
        return (lib, problems)
    }

    /// Applies operator overrides (credentials, interval) after loading.
    public mutating func update(_ body: (inout DeviceProfile) -> Void) {
        registry = ProfileRegistry(registry.profiles.map { var p = $0; body(&p); return p })
    }

    /// Loads the profiles into a state and returns their hooks by profile name.
    func installHooks(into vm: LuaVM) -> [String: [String: Int32]] {
        let (parsed, _) = Self.install(sources, secrets: secrets, into: vm)
        return Dictionary(parsed.map { ($0.profile.name, $0.hooks) }, uniquingKeysWith: { _, b in b })
    }

    static func install(_ sources: [ProfileSource], secrets: SecretResolver, into vm: LuaVM) -> ([ProfileParser.Parsed], [ScriptError]) {
        var parsed: [String: ProfileParser.Parsed] = [:]
        var order: [String] = []
        var problems: [ScriptError] = []
        for source in sources {
            let sink = ProfileSink()
            let run = ScriptRun(context: .profileLoad, name: source.file, now: 0, seed: 0)
            run.sink = sink
            do {
                let ref = try vm.load(source.text, name: source.file)
                _ = try vm.call(ref, run: run, limits: .profileLoad)
                // Globals set at load stay readable; run-time assignments fail, so sessions never share state.
                vm.withEnvironment(of: ref) { corral_freeze_env(vm.L, $0) }
                vm.release(ref)
                guard let def = sink.definition else { throw ScriptError(.invalid, "\(source.file): the file never calls profile{}") }
                guard sink.count == 1 else { throw ScriptError(.invalid, "\(source.file): one profile{} per file") }
                switch ProfileParser.parse(def, file: source.file, secrets: secrets) {
                case .success(let p):
                    problems += p.warnings.map { ScriptError(.warning, $0) }
                    if parsed[p.profile.name] == nil { order.append(p.profile.name) }
                    parsed[p.profile.name] = p
                case .failure(let e): throw e
                }
            } catch let e as ScriptError {
                problems.append(e)
            } catch {
                problems.append(ScriptError(.invalid, "\(source.file): \(error)"))
            }
        }
        // extends: resolve parents first; a cycle or a missing parent is a problem of the child.
        var resolved: [String: ProfileParser.Parsed] = [:]
        func resolve(_ name: String, _ chain: [String]) -> ProfileParser.Parsed? {
            if let r = resolved[name] { return r }
            guard let p = parsed[name] else { return nil }
            guard let parentName = p.extends else { resolved[name] = p; return p }
            if chain.contains(parentName) {
                problems.append(ScriptError(.invalid, "\(p.profile.source): extends cycle \((chain + [name, parentName]).joined(separator: " -> "))"))
                return nil
            }
            guard let parent = resolve(parentName, chain + [name]) else {
                problems.append(ScriptError(.invalid, "\(p.profile.source): extends unknown profile '\(parentName)'"))
                return nil
            }
            let r = ProfileParser.inherit(p, from: parent)
            resolved[name] = r
            return r
        }
        let out = order.compactMap { resolve($0, []) }
        for p in out where p.profile.onboardingUsername.isEmpty != p.profile.onboardingPassword.isEmpty {
            problems.append(ScriptError(.invalid, "\(p.profile.source): onboarding needs both username and password"))
        }
        return (out, problems)
    }
}

/// Collects what a profile file declares.
final class ProfileSink: DeclarationSink {
    var definition: LuaTable?
    var count = 0
    func profile(_ def: LuaTable) -> String? {
        count += 1
        definition = def
        return nil
    }
}

extension ProfileLibrary {
    /// Checks a profile file against the loaded ones without installing it: it may extend them, or replace the
    /// file of the same name. Returns the profiles it defines and the problems (errors and warnings) that are its own.
    public func validate(file: String, text: String) -> (profiles: [DeviceProfile], problems: [ScriptError]) {
        var others = sources.filter { $0.file != file }
        others.append(ProfileSource(file: file, text: text))
        let (candidate, problems) = Self.load(sources: others, secrets: secrets)
        let mine = candidate.registry.profiles.filter { $0.source == file }
        var own = problems.filter { $0.message.hasPrefix(file + ":") }
        // A name taken by another file would silently replace that profile once installed.
        for p in mine {
            if let taken = registry.profile(named: p.name), taken.source != file {
                own.append(ScriptError(.warning, "\(file): profile '\(p.name)' is already defined in \(taken.source); this file would replace it"))
            }
        }
        if mine.isEmpty && !own.contains(where: { $0.kind != .warning }) {
            own.append(ScriptError(.invalid, "\(file): no profile was defined"))
        }
        return (mine, own)
    }

    /// The Lua text a profile was loaded from.
    public func sourceText(of profile: DeviceProfile) -> String? { sources.first { $0.file == profile.source }?.text }
}

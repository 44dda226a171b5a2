import ACSCore
import Foundation
import HTTPAuth
import Scripting
import Storage

/// Profiles and automation files reloaded while `serve` runs: on a file change (the directories are polled), on
/// SIGHUP, or after an upload through the API. Nothing is installed unless it validates: a profile set with an error
/// changes nothing (profiles depend on each other through `extends`), an automation file that fails keeps its
/// previous version running. Every accepted change of a file is kept in `script_versions` with who and when, and
/// written to the audit log with the old and new text.
public final class ScriptReloader: @unchecked Sendable {
    public struct Outcome: Sendable, Equatable {
        /// False when the profiles were refused (nothing changed).
        public var accepted: Bool
        /// Files whose new version is now running ("profiles/acme.lua", "automations/alerts.lua").
        public var changed: [String]
        public var problems: [String]
    }

    let config: CorralConfig
    let catalog: ProfileCatalog
    let automations: AutomationRunner
    let store: SQLStore
    let log: Log
    let shards: Int
    private let lock = NSLock()
    private var lastFingerprint = ""
    private var last: (at: Int64, by: String, outcome: Outcome)?
    /// The reload before this one: reloads run one after another, each with the versions it recorded.
    private var previous: Task<Outcome, Never>?
    private var node: String?

    init(config: CorralConfig, catalog: ProfileCatalog, automations: AutomationRunner, store: SQLStore, shards: Int, log: Log = Log(label: "reload")) {
        self.config = config; self.catalog = catalog; self.automations = automations; self.store = store; self.shards = shards; self.log = log
        lastFingerprint = fingerprint()
    }

    public var profilesDirectory: String? { config.profilesDirectory }
    public var automationsDirectory: String? { automations.directory }
    /// The last reload, for the admin pages.
    public var lastReload: (at: Int64, by: String, outcome: Outcome)? { lock.withLock { last } }

    /// Loads both directories again and installs what validates; records the accepted versions. Reloads queue:
    /// two at once (an upload and a SIGHUP) never record the same version twice or under the other's name.
    public func reload(by actor: String) async -> Outcome {
        await queued { await self.reloadNow(by: actor) }
    }

    private func queued(_ work: @escaping @Sendable () async -> Outcome) async -> Outcome {
        let task = lock.withLock { () -> Task<Outcome, Never> in
            let before = previous
            let t = Task { _ = await before?.value; return await work() }
            previous = t
            return t
        }
        return await task.value
    }

    /// This node's name when several nodes share the database: the versions it records are announced to the others,
    /// which then follow them (`followCluster`).
    public var clusterNode: String? {
        get { lock.withLock { node } }
        set { lock.withLock { node = newValue } }
    }

    /// Writes the newest stored version of every profile and automation file into this node's directories, and
    /// reloads when a file changed (in the reload queue, so an upload on this node is not interleaved).
    @discardableResult
    public func followCluster(by actor: String) async -> Outcome {
        await queued {
            var changed: [String] = [], problems: [String] = []
            for (kind, dir, label) in [(ScriptVersion.Kind.profile, self.profilesDirectory, "profiles/"), (.automation, self.automationsDirectory, "automations/")] {
                guard let dir else { continue }
                do {
                    let r = ScriptSync.apply(try self.store.latestScriptVersions(kind: kind), to: dir)
                    changed += r.changed.map { label + $0 }
                    problems += r.problems
                } catch {
                    problems.append("reading the stored \(kind.rawValue) versions: \(error)")
                }
            }
            for p in problems { self.log.error("following the cluster's scripts: \(p)") }
            guard !changed.isEmpty else { return Outcome(accepted: true, changed: [], problems: problems) }
            self.log.info("\(actor): wrote \(changed.joined(separator: ", "))")
            return await self.reloadNow(by: actor)
        }
    }

    private func reloadNow(by actor: String) async -> Outcome {
        let outcome = lock.withLock { () -> Outcome in
            let (library, problems) = config.profileLibrary()
            let errors = problems.filter { $0.kind != .warning }.map(\.message)
            guard errors.isEmpty else {
                log.error("reload by \(actor) refused: \(errors.joined(separator: "; "))")
                return Outcome(accepted: false, changed: [], problems: errors)
            }
            let old = catalog.current.library
            let oldTexts = Dictionary(old.sources.map { ($0.file, $0.text) }, uniquingKeysWith: { a, _ in a })
            let newTexts = Dictionary(library.sources.map { ($0.file, $0.text) }, uniquingKeysWith: { a, _ in a })
            let profilesChanged = Set(oldTexts.keys).union(newTexts.keys).filter { oldTexts[$0] != newTexts[$0] }.sorted()
            // Overrides from the config apply too: a changed registry (a secret) needs new session states as well.
            if !profilesChanged.isEmpty || old.registry.profiles != library.registry.profiles {
                catalog.replace(library: library, engine: catalog.current.engine == nil ? nil : ScriptEngine(library: library, shards: shards))
            }
            let (automationsChanged, automationProblems) = automations.reload(registry: library.registry)
            lastFingerprint = fingerprint()
            let o = Outcome(accepted: true, changed: profilesChanged.map { "profiles/" + $0.replacingOccurrences(of: "builtin:", with: "") }
                                                   + automationsChanged.map { "automations/" + $0 },
                            problems: problems.map(\.message) + automationProblems)
            if !o.changed.isEmpty { log.info("reload by \(actor): \(o.changed.joined(separator: ", "))") }
            return o
        }
        lock.withLock { last = (Int64(Date().timeIntervalSince1970), actor, outcome) }
        if outcome.accepted { await recordVersions(by: actor) }
        return outcome
    }

    /// Stores a version of every profile and automation file whose text differs from its newest stored version
    /// (and an empty one for a removed file), with an audit entry holding the old and new text.
    public func recordVersions(by actor: String) async {
        let now = Int64(Date().timeIntervalSince1970)
        let profiles = Dictionary(catalog.current.library.sources.filter { !$0.file.hasPrefix("builtin:") }.map { ($0.file, $0.text) },
                                  uniquingKeysWith: { a, _ in a })
        var versions: [ScriptVersion] = []
        var audit: [AuditEntry] = []
        for (kind, current) in [(ScriptVersion.Kind.profile, profiles), (.automation, automations.loadedTexts)] {
            guard let latest = try? store.latestScriptVersions(kind: kind) else { continue }
            for name in Set(current.keys).union(latest.keys).sorted() {
                let text = current[name] ?? ""
                let before = latest[name]?.text
                guard before != text, !(before == nil && text.isEmpty) else { continue }
                versions.append(ScriptVersion(kind: kind, name: name, text: text, sha256: SHA256.hex(text), createdAt: now, createdBy: actor))
                audit.append(AuditEntry(at: now, actor: actor, userID: nil, tokenID: nil, remote: "", organisationID: Organisation.rootID,
                                        action: "\(kind.rawValue).version", objectType: kind.rawValue, objectID: name,
                                        before: before, after: text, status: 200))
            }
        }
        do { try await store.recordScriptVersions(versions, audit: audit, announceAs: clusterNode) } catch { log.error("recording script versions: \(error)") }
    }

    /// Names, sizes and modification times of the `.lua` files of both directories.
    func fingerprint() -> String {
        [config.profilesDirectory, automations.directory].compactMap { $0 }.map { dir in
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".lua") }.sorted()
            return names.map { n -> String in
                let a = try? FileManager.default.attributesOfItem(atPath: (dir as NSString).appendingPathComponent(n))
                let t = (a?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
                return "\(dir)/\(n):\(a?[.size] ?? 0):\(t)"
            }.joined(separator: "|")
        }.joined(separator: "||")
    }

    /// Polls the directories every `interval`; a change reloads (after the files stop changing for one interval, so a
    /// half-written file is not loaded).
    func watch(every interval: Duration) -> Task<Void, Never> {
        Task { [weak self] in
            var pending: String?
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard let self else { return }
                let now = self.fingerprint()
                let changed = self.lock.withLock { now != self.lastFingerprint }
                guard changed else { pending = nil; continue }
                if pending == now {
                    pending = nil
                    _ = await withTaskExecutorPreference(Executors.scripts) { await self.reload(by: "file change") }
                } else {
                    pending = now
                }
            }
        }
    }
}

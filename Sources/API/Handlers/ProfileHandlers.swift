import ACSCore
import Foundation
import NetHTTP
import Scripting
import Storage

/// Device profiles: read (what a profile matches, its aliases, desired values, KPIs, hooks) and validate a
/// candidate file against the loaded ones. Profiles are installed from the profiles directory at start; the API
/// does not install them (no hot reload).
enum ProfileHandlers {
    struct MatchView: Encodable {
        var manufacturer: [String], oui: [String], productClass: [String], model: [String], dataModel: String?
    }
    struct DesiredView: Encodable { var name: String; var value: String; var type: String? }

    /// Onboarding passwords never leave the server; the Lua source only for admins (it may hold inline secrets).
    struct ProfileView: Encodable {
        var name: String
        var description: String
        var file: String
        var priority: Int
        var dataModel: String?
        var match: MatchView
        var onboardingUsername: String
        var onboarding: Bool
        var informInterval: Int
        var aliases: [String: String]
        var desired: [DesiredView]
        var kpis: [String]
        var hooks: [String]
        var verifyAfter: Int
        /// Quirk switches that are on (`quirks = { no_cookies = true }`).
        var quirks: [String]
        var script: String?

        init(_ p: DeviceProfile, script: String? = nil) {
            name = p.name; description = p.description; file = p.source; priority = p.priority; dataModel = p.dataModel?.rawValue
            let m = p.match
            match = MatchView(manufacturer: m.manufacturer, oui: m.oui, productClass: m.productClass, model: m.model, dataModel: m.dataModel?.rawValue)
            onboardingUsername = p.onboardingUsername
            onboarding = !p.onboardingUsername.isEmpty && !p.onboardingPassword.isEmpty
            informInterval = p.informInterval
            aliases = p.aliases
            desired = p.desired.map { DesiredView(name: $0.name, value: $0.value, type: $0.type?.rawValue) }
            kpis = p.kpis; hooks = p.hooks; verifyAfter = p.verifyAfter; quirks = p.quirks.enabled
            self.script = script
        }
    }
    struct ProfileList: Encodable { var profiles: [ProfileView] }

    static func list(_ ctx: RequestContext) async throws -> HTTPResponse {
        JSON.response(ProfileList(profiles: ctx.api.config.profiles.profiles.map { ProfileView($0) }))
    }

    static func show(_ ctx: RequestContext) async throws -> HTTPResponse {
        let p = try profile(ctx)
        let script = ctx.me.has(.admin) ? ctx.api.config.profileLibrary?.sourceText(of: p) : nil
        return JSON.response(ProfileView(p, script: script))
    }

    static func profile(_ ctx: RequestContext) throws -> DeviceProfile {
        let name = ctx.params["name"] ?? ""
        guard let p = ctx.api.config.profiles.profile(named: name) else { throw APIError.notFound("profile \(name.prefix(80))") }
        return p
    }

    struct ValidateRequest: Decodable {
        var script: String
        /// File name the candidate would have in the profiles directory (a loaded file of that name is replaced).
        var file: String?
    }
    struct Problem: Encodable { var kind: String; var message: String }
    struct ValidateResult: Encodable {
        var valid: Bool
        var file: String
        var problems: [Problem]
        var profiles: [ProfileView]
    }

    static let maxScriptBytes = 256 << 10

    /// Loads the candidate in a sandboxed VM with the profile-load limits, next to the loaded profiles (so
    /// `extends` works). Nothing is installed; the answer is 200 with `valid` and the problems either way.
    static func validate(_ ctx: RequestContext) async throws -> HTTPResponse {
        let body = try ctx.body(ValidateRequest.self)
        let file = body.file ?? "candidate.lua"
        guard file.count <= 64, file.hasSuffix(".lua"), file.count > 4,
              file.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }) else {
            throw APIError.invalid("file must be a name like acme-r2.lua (letters, digits, '.', '_', '-'; at most 64 characters)")
        }
        guard body.script.utf8.count <= maxScriptBytes else { throw APIError.tooLarge("profile scripts are limited to \(maxScriptBytes) bytes") }
        guard let library = ctx.api.config.profileLibrary else { throw APIError.conflict("this server has no profile library loaded") }
        ctx.touching("profile", file, organisation: ctx.me.organisation.id)
        // Lua runs on the script worker like reports and campaigns, not on the cooperative pool.
        let text = body.script
        let (profiles, problems) = try await ctx.api.scripts.run { library.validate(file: file, text: text) }
        let valid = !profiles.isEmpty && !problems.contains { $0.kind != .warning }
        return JSON.response(ValidateResult(valid: valid, file: file, problems: problems.map { Problem(kind: $0.kind.rawValue, message: $0.message) },
                                            profiles: profiles.map { ProfileView($0) }))
    }
}

import ACSCore
import CWMP
import DataModel

/// Turns the table a profile file passes to `profile{}` into a DeviceProfile. Pure: secrets come in as a map.
enum ProfileParser {
    static let hookEvents = ["inform", "bootstrap", "boot", "periodic", "value_change", "connection_request",
                             "transfer_complete", "diagnostics_complete", "reboot", "download"]
    static let knownKeys: Set<String> = ["name", "auth", "rebootstrap", "connection_request_networks", "description", "extends", "priority", "match", "onboarding", "inform_interval",
                                         "aliases", "desired", "stun", "xmpp", "wake", "kpis", "verify_after", "on", "test", "virtual", "speedtest_base_url", "quirks", "request_download", "schedule_download"]

    struct Parsed {
        var profile: DeviceProfile
        var extends: String?
        /// Hook functions, anchored in the loading state's registry.
        var hooks: [String: Int32]
        var test: LuaTable
        /// Which fields the file set (inheritance fills in the others).
        var explicit: Set<String>
        var warnings: [String] = []
    }

    static func parse(_ t: LuaTable, file: String, secrets: SecretResolver) -> Result<Parsed, ScriptError> {
        func fail(_ m: String) -> Result<Parsed, ScriptError> { .failure(ScriptError(.invalid, "\(file): \(m)")) }
        for k in t.keys where !knownKeys.contains(k) { return fail("unknown field '\(k)' (known: \(knownKeys.sorted().joined(separator: ", ")))") }
        guard let name = t["name"].string, !name.isEmpty else { return fail("profile needs a name") }
        guard name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }) else {
            return fail("profile name '\(name)' may only use letters, digits, '-', '_' and '.'")
        }
        var p = DeviceProfile(name: name)
        p.source = file
        p.description = t["description"].string ?? ""
        p.priority = Int(t["priority"].int ?? 0)
        var explicit = Set(t.keys)
        var warnings: [String] = []

        if let m = t["match"].table {
            func list(_ key: String) -> [String] {
                switch m[key] {
                case .table(let l): return l.array.compactMap(\.string)
                case let v: return v.string.map { [$0] } ?? []
                }
            }
            p.match = ProfileMatch(manufacturer: list("manufacturer"), oui: list("oui"), productClass: list("product_class"), model: list("model"))
            if let dm = m["data_model"].string {
                guard let kind = DataModelKind(rawValue: dm) else { return fail("match.data_model must be tr181 or tr098, not '\(dm)'") }
                p.match.dataModel = kind
            }
            for k in m.keys where !["manufacturer", "oui", "product_class", "model", "data_model"].contains(k) {
                return fail("unknown match rule '\(k)'")
            }
        } else if !t["match"].isNil {
            return fail("match must be a table")
        }

        if let o = t["onboarding"].table {
            p.onboardingUsername = o["username"].string ?? ""
            switch o["password"] {
            case .table(let s) where s["__secret"].string != nil:
                let key = s["__secret"].string!
                if let v = secrets.value(key) {
                    p.onboardingPassword = v
                } else {
                    // Not fatal: the profile still manages devices; it just cannot onboard new ones.
                    warnings.append("\(file): secret '\(key)' is not set (corral.json \"secrets\" or CORRAL_SECRET_\(envName(key))): onboarding with this profile is off")
                    p.onboardingUsername = ""
                }
            case .null: break
            default:
                return fail("onboarding.password must be secret \"name\": passwords never live in profile files")
            }
        }
        if let i = t["inform_interval"].int {
            guard i >= 10, i <= 7 * 86_400 else { return fail("inform_interval must be 10..604800 seconds") }
            p.informInterval = Int(i)
        }
        if let v = t["verify_after"].int { p.verifyAfter = Int(max(0, v)) }
        if !t["speedtest_base_url"].isNil {
            guard let u = t["speedtest_base_url"].string, u.hasPrefix("http://") || u.hasPrefix("https://") else {
                return fail("speedtest_base_url must be an http:// URL (where devices reach Corral's test server)")
            }
            p.speedtestBaseURL = u
        }

        if let a = t["aliases"].table {
            for k in a.keys {
                guard let path = a[k].string, !path.isEmpty else { return fail("alias '\(k)' must map to a path string") }
                p.aliases[k] = path
            }
        }
        if let d = t["desired"].table {
            for k in d.keys.sorted() {
                switch desiredValue(d[k], secrets: secrets) {
                case .success(let (v, type)): p.desired.append(DesiredValue(name: k, value: v, type: type))
                case .failure(let e): return fail("desired['\(k)']: \(e.message)")
                }
            }
        }
        if let s = t["stun"].table {
            // STUN (TR-069 Annex G): see cwmp-reference 5.2. Names relative to the data-model root.
            let map: [(String, String)] = [("enable", "STUNEnable"), ("server", "STUNServerAddress"), ("port", "STUNServerPort"),
                                           ("username", "STUNUsername"), ("password", "STUNPassword"),
                                           ("min_keepalive", "STUNMinimumKeepAlivePeriod"), ("max_keepalive", "STUNMaximumKeepAlivePeriod")]
            for k in s.keys where !map.contains(where: { $0.0 == k }) { return fail("unknown stun setting '\(k)'") }
            for (key, param) in map where !s[key].isNil {
                switch desiredValue(s[key], secrets: secrets) {
                case .success(let (v, type)):
                    let t: XSDType? = key == "max_keepalive" ? .int : (key == "port" || key == "min_keepalive") ? .unsignedInt : type
                    p.desired.append(DesiredValue(name: "ManagementServer." + param, value: v, type: t))
                case .failure(let e): return fail("stun.\(key): \(e.message)")
                }
            }
            if case .bool(let b) = s["enable"] { p.stunEnabled = b } else if let str = s["enable"].string { p.stunEnabled = str == "1" || str == "true" }
            explicit.insert("desired")
        }
        if let x = t["xmpp"].table {
            // XMPP connection requests (TR-069 Annex K, TR-181 Device.XMPP.): the device's connection settings, and
            // ManagementServer.ConnReqXMPPConnection pointing at them. Static values: one account per device is the
            // device's (or the operator's provisioning) business; a shared account with per-device resources works.
            let conn = "XMPP.Connection.1."
            let map: [(String, String, XSDType?)] = [
                ("enable", conn + "Enable", .boolean), ("server", conn + "Server.1.ServerAddress", nil),
                ("port", conn + "Server.1.Port", .unsignedInt), ("domain", conn + "Domain", nil),
                ("username", conn + "Username", nil), ("password", conn + "Password", nil), ("resource", conn + "Resource", nil),
                ("use_tls", conn + "UseTLS", .boolean), ("keepalive", conn + "KeepAliveInterval", .long)]
            for k in x.keys where !map.contains(where: { $0.0 == k }) { return fail("unknown xmpp setting '\(k)'") }
            for (key, param, type) in map where !x[key].isNil {
                switch desiredValue(x[key], secrets: secrets) {
                case .success(let (v, t)): p.desired.append(DesiredValue(name: param, value: v, type: type ?? t))
                case .failure(let e): return fail("xmpp.\(key): \(e.message)")
                }
            }
            if case .bool(let b) = x["enable"] { p.xmppEnabled = b } else if let str = x["enable"].string { p.xmppEnabled = str == "1" || str == "true" }
            if p.xmppEnabled {
                p.desired.append(DesiredValue(name: "ManagementServer.ConnReqXMPPConnection", value: "Device.XMPP.Connection.1", type: .string))
            }
            explicit.insert("desired")
        }
        if let n = t["connection_request_networks"].table {
            let nets = n.array.compactMap(\.string)
            guard nets.count == n.array.count, nets.allSatisfy({ $0 == "any" || CIDR($0) != nil }) else {
                return fail("connection_request_networks must list CIDRs (\"10.0.0.0/8\") or \"any\"")
            }
            p.connectionRequestNetworks = nets
        } else if !t["connection_request_networks"].isNil {
            return fail("connection_request_networks must be a list")
        }
        if !t["rebootstrap"].isNil {
            guard let v = t["rebootstrap"].string, let policy = RebootstrapPolicy(rawValue: v) else {
                return fail("rebootstrap must be \"allow\", \"quarantine\" or \"certificate\"")
            }
            p.rebootstrap = policy
        }
        if let a = t["auth"].table {
            for k in a.keys where !["basic_over_http", "client_certificate"].contains(k) {
                return fail("unknown auth setting '\(k)' (known: basic_over_http, client_certificate)")
            }
            if !a["client_certificate"].isNil {
                guard let v = a["client_certificate"].string, ["required", "optional"].contains(v) else {
                    return fail("auth.client_certificate must be \"required\" or \"optional\"")
                }
                p.requireClientCertificate = v == "required"
            }
            if !a["basic_over_http"].isNil {
                guard case .bool(let b) = a["basic_over_http"] else { return fail("auth.basic_over_http must be true or false") }
                p.basicOverHTTP = b
                if b { warnings.append("\(file): auth.basic_over_http: devices of this profile may send their password in clear text over plain HTTP") }
            }
        } else if !t["auth"].isNil {
            return fail("auth must be a table")
        }
        if !t["request_download"].isNil {
            guard let v = t["request_download"].string, let policy = RequestDownloadPolicy(rawValue: v) else {
                return fail("request_download must be \"record\" or \"latest_firmware\"")
            }
            p.requestDownload = policy
        }
        if !t["schedule_download"].isNil {
            guard case .bool(let b) = t["schedule_download"] else { return fail("schedule_download must be true or false") }
            p.scheduleDownload = b
        }
        if let q = t["quirks"].table {
            for k in q.keys where !ProfileQuirks.names.contains(k) {
                return fail("unknown quirk '\(k)' (known: \(ProfileQuirks.names.joined(separator: ", ")))")
            }
            guard q.array.isEmpty else { return fail("quirks must be a table of name = true (known: \(ProfileQuirks.names.joined(separator: ", ")))") }
            for k in q.keys {
                guard case .bool(let b) = q[k] else { return fail("quirks.\(k) must be true or false") }
                p.quirks[name: k] = b
            }
        } else if !t["quirks"].isNil {
            return fail("quirks must be a table (quirks = { no_cookies = true })")
        }
        if let w = t["wake"].table {
            var order: [WakeMethod] = []
            for v in w.array {
                guard let name = v.string, let m = WakeMethod(rawValue: name) else { return fail("wake must list \"xmpp\", \"udp\" and/or \"http\"") }
                if !order.contains(m) { order.append(m) }
            }
            guard !order.isEmpty, order.count == w.array.count else { return fail("wake must list \"xmpp\", \"udp\" and/or \"http\", each once") }
            p.wakeOrder = order
        }
        if let k = t["kpis"].table {
            p.kpis = k.array.compactMap(\.string)
            guard p.kpis.count == k.array.count else { return fail("kpis must be a list of alias names") }
        }
        var hooks: [String: Int32] = [:]
        if let on = t["on"].table {
            for k in on.keys {
                guard hookEvents.contains(k) else { return fail("unknown hook '\(k)' (known: \(hookEvents.joined(separator: ", ")))") }
                guard case .function(let ref) = on[k] else { return fail("hook '\(k)' must be a function") }
                hooks[k] = ref
            }
            p.hooks = hookEvents.filter { hooks[$0] != nil }
        }
        if !t["virtual"].isNil {
            guard let v = t["virtual"].table, v.array.isEmpty else { return fail("virtual must be a table of name = function(dev) ... end") }
            guard v.keys.count <= 50 else { return fail("at most 50 virtual parameters") }
            for k in v.keys {
                guard k.utf8.count <= 64, k.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." || $0 == "_" || $0 == "-" }), k.first?.isLowercase == true else {
                    return fail("virtual parameter '\(k.prefix(64))': a lowercase name of letters, digits, '.', '_' or '-' (at most 64)")
                }
                guard case .function(let ref) = v[k] else { return fail("virtual parameter '\(k)' must be a function(dev)") }
                guard p.aliases[k] == nil else { return fail("virtual parameter '\(k)' is also an alias") }
                hooks[Self.virtualHook(k)] = ref
                p.aliases[k] = DeviceProfile.virtualRoot + k
                p.virtuals.append(k)
            }
        }
        return .success(Parsed(profile: p, extends: t["extends"].string, hooks: hooks, test: t["test"].table ?? LuaTable(), explicit: explicit, warnings: warnings))
    }

    static func desiredValue(_ v: LuaValue, secrets: SecretResolver) -> Result<(String, XSDType?), ScriptError> {
        switch v {
        case .bool(let b): return .success((b ? "true" : "false", .boolean))
        case .int(let i): return .success((String(i), i < 0 ? .int : .unsignedInt))
        case .number(let d): return .success((LuaValue.format(d), nil))
        case .string(let s): return .success((s, nil))
        case .table(let t) where t["__secret"].string != nil:
            let key = t["__secret"].string!
            guard let value = secrets.value(key) else { return .failure(ScriptError(.invalid, "secret '\(key)' is not set")) }
            return .success((value, .string))
        default: return .failure(ScriptError(.invalid, "must be a string, number, boolean or secret, not \(v.typeName)"))
        }
    }

    static func envName(_ key: String) -> String { SecretResolver.envKey(key) }

    /// The hooks-table key of a virtual parameter's function.
    static func virtualHook(_ name: String) -> String { "virtual:" + name }

    /// Fills what a profile does not set from the profile it extends (aliases and desired values merge, child wins).
    static func inherit(_ child: Parsed, from parent: Parsed) -> Parsed {
        var c = child
        let p = parent.profile
        if !c.explicit.contains("match") { c.profile.match = p.match }
        if c.profile.match.dataModel == nil { c.profile.match.dataModel = p.match.dataModel }
        if !c.explicit.contains("onboarding") {
            c.profile.onboardingUsername = p.onboardingUsername
            c.profile.onboardingPassword = p.onboardingPassword
        }
        if !c.explicit.contains("inform_interval") { c.profile.informInterval = p.informInterval }
        if !c.explicit.contains("verify_after") { c.profile.verifyAfter = p.verifyAfter }
        if !c.explicit.contains("kpis") { c.profile.kpis = p.kpis }
        if !c.explicit.contains("stun") { c.profile.stunEnabled = p.stunEnabled }
        if !c.explicit.contains("speedtest_base_url") { c.profile.speedtestBaseURL = p.speedtestBaseURL }
        if !c.explicit.contains("xmpp") { c.profile.xmppEnabled = p.xmppEnabled }
        if !c.explicit.contains("wake") { c.profile.wakeOrder = p.wakeOrder }
        if !c.explicit.contains("rebootstrap") { c.profile.rebootstrap = p.rebootstrap }
        if !c.explicit.contains("quirks") { c.profile.quirks = p.quirks }
        if !c.explicit.contains("request_download") { c.profile.requestDownload = p.requestDownload }
        if !c.explicit.contains("schedule_download") { c.profile.scheduleDownload = p.scheduleDownload }
        if !c.explicit.contains("connection_request_networks") { c.profile.connectionRequestNetworks = p.connectionRequestNetworks }
        if !c.explicit.contains("auth") {
            c.profile.basicOverHTTP = p.basicOverHTTP
            c.profile.requireClientCertificate = p.requireClientCertificate
        }
        c.profile.aliases = p.aliases.merging(c.profile.aliases) { _, mine in mine }
        let mine = Set(c.profile.desired.map(\.name))
        c.profile.desired = p.desired.filter { !mine.contains($0.name) } + c.profile.desired
        for (event, ref) in parent.hooks where c.hooks[event] == nil { c.hooks[event] = ref }
        c.profile.virtuals = p.virtuals.filter { !c.profile.virtuals.contains($0) } + c.profile.virtuals
        c.profile.hooks = hookEvents.filter { c.hooks[$0] != nil }
        if c.test.isEmpty { c.test = parent.test }
        return c
    }
}

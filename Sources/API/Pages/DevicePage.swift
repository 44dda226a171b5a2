import ACSCore
import CWMP
import DataModel
import Engine
import Foundation
import GUI
import NetHTTP
import Storage

/// /devices/{id}: summary, WiFi and LTE cards, actions, parameter tree, tasks and faults, metadata.
/// Parts refresh on the device's events (`data-live`, corral.js) and by slow polling (`?part=summary|tasks`); the
/// tree loads one level at a time (`/devices/{id}/tree`).
enum DevicePage {
    static func show(_ ctx: RequestContext) async throws -> HTTPResponse {
        let d = try ctx.device(try ctx.pathID())
        switch PageKit.part(ctx) {
        case "summary": return PageKit.html(try summary(ctx, d))
        case "tasks": return PageKit.html(try tasks(ctx, d))
        case "cards": return PageKit.html(try cards(ctx, d))
        case "alerts": return PageKit.html(try alerts(ctx, d))
        case "performance": return PageKit.html(try performance(ctx, d))
        case "backups": return PageKit.html(try backups(ctx, d))
        case "validations": return PageKit.html(try validations(ctx, d))
        case "attempts": return PageKit.html(try refusedAttempts(ctx, d))
        default: break
        }
        let root = d.dataModel?.root ?? "Device."
        let base = "/devices/\(d.id)"
        // Shown only when the device has refused attempts (onboarding troubleshooting).
        let refused = try refusedAttempts(ctx, d)
        let refusedCard: Markup = refused == .empty ? .empty : """
            <section class="card" id="device-attempts" aria-labelledby="h-attempts"><h2 id="h-attempts">Refused attempts</h2>
            <div data-poll="\(base)?part=attempts" data-every="30">\(refused)</div></section>
            """
        return PageKit.page(ctx, d.name, section: "devices", """
            <p><a href="/devices">« Devices</a></p>
            <h1>\(d.name)</h1>
            <div class="grid">
            <section class="card" aria-labelledby="h-summary"><h2 id="h-summary">Summary</h2>
            <div id="summary" data-poll="\(base)?part=summary" data-every="5" data-live="device.*,task.*,firmware.*" data-live-device="\(d.id)">\(try summary(ctx, d))</div></section>
            \(try actions(ctx, d))
            </div>
            \(refusedCard)
            <div class="grid" id="cards" data-poll="\(base)?part=cards" data-every="10" data-live="task.*,device.*" data-live-device="\(d.id)" data-live-every="30">\(try cards(ctx, d))</div>
            <section class="card" aria-labelledby="h-alerts"><h2 id="h-alerts">Alerts</h2>
            <div id="device-alerts" data-poll="\(base)?part=alerts" data-every="10" data-live="alert.*" data-live-device="\(d.id)">\(try alerts(ctx, d))</div></section>
            <section class="card" aria-labelledby="h-perf"><h2 id="h-perf">Performance test</h2>\(performanceForm(ctx, d))
            <div id="performance" data-poll="\(base)?part=performance" data-every="5" data-live="task.*" data-live-device="\(d.id)">\(try performance(ctx, d))</div></section>
            <section class="card" aria-labelledby="h-backups"><h2 id="h-backups">Backups</h2>\(backupsForm(ctx, d))
            <div id="backups" data-poll="\(base)?part=backups" data-every="10" data-live="task.*" data-live-device="\(d.id)">\(try backups(ctx, d))</div></section>
            <section class="card" aria-labelledby="h-validate"><h2 id="h-validate">Launch checklist</h2>\(validateForm(ctx, d))
            <div id="validations" data-poll="\(base)?part=validations" data-every="60" data-live="validate.done" data-live-device="\(d.id)">\(try validations(ctx, d))</div></section>
            <div class="grid">
            <section class="card" aria-labelledby="h-tasks"><h2 id="h-tasks">Tasks and faults</h2>
            <div id="tasks" data-poll="\(base)?part=tasks" data-every="3" data-live="task.*,device.*" data-live-device="\(d.id)" data-live-every="15">\(try tasks(ctx, d))</div></section>
            \(try metadata(ctx, d))
            </div>
            <section class="card tree" aria-labelledby="h-tree"><h2 id="h-tree">Parameters</h2>
            <form data-fragment="tree-search" action="\(base)/tree" class="row" role="search" aria-label="Search parameters">
            <label for="psearch">Path contains<input id="psearch" name="search" size="36" placeholder="WiFi.SSID"></label>
            <button type="submit" class="secondary">Search</button></form>
            <div id="tree-search"></div>
            \(node(ctx, d, path: root, open: true))
            \(try ctx.store.parameters(deviceID: d.id, prefix: DeviceProfile.virtualRoot).isEmpty ? .empty : node(ctx, d, path: DeviceProfile.virtualRoot))
            </section>
            """)
    }

    // MARK: parts

    /// Attempts shown on the device page (newest first).
    static let attemptLimit = 10

    /// The device's newest refused contacts with the meaning of each reason; empty when there are none.
    static func refusedAttempts(_ ctx: RequestContext, _ d: Device) throws -> Markup {
        let list = try ctx.store.onboardingAttempts(organisationPath: ctx.me.organisation.path, deviceID: d.id, search: "", limit: attemptLimit)
        guard !list.isEmpty else { return .empty }
        let now = Time.now
        let rows: [Markup] = list.map { a -> Markup in
            """
            <tr data-attempt="\(a.id)"><td>\(Layout.ago(a.lastAt, now: now, iso: Time.iso(a.lastAt)))</td><td>\(a.count)</td>\
            <td>\(Time.iso(a.firstAt) ?? "")</td><td>\(a.address)</td><td>\(a.username)</td>\
            <td title="\(a.reason.hint)"><code>\(a.reason.rawValue)</code></td><td class="wrap">\(a.detail)</td></tr>
            """
        }
        return """
            <p class="muted">Contacts with this device's OUI and serial that Corral refused (newest \(attemptLimit) at most).</p>
            <div class="tablewrap"><table id="device-attempt-table"><thead><tr><th>Last seen</th><th>Count</th><th>First seen (UTC)</th>\
            <th>Address</th><th>Username tried</th><th>Reason</th><th>Detail</th></tr></thead><tbody>\(rows)</tbody></table></div>
            \(OnboardingPage.legend(list.map(\.reason), page: false))
            <p><a href="/onboarding?search=\(URLText.component(d.serialNumber))">All refused attempts for serial \(d.serialNumber)</a></p>
            """
    }

    /// Open alerts first, then the last cleared ones.
    static func alerts(_ ctx: RequestContext, _ d: Device) throws -> Markup {
        var q = AlertQuery()
        q.deviceID = d.id
        q.states = [.pending, .active]
        q.limit = 50
        let open = try ctx.store.alerts(q)
        q.states = [.cleared]
        q.limit = 5
        return AlertsPage.table(ctx, open + (try ctx.store.alerts(q)), showDevice: false)
    }

    static func summary(_ ctx: RequestContext, _ d: Device) throws -> Markup {
        let now = Time.now
        let names = try PageKit.organisationNames(ctx)
        let uptimePath = (d.dataModel?.root ?? "Device.") + "DeviceInfo.UpTime"
        let uptime = try ctx.store.parameters(deviceID: d.id, prefix: uptimePath).first { $0.path == uptimePath }
        let up: Markup = uptime.flatMap { Int($0.value) }.map { s -> Markup in "\(s / 86400) d \(s % 86400 / 3600) h \(s % 3600 / 60) min" }
            ?? Markup("<span class=\"muted\">unknown</span>")
        return """
            <dl class="kv">
            <dt>Status</dt><dd id="device-status">\(Layout.status(d.status(now: now).rawValue))</dd>
            <dt>ID</dt><dd>\(d.id)</dd><dt>OUI / serial</dt><dd>\(d.oui)-\(d.serialNumber)</dd><dt>Product class</dt><dd>\(d.productClass)</dd>
            <dt>Model</dt><dd>\(d.manufacturer) \(d.modelName)</dd><dt>Software</dt><dd>\(d.softwareVersion)</dd><dt>Hardware</dt><dd>\(d.hardwareVersion)</dd>
            <dt>Profile</dt><dd>\(d.profile)</dd><dt>Organisation</dt><dd>\(names[d.organisationID] ?? "")</dd>
            <dt>IP address</dt><dd>\(d.ipAddress)</dd><dt>Uptime</dt><dd>\(up)</dd>
            <dt>Last inform</dt><dd>\(Layout.ago(d.lastInform, now: now, iso: Time.iso(d.lastInform)))</dd>
            <dt>Last boot</dt><dd>\(Layout.ago(d.lastBoot, now: now, iso: Time.iso(d.lastBoot)))</dd>
            <dt>Inform interval</dt><dd>\(d.informInterval) s</dd>
            \(reachability(ctx, d))
            </dl>
            \(security(d))
            """
    }

    /// Re-bootstrap security: a credential conflict or a quarantined re-bootstrap, with what an admin can do.
    static func security(_ d: Device) -> Markup {
        var out = ""
        if d.credentialConflict {
            out += "<p class=\"error\" id=\"device-conflict\" role=\"alert\"><strong>Credential conflict:</strong> someone used the credentials this device had before its last re-bootstrap. Two parties claim it; tasks carrying secrets are held. Check the device in the field, then resolve it (Actions, or POST /api/v1/devices/\(d.id)/resolve-conflict).</p>"
        }
        if d.rebootstrapHold == .awaitingApproval {
            out += "<p class=\"notice\" id=\"device-quarantine\" role=\"status\"><strong>Re-bootstrap awaiting approval:</strong> the device (or someone with its serial) asked to be onboarded again. Approve it if it was factory-reset (Actions, or POST /api/v1/devices/\(d.id)/approve-rebootstrap).</p>"
        }
        return Markup(raw: out)
    }

    /// Connection-request methods, NAT, the STUN binding and the last wake-up (what was tried, what woke it).
    static func reachability(_ ctx: RequestContext, _ d: Device) -> Markup {
        guard let r = ctx.api.config.waker?.report(for: d) else { return "" }
        let lines = r.lines
        return """
            <dt>Wake-up</dt><dd id="device-wake">\(lines[0])</dd>
            <dt>NAT</dt><dd id="device-nat">\(lines[1])</dd>
            \(Markup(raw: lines.dropFirst(2).map { "<dt>\(Markup.escape($0.hasPrefix("STUN") ? "STUN binding" : "Last wake-up"))</dt><dd>\(Markup.escape($0.hasPrefix("last wake-up ") ? String($0.dropFirst(13)) : $0))</dd>" }.joined()))
            """
    }

    static func taskForm(_ d: Device, _ json: String, _ button: Markup, confirm: String? = nil, id: String) -> Markup {
        PageKit.apiForm("/api/v1/devices/\(d.id)/tasks", body: json, confirm: confirm, cls: "inline",
                        "<button type=\"submit\" id=\"\(id)\"\(Markup.when(confirm != nil, " class=\"danger\""))>\(button)</button>")
    }

    static func actions(_ ctx: RequestContext, _ d: Device) throws -> Markup {
        var items: [Markup] = []
        let root = d.dataModel?.root ?? "Device."
        if ctx.can("device.summon") {
            items.append(PageKit.apiForm("/api/v1/devices/\(d.id)/summon", body: "{}", cls: "inline",
                                         "<button type=\"submit\" id=\"act-summon\" class=\"secondary\">Summon (connection request)</button>"))
        }
        // Re-bootstrap security: only when there is something to decide.
        if d.credentialConflict && ctx.can("device.resolve_conflict") {
            items.append(PageKit.apiForm("/api/v1/devices/\(d.id)/resolve-conflict", body: "{}",
                                         confirm: "Resolve the credential conflict of \(d.name)? Whoever holds its current credentials keeps it, and held secrets are sent again.",
                                         cls: "inline", "<button type=\"submit\" class=\"danger\" id=\"act-resolve-conflict\">Resolve credential conflict</button>"))
        }
        if d.rebootstrapHold == .awaitingApproval && ctx.can("device.approve_rebootstrap") {
            items.append(PageKit.apiForm("/api/v1/devices/\(d.id)/approve-rebootstrap", body: "{}",
                                         confirm: "Approve the re-bootstrap of \(d.name)? Its next BOOTSTRAP gets new credentials.",
                                         cls: "inline", "<button type=\"submit\" id=\"act-approve-rebootstrap\">Approve re-bootstrap</button>"))
        }
        if ctx.can("task.create") {
            items.append(taskForm(d, #"{"action":"refresh","path":"\#(root)","connection_request":true,"timeout":60}"#, "Refresh all parameters", id: "act-refresh"))
            items.append(taskForm(d, #"{"action":"reboot","connection_request":true}"#, "Reboot", confirm: "Reboot \(d.name)?", id: "act-reboot"))
            // The answer (QueuedTransfers.<n>.*) shows in the task list below.
            items.append(taskForm(d, #"{"action":"queued_transfers","connection_request":true}"#, "Queued transfers", id: "act-queued-transfers"))
        }
        if ctx.can("task.factory_reset") {
            items.append(PageKit.apiForm("/api/v1/devices/\(d.id)/factory-reset", body: #"{"connection_request":true}"#,
                                         confirm: "Factory reset \(d.name)? All its settings are lost; it onboards again.", cls: "inline",
                                         "<button type=\"submit\" class=\"danger\" id=\"act-factory-reset\">Factory reset</button>"))
        }
        if ctx.can("device.reset_credentials") {
            items.append(PageKit.apiForm("/api/v1/devices/\(d.id)/reset-credentials", body: "{}", confirm: OnboardingPage.resetConfirm(d.name),
                                         done: OnboardingPage.resetDone(d.name), cls: "inline", label: "Reset the credentials of \(d.name)",
                                         "<button type=\"submit\" class=\"secondary\" id=\"act-reset-credentials\">Reset credentials</button>"))
        }
        if ctx.can("device.delete") {
            // The confirmation asks to type the name (corral.js: data-confirm-type); then the inventory opens.
            let question: String = "Delete \(d.name) (ID \(d.id)) and everything stored about it: parameters, tasks, history, backups. "
                + "This cannot be undone; if the CPE informs again with onboarding credentials, it is onboarded as a new device. "
                + "Type the device name (\(d.name)) to confirm."
            items.append(PageKit.apiForm("/api/v1/devices/\(d.id)", method: "DELETE", confirm: question,
                                         typed: d.name, then: "/devices", cls: "inline", label: "Delete \(d.name)",
                                         "<button type=\"submit\" class=\"danger\" id=\"act-delete\">Delete device</button>"))
        }
        if ctx.can("task.download") {
            let files = try ctx.store.files(under: ctx.me.organisation.path)
            if files.isEmpty {
                items.append("<p class=\"muted\">No files uploaded yet (<a href=\"/admin/files\">Files</a>).</p>")
            } else {
                let opts: [Markup] = files.map { f in "<option value=\"\(f.id)\">\(f.name) (\(f.fileType), \(PageKit.bytes(f.size)))</option>" }
                items.append(PageKit.apiForm("/api/v1/devices/\(d.id)/download", body: #"{"connection_request":true}"#,
                                             confirm: "Send this file to \(d.name)?", cls: "row", """
                    <label for="dl-file">Download a file<select id="dl-file" name="file_id" data-kind="int">\(opts)</select></label>
                    <button type="submit" id="act-download">Download</button>
                    """))
            }
        }
        let body: Markup = items.isEmpty ? "<p class=\"muted\">Your role (\(ctx.me.role.rawValue)) can view this device, not act on it.</p>"
            : "<div class=\"stack\" id=\"actions\">\(items)</div>"
        return "<section class=\"card\" aria-labelledby=\"h-actions\"><h2 id=\"h-actions\">Actions</h2>\(body)</section>"
    }

    /// The stored value of each alias that the device's profile defines (one read for all of them).
    static func aliasValues(_ ctx: RequestContext, _ d: Device, _ aliases: [String]) throws -> [String: (path: String, value: StoredParameter?)] {
        let paths = Dictionary(aliases.compactMap { a in Aliases.path(a, d, ctx.api.config.profiles).map { (a, $0) } }, uniquingKeysWith: { a, _ in a })
        let stored = try ctx.store.parameterValues(deviceIDs: [d.id], paths: Array(Set(paths.values)))[d.id] ?? [:]
        return paths.mapValues { ($0, stored[$0]) }
    }

    /// A "get" task reading these aliases now (the API resolves them through the device's profile).
    static func readForm(_ d: Device, _ aliases: [String], _ label: Markup, id: String) -> Markup {
        let paths = aliases.map { "\"\($0)\"" }.joined(separator: ",")
        return taskForm(d, #"{"action":"get","paths":[\#(paths)],"connection_request":true}"#, label, id: id)
    }

    static func cards(_ ctx: RequestContext, _ d: Device) throws -> Markup {
        try wifiCard(ctx, d) + lteCard(ctx, d)
    }

    /// WiFi from the profile's wifi.* / wifi5.* aliases: SSID, channel, and forms to change SSID and password.
    static func wifiCard(_ ctx: RequestContext, _ d: Device) throws -> Markup {
        let canSet = ctx.can("task.create")
        var bands: [Markup] = []
        var known: [String] = []
        for (i, band) in Aliases.wifiBands.enumerated() {
            let names = ["ssid", "channel", "password", "enable"].map { band.prefix + "." + $0 }
            let v = try aliasValues(ctx, d, names)
            guard let ssid = v[names[0]] else { continue }
            known += names.filter { v[$0] != nil && !$0.hasSuffix(".password") }
            guard let stored = ssid.value, i == 0 || !stored.value.isEmpty else { continue }
            let channel = v[names[1]]?.value?.value ?? "—"
            var form: Markup = .empty
            if canSet {
                form = PageKit.apiForm("/api/v1/devices/\(d.id)/tasks", body: #"{"action":"set","connection_request":true}"#,
                                       cls: "stack", label: "Change \(band.label) SSID", """
                    <input type="hidden" name="parameters.0.path" value="\(names[0])">
                    <label for="ssid-\(i)">New SSID<input id="ssid-\(i)" name="parameters.0.value" value="\(stored.value)" required maxlength="32"></label>
                    <button type="submit" id="set-ssid-\(i)">Change SSID</button>
                    """)
                if v[names[2]] != nil {
                    form = form + PageKit.apiForm("/api/v1/devices/\(d.id)/tasks", body: #"{"action":"set","connection_request":true}"#,
                                                  cls: "stack", label: "Change \(band.label) password", """
                        <input type="hidden" name="parameters.0.path" value="\(names[2])">
                        <label for="psk-\(i)">New WiFi password (8-63 characters)<input id="psk-\(i)" name="parameters.0.value" type="password" \
                        minlength="8" maxlength="63" autocomplete="new-password" required></label>
                        <button type="submit" id="set-psk-\(i)">Change password</button>
                        """)
                }
            }
            bands.append("""
                <div class="stack"><dl class="kv"><dt>\(band.label)</dt><dd id="ssid-value-\(i)">\(stored.value)</dd><dt>Channel</dt><dd>\(channel)</dd>
                <dt>Read</dt><dd>\(Layout.ago(stored.updatedAt, now: Time.now, iso: Time.iso(stored.updatedAt)))</dd></dl>\(form)</div>
                """)
        }
        let read: Markup = canSet && !known.isEmpty ? readForm(d, known, "Read WiFi values now", id: "act-wifi") : .empty
        let empty: Markup = known.isEmpty
            ? "<p class=\"muted\">Profile \(d.profile.isEmpty ? "(none)" : d.profile) defines no wifi.ssid alias.</p>"
            : "<p class=\"muted\">No WiFi values stored yet.</p>"
        return """
            <section class="card" id="wifi-card" aria-labelledby="h-wifi"><h2 id="h-wifi">WiFi</h2>\
            \(bands.isEmpty ? empty : bands.joined())\(read)</section>
            """
    }

    /// LTE from the profile's lte.* aliases: current value as a meter, and the sampled history when the profile
    /// lists the alias under `kpis` (newest 96 samples).
    static func lteCard(_ ctx: RequestContext, _ d: Device) throws -> Markup {
        let v = try aliasValues(ctx, d, Aliases.signals.map(\.alias))
        guard !v.isEmpty else { return .empty }
        var rows: [Markup] = []
        var charts: [Markup] = []
        for s in Aliases.signals {
            if let p = v[s.alias]?.value, Double(p.value) != nil {
                rows.append("""
                    <dt>\(s.name)</dt><dd><meter min="\(Int(s.worst))" max="\(Int(s.best))" low="\(Int(s.good))" high="\(Int(s.best))" \
                    optimum="\(Int(s.best))" value="\(p.value)" aria-label="\(s.name)">\(p.value)</meter> \(p.value) \(s.unit)</dd>
                    """)
            }
            let samples = try ctx.store.kpiSamples(deviceID: d.id, name: s.alias, limit: 96).reversed().map { (at: $0.at, value: $0.value) }
            if !samples.isEmpty {
                charts.append("<div class=\"stack\" data-kpi=\"\(s.alias)\"><h3>\(s.name) history (\(s.unit))</h3>\(Charts.line(Array(samples), title: "\(s.name) history", unit: " \(s.unit)", range: s.worst...s.best))</div>")
            }
        }
        let canSet = ctx.can("task.create")
        let read: Markup = canSet ? readForm(d, Aliases.signals.map(\.alias).filter { v[$0] != nil }, "Read LTE values now", id: "act-lte") : .empty
        let current: Markup = rows.isEmpty ? "<p class=\"muted\">No LTE values stored yet.</p>" : "<dl class=\"kv\" id=\"lte-values\">\(rows)</dl>"
        let profile = ctx.api.config.profiles.profile(named: d.profile)
        let history: Markup = charts.isEmpty
            ? (profile?.kpis.contains { $0.hasPrefix("lte.") } == true
                ? "<p class=\"muted\">No samples yet: they are taken at each Inform.</p>"
                : "<p class=\"muted\">No history: profile \(d.profile) samples no lte.* KPIs (add them to its <code>kpis</code>).</p>")
            : "<div class=\"grid2\" id=\"lte-history\">\(charts)</div>"
        return "<section class=\"card\" id=\"lte-card\" aria-labelledby=\"h-lte\"><h2 id=\"h-lte\">LTE signal</h2>\(current)\(history)\(read)</section>"
    }

    static func tasks(_ ctx: RequestContext, _ d: Device) throws -> Markup {
        let all = try ctx.store.tasks(deviceID: d.id, states: []).suffix(15).reversed()
        let canCancel = ctx.can("task.cancel")
        let rows: [Markup] = all.map { t in
            let v = TaskView(t)
            var detail = ""
            if let p = v.request.parameters { detail = p.map { "\($0.path) = \($0.value)" }.joined(separator: ", ") }
            if let p = v.request.paths { detail = p.joined(separator: ", ") }
            if let p = v.request.path { detail = p }
            if let u = v.request.url { detail = u }
            var outcome = ""
            if let f = v.fault { outcome = "fault \(f.code) \(f.message)" + (f.parameters.map { ": " + $0.joined(separator: "; ") } ?? "") }
            if let r = v.result, !r.values.isEmpty {
                outcome = r.values.prefix(2).map { "\($0.path) = \($0.value)" }.joined(separator: ", ") + (r.values.count > 2 ? " … (\(r.values.count) values)" : "")
            }
            let cancel: Markup = canCancel && t.state == .pending
                ? PageKit.apiForm("/api/v1/tasks/\(t.id)", method: "DELETE", cls: "inline", "<button type=\"submit\" class=\"link\">Cancel</button>") : .empty
            return """
                <tr data-task="\(t.id)"><td>\(t.id)</td><td>\(v.action)</td><td class="wrap">\(detail)</td>\
                <td>\(Layout.status(v.state))</td><td class="wrap">\(outcome)</td><td>\(Layout.ago(t.updatedAt, now: Time.now, iso: v.updatedAt))</td><td>\(cancel)</td></tr>
                """
        }
        let faults = try ctx.store.faults(deviceID: d.id, limit: 10)
        let faultRows: [Markup] = faults.map { f in
            "<tr><td>\(f.code)</td><td class=\"wrap\">\(f.message) \(f.detail)</td><td>\(f.taskID.map { String($0) } ?? "")</td><td>\(Layout.ago(f.at, now: Time.now, iso: Time.iso(f.at)))</td></tr>"
        }
        return """
            <div class="tablewrap"><table id="task-table"><thead><tr><th>#</th><th>Action</th><th>Request</th><th>State</th><th>Result</th><th>Updated</th><th></th></tr></thead>
            <tbody>\(rows.isEmpty ? "<tr><td colspan=\"7\" class=\"muted\">No tasks yet.</td></tr>" : rows.joined())</tbody></table></div>
            <h3>Faults</h3>\(faultRows.isEmpty ? Markup("<p class=\"muted\">No faults.</p>") : """
            <div class="tablewrap"><table id="fault-table"><thead><tr><th>Code</th><th>Message</th><th>Task</th><th>When</th></tr></thead><tbody>\(faultRows)</tbody></table></div>
            """)
            """
    }

    static func metadata(_ ctx: RequestContext, _ d: Device) throws -> Markup {
        guard ctx.can("device.update") else {
            return """
                <section class="card"><h2>Labels</h2><dl class="kv"><dt>Groups</dt><dd>\(d.groups.joined(separator: ", "))</dd><dt>Tags</dt>\
                <dd>\(d.tags.joined(separator: ", "))</dd><dt>Location</dt><dd>\(d.location)</dd><dt>Description</dt><dd>\(d.description)</dd></dl></section>
                """
        }
        let move: Markup = ctx.can("device.move") ? PageKit.apiForm("/api/v1/devices/\(d.id)/organisation", method: "PUT", then: "reload",
                                                                   cls: "row", label: "Move to organisation", """
            <label for="m-org">Organisation\(try PageKit.organisationSelect(ctx, name: "organisation_id", id: "m-org", selected: d.organisationID, any: false))</label>
            <button type="submit" class="secondary">Move</button>
            """) : .empty
        return """
            <section class="card" aria-labelledby="h-meta"><h2 id="h-meta">Labels</h2>
            \(PageKit.apiForm("/api/v1/devices/\(d.id)", method: "PATCH", cls: "stack", label: "Edit labels", """
            <label for="m-groups">Groups (comma-separated)<input id="m-groups" name="groups" data-kind="list" value="\(d.groups.joined(separator: ", "))"></label>
            <label for="m-tags">Tags (comma-separated)<input id="m-tags" name="tags" data-kind="list" value="\(d.tags.joined(separator: ", "))"></label>
            <label for="m-location">Location<input id="m-location" name="location" maxlength="200" value="\(d.location)"></label>
            <label for="m-description">Description<textarea id="m-description" name="description" rows="2" maxlength="1000">\(d.description)</textarea></label>
            <button type="submit" id="save-labels">Save</button>
            """))\(move)</section>
            """
    }

    // MARK: parameter tree

    /// One object of the tree as a `<details>` that loads its children when opened.
    static func node(_ ctx: RequestContext, _ d: Device, path: String, open: Bool = false) -> Markup {
        let url = "/devices/\(d.id)/tree?prefix=\(URLText.component(path))"
        let refresh: Markup = ctx.can("task.create")
            ? taskForm(d, #"{"action":"refresh","path":"\#(path)","connection_request":true,"timeout":60}"#, "Refresh", id: "refresh-\(path)") : .empty
        let label = path.split(separator: ".").last.map(String.init) ?? path
        return """
            <details data-tree="\(url)"\(Markup.when(open, " open"))><summary><code>\(label).</code> \(refresh)</summary><div class="children">\
            \(open ? Markup("<p class=\"muted\">Loading…</p>") : .empty)</div></details>
            """
    }

    static func tree(_ ctx: RequestContext) async throws -> HTTPResponse {
        let d = try ctx.device(try ctx.pathID())
        if let search = ctx.query["search"] {
            guard !search.isEmpty, search.count <= 256 else { return PageKit.html("<p class=\"muted\">Type part of a path.</p>") }
            let matches = try ctx.store.parameters(deviceID: d.id, prefix: d.dataModel?.root ?? "").filter { $0.path.localizedCaseInsensitiveContains(search) }
            let shown = matches.prefix(200).map { leaf(ctx, d, $0, full: true) }
            return PageKit.html("""
                <p class="muted">\(matches.count) stored parameters match\(matches.count > 200 ? " (first 200 shown)" : "").</p>\(shown)
                """)
        }
        let prefix = ctx.query["prefix"] ?? ""
        guard !prefix.isEmpty, prefix.hasSuffix(".") else { throw APIError.badRequest("prefix must be an object path ending in '.'") }
        _ = try Validate.path(prefix, object: true)
        let params = try ctx.store.parameters(deviceID: d.id, prefix: prefix)
        var objects: [String] = []
        var leaves: [StoredParameter] = []
        var seen = Set<String>()
        for p in params {
            let rest = p.path.dropFirst(prefix.count)
            if let dot = rest.firstIndex(of: ".") {
                let child = prefix + rest[..<dot] + "."
                if seen.insert(child).inserted { objects.append(child) }
            } else {
                leaves.append(p)
            }
        }
        objects.sort { $0.localizedStandardCompare($1) == .orderedAscending }
        let body: Markup = objects.map { node(ctx, d, path: $0) }.joined() + leaves.map { leaf(ctx, d, $0, full: false) }.joined()
        return PageKit.html(params.isEmpty ? "<p class=\"muted\">Nothing stored under \(prefix) yet; use Refresh.</p>" : body)
    }

    static func leaf(_ ctx: RequestContext, _ d: Device, _ p: StoredParameter, full: Bool) -> Markup {
        let secret = ManagementPaths.isSecret(p.path)
        let name = full ? p.path : String(p.path.split(separator: ".").last ?? "")
        let value: Markup = (secret ? "<span class=\"muted\">(hidden)</span>" : "<span class=\"value\">\(p.value)</span>")
            + (p.updatedAt == 0 ? " <span class=\"badge st-waiting\" title=\"\(ManagementPaths.staleNote)\">stale</span>" : .empty)
        var edit: Markup = .empty
        let def = ctx.api.schemas.definition(d.dataModel, p.path)
        let writable = p.writable ?? def?.writable ?? false
        if writable && ctx.can("task.create") {
            var input: Markup
            let field = "parameters.0.value"
            let range = def?.ranges.first
            let bounds: Markup = "\(Markup.when(range?.min != nil, " min=\"\(ModelSchemas.number(range?.min ?? 0))\""))\(Markup.when(range?.max != nil, " max=\"\(ModelSchemas.number(range?.max ?? 0))\""))"
            switch p.type {
            case .boolean:
                input = """
                    <select name="\(field)" aria-label="New value of \(p.path)"><option\(Markup.when(["1", "true"].contains(p.value), " selected"))>true</option>\
                    <option\(Markup.when(["0", "false"].contains(p.value), " selected"))>false</option></select>
                    """
            case .int, .long:
                input = "<input name=\"\(field)\" type=\"number\" step=\"1\"\(bounds) value=\"\(p.value)\" required aria-label=\"New value of \(p.path)\">"
            case .unsignedInt, .unsignedLong:
                input = "<input name=\"\(field)\" type=\"number\" step=\"1\"\(range?.min == nil ? " min=\"0\"" : bounds) value=\"\(p.value)\" required aria-label=\"New value of \(p.path)\">"
            case .dateTime:
                input = "<input name=\"\(field)\" pattern=\"\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d.*\" value=\"\(p.value)\" aria-label=\"New value of \(p.path)\">"
            default:
                let maxLength: Markup = Markup.when(def?.maxLength != nil, " maxlength=\"\(def?.maxLength ?? 0)\"")
                input = "<input name=\"\(field)\"\(Markup.when(secret, " type=\"password\"")) value=\"\(secret ? "" : p.value)\" size=\"18\"\(maxLength) aria-label=\"New value of \(p.path)\">"
            }
            if let options = def?.enumerations, !options.isEmpty, def?.isList == false, p.type == .string {
                let opts: [Markup] = options.map { o in "<option\(Markup.when(o == p.value, " selected"))>\(o)</option>" }
                input = "<select name=\"\(field)\" aria-label=\"New value of \(p.path)\">\(opts)</select>"
            }
            edit = PageKit.apiForm("/api/v1/devices/\(d.id)/tasks", body: #"{"action":"set","connection_request":true}"#, cls: "edit",
                                   label: "Set \(p.path)", """
                <input type="hidden" name="parameters.0.path" value="\(p.path)"><input type="hidden" name="parameters.0.type" value="\(p.type.rawValue)">\
                \(input)<button type="submit">Set</button>
                """)
        }
        return """
            <div class="leaf" data-path="\(p.path)"><code>\(name)</code> \(value) <span class="type">\(p.type.rawValue)\(writable ? ", writable" : "")</span>\(edit)</div>
            """
    }
}

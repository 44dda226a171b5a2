import ACSCore
import Foundation
import GUI
import NetHTTP
import Storage

/// /onboarding (issue 16): why a device does not onboard. The refused first contacts of the caller's subtree, newest
/// first (the same store query as GET /api/v1/onboarding-attempts), each reason's usual cause shown in a legend, a
/// link to the device when Corral knows it, and what to check when the device is not listed at all. Viewers and up;
/// the "Reset credentials" buttons (rows of devices that lost their own credentials) only for callers who may call
/// POST /api/v1/devices/{id}/reset-credentials. The table refreshes itself (`?part=live`).
enum OnboardingPage {
    /// Attempts listed, newest first.
    static let limit = 200

    static func show(_ ctx: RequestContext) async throws -> HTTPResponse {
        if let clean = PageKit.withoutEmptyFilters(ctx) { return clean }
        let search = try Validate.text(ctx.query["search"] ?? "", "search", max: 100)
        let attempts = try ctx.store.onboardingAttempts(organisationPath: ctx.me.organisation.path, deviceID: nil, search: search, limit: limit)
        let table = try live(ctx, attempts, search: search)
        if PageKit.part(ctx) == "live" { return PageKit.html(table) }
        let poll = "/onboarding?" + URLText.query([("search", search), ("part", "live")])
        let root = ctx.me.organisation.id == Organisation.rootID
        let scope: Markup = root ? .empty : """
            <p class="notice" id="unknown-devices-note">Attempts of devices Corral does not know yet belong to no organisation, so only users of the
            root organisation see them; this list holds the attempts that name devices of your organisation.</p>
            """
        return PageKit.page(ctx, "Onboarding", section: "onboarding", """
            <h1>Onboarding</h1>
            <p class="muted">First contacts Corral refused, newest first, with the usual cause of each reason. Repeats of the same reason,
            OUI, serial, address and username are one row with a count; rows are kept \(OnboardingAttempt.keepSeconds / 86400) days (at most \(OnboardingAttempt.maxRows) rows, the least recent go first).</p>
            \(scope)
            <div class="grid">
            <section class="card" aria-labelledby="h-find"><h2 id="h-find">Find a device</h2>
            <form class="filters" id="onboarding-search" method="get" action="/onboarding" role="search" aria-label="Search refused attempts">
            <label for="ob-search">Serial, OUI, username or address (beginning)<input id="ob-search" name="search" value="\(search)" size="28" \
            maxlength="100" placeholder="A1B2C3, 00C0FF, 192.0.2." autocomplete="off" spellcheck="false"></label>
            <button type="submit" id="ob-apply">Search</button> <a class="button secondary" href="/onboarding">All</a></form>
            <p class="muted">From the shell: <code>corral devices attempts --search &lt;prefix&gt; --hints</code>.</p></section>
            \(notListed(ctx))
            </div>
            <div id="attempts-live" data-poll="\(poll)" data-every="10">\(table)</div>
            \(allReasons())
            """)
    }

    /// "Device not listed?": the API's `not_listed` text and the checklist behind it.
    static func notListed(_ ctx: RequestContext) -> Markup {
        let users: [Markup] = ctx.api.config.profiles.profiles.filter { !$0.onboardingUsername.isEmpty }.map { p in
            "<code>\(p.onboardingUsername)</code> (\(p.name))"
        }
        let known: Markup = users.isEmpty ? .empty : " Onboarding usernames: \(users.joined(", "))."
        let profiles: Markup = ctx.can("gui.profiles") ? " (<a href=\"/admin/profiles\">Profiles</a>)" : .empty
        return """
            <section class="card notice" id="not-listed" aria-labelledby="h-not-listed"><h2 id="h-not-listed">Device not listed?</h2>
            <p>\(OnboardingAttempt.noAttemptHint)</p>
            <ul id="not-listed-checklist">
            <li><strong>ACS URL</strong>: the URL set on the CPE (by hand, by DHCP option 43 or by its firmware) names Corral's host and CWMP
            port (7547 unless configured otherwise), with <code>https://</code> only if Corral serves TLS there; any path, e.g. <code>/cwmp</code>.
            Check that the name resolves from the CPE's network.</li>
            <li><strong>Credentials</strong>: the ACS username and password on the CPE are the onboarding credentials of the profile meant for
            it\(profiles).\(known) Wrong ones show up here as <code>unknown_username</code> or <code>wrong_password</code>.</li>
            <li><strong>Connectivity</strong>: the CPE has a WAN address with a route to Corral, and firewalls or NAT between them let TCP to
            the CWMP port through. For ONTs, the management (TR-069) VLAN must be set on the OLT and in the ONT's WAN configuration.</li>
            </ul></section>
            """
    }

    /// The live part: count, table and the legend of the reasons shown.
    static func live(_ ctx: RequestContext, _ attempts: [OnboardingAttempt], search: String) throws -> Markup {
        var names: [Int64: String] = [:]
        for id in Set(attempts.compactMap(\.deviceID)) { names[id] = try ctx.store.device(id: id)?.name }
        let canReset = ctx.can("device.reset_credentials")
        let now = Time.now
        let rows: [Markup] = attempts.map { a -> Markup in
            var device: Markup = .empty
            if let id = a.deviceID {
                let name: String = names[id] ?? "#\(id)"
                device = "<a href=\"/devices/\(id)\">\(name)</a>"
                if canReset && a.reason == .ownCredentialsRequired {
                    device = device + Markup(raw: " ") + resetForm(id, name: name)
                }
            }
            return """
                <tr data-attempt="\(a.id)" data-reason="\(a.reason.rawValue)"><td>\(Layout.ago(a.lastAt, now: now, iso: Time.iso(a.lastAt)))\
                <br><span class="muted">\(Time.iso(a.lastAt) ?? "")</span></td><td>\(a.count)</td><td>\(Time.iso(a.firstAt) ?? "")</td>\
                <td>\(a.address)</td><td>\(a.oui)</td><td>\(a.serial)</td><td>\(a.productClass)</td><td>\(a.username)</td>\
                <td title="\(a.reason.hint)"><a href="#hint-\(a.reason.rawValue)"><code>\(a.reason.rawValue)</code></a></td>\
                <td class="wrap">\(a.detail)</td><td>\(device)</td></tr>
                """
        }
        let empty: Markup = search.isEmpty
            ? "<tr><td colspan=\"11\" class=\"muted\">No refused attempts recorded.</td></tr>"
            : "<tr><td colspan=\"11\" class=\"muted\">No refused attempts match “\(search)”.</td></tr>"
        let count: Markup = attempts.count >= limit
            ? "The newest \(limit) attempts are listed; search to narrow them."
            : "\(attempts.count) attempt\(attempts.count == 1 ? "" : "s") listed."
        return """
            <p id="attempts-count">\(count)</p>
            <div class="tablewrap"><table id="onboarding-attempts"><thead><tr><th>Last seen (UTC)</th><th>Count</th><th>First seen (UTC)</th>\
            <th>Address</th><th>OUI</th><th>Serial</th><th>Product class</th><th>Username tried</th><th>Reason</th><th>Detail</th>\
            <th>Device</th></tr></thead><tbody>\(rows.isEmpty ? empty : rows.joined())</tbody></table></div>
            \(legend(attempts.map(\.reason), page: true))
            """
    }

    /// Each reason present with its hint, in a fixed order, visible without hovering. `page`: the onboarding page's
    /// own card (each entry with an id the Reason cells link to); otherwise a block inside the caller's card.
    static func legend(_ reasons: [OnboardingAttempt.Reason], page: Bool) -> Markup {
        let present = Set(reasons)
        let items: [Markup] = OnboardingAttempt.Reason.allCases.filter { present.contains($0) }.map { r in
            "<dt\(Markup.when(page, " id=\"hint-\(r.rawValue)\""))><code>\(r.rawValue)</code></dt><dd>\(r.hint)</dd>"
        }
        guard !items.isEmpty else { return .empty }
        if page {
            return """
                <section class="card hints" id="reason-hints" aria-labelledby="h-reasons"><h2 id="h-reasons">What the reasons mean</h2>\
                <dl class="kv">\(items)</dl></section>
                """
        }
        return "<div class=\"hints\"><h3>What the reasons mean</h3><dl class=\"kv\">\(items)</dl></div>"
    }

    /// Every reason Corral records, folded away.
    static func allReasons() -> Markup {
        let items: [Markup] = OnboardingAttempt.Reason.allCases.map { r in "<dt><code>\(r.rawValue)</code></dt><dd>\(r.hint)</dd>" }
        return """
            <details class="card" id="all-reasons"><summary>All reasons and what they usually mean</summary><dl class="kv">\(items)</dl></details>
            """
    }

    /// Credential recovery for a device that came back with the onboarding credentials and no BOOTSTRAP.
    static func resetForm(_ id: Int64, name: String) -> Markup {
        PageKit.apiForm("/api/v1/devices/\(id)/reset-credentials", body: "{}", confirm: resetConfirm(name),
                        done: resetDone(name), cls: "inline", label: "Reset the credentials of \(name)",
                        "<button type=\"submit\" class=\"secondary\">Reset credentials</button>")
    }

    static func resetConfirm(_ name: String) -> String {
        let question: String = "Reset the credentials of \(name)? Its next Inform with its profile's onboarding credentials is accepted "
            + "without a BOOTSTRAP and onboards it once more: it gets new credentials of its own and keeps its ID, labels and history. "
            + "Use it when the device lost its own credentials without a factory reset. Its current credentials stay valid until then."
        return question
    }

    static func resetDone(_ name: String) -> String {
        "Credentials reset: \(name) may onboard once more with its profile's onboarding credentials (no BOOTSTRAP needed)."
    }
}

/// The page shell: header with navigation and the signed-in user, main content, the stylesheet and script
/// served by Corral itself (no CDN: the GUI works in an air-gapped NOC).
public struct NavLink: Sendable {
    public var title: String
    public var href: String
    public var current: Bool
    public init(_ title: String, _ href: String, current: Bool = false) { self.title = title; self.href = href; self.current = current }
}

public struct PageUser: Sendable {
    public var name: String
    public var role: String
    public var organisation: String
    public init(name: String, role: String, organisation: String) { self.name = name; self.role = role; self.organisation = organisation }
}

public enum Layout {
    /// Asset URLs carry a version so browsers may cache them for long.
    public static let styleURL = "/static/corral-\(Assets.version).css"
    public static let scriptURL = "/static/corral-\(Assets.version).js"

    public static func page(title: String, nav: [NavLink], user: PageUser?, csrf: String?, body: Markup) -> Markup {
        let navHTML: Markup = nav.map { l in
            "<li><a href=\"\(l.href)\"\(Markup.when(l.current, " aria-current=\"page\""))>\(l.title)</a></li>"
        }.joined()
        let userHTML: Markup = user.map { u in
            """
            <div class="who"><a href="/account" title="Account and password">\(u.name)</a> \
            <span class="role">\(u.role) · \(u.organisation)</span>
            <form data-api="/api/v1/auth/logout" data-then="/login" class="inline"><button type="submit" class="link">Log out</button></form></div>
            """
        } ?? .empty
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            \(Markup.when(csrf != nil, "<meta name=\"csrf-token\" content=\"\(csrf ?? "")\">"))
            <title>\(title) · Corral</title>
            <link rel="stylesheet" href="\(styleURL)">
            <script src="\(scriptURL)" defer></script>
            </head><body>
            <a class="skip" href="#main">Skip to content</a>
            <header class="top"><a class="brand" href="/">Corral</a>
            <nav aria-label="Main"><ul>\(navHTML)</ul></nav>\(userHTML)</header>
            <main id="main" tabindex="-1">\(body)</main>
            <div id="toast" role="status" aria-live="polite"></div>
            </body></html>
            """
    }

    /// A status badge (online/offline/never) with text, not colour alone.
    public static func status(_ s: String) -> Markup { "<span class=\"badge st-\(s)\">\(s)</span>" }

    /// "3 min ago" style relative time with the absolute time as a tooltip.
    public static func ago(_ t: Int64, now: Int64, iso: String?) -> Markup {
        guard t > 0, let iso else { return "<span class=\"muted\">never</span>" }
        let d = max(0, now - t)
        let text: String
        switch d {
        case ..<60: text = "\(d) s ago"
        case ..<3600: text = "\(d / 60) min ago"
        case ..<86400: text = "\(d / 3600) h ago"
        default: text = "\(d / 86400) d ago"
        }
        return "<time datetime=\"\(iso)\" title=\"\(iso)\">\(text)</time>"
    }
}

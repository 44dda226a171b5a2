/// Charts as inline SVG, drawn on the server: no script, no external library, readable without colour (every
/// value is printed), and every bar can be a link (the dashboard links through to the filtered inventory).
public struct ChartItem: Sendable, Equatable {
    public var label: String
    public var value: Int
    public var href: String?
    public init(_ label: String, _ value: Int, href: String? = nil) { self.label = label; self.value = value; self.href = href }
}

public enum Charts {
    /// Horizontal bars, one row per item, largest first as given. `title` is the accessible name.
    public static func bars(_ items: [ChartItem], title: String, max rows: Int = 12) -> Markup {
        guard !items.isEmpty else { return empty(title) }
        let shown = Array(items.prefix(rows))
        let rowH = 26, labelW = 170, barW = 300, valueW = 70
        let width = labelW + barW + valueW, height = shown.count * rowH + 4
        let top = max(1, shown.map(\.value).max() ?? 1)
        var parts: [Markup] = []
        for (i, item) in shown.enumerated() {
            let y = i * rowH + 2
            let w = max(item.value > 0 ? 2 : 0, Int(Double(barW) * Double(item.value) / Double(top)))
            let label = item.label.isEmpty ? "(none)" : item.label
            let g: Markup = """
                <g class="brow"><title>\(label): \(item.value)</title>\
                <text x="\(labelW - 8)" y="\(y + 17)" text-anchor="end" class="lbl">\(short(label, 24))</text>\
                <rect x="\(labelW)" y="\(y + 4)" width="\(w)" height="\(rowH - 8)" rx="3" class="bar s\(i % 6)"/>\
                <text x="\(labelW + w + 6)" y="\(y + 17)" class="val">\(item.value)</text></g>
                """
            parts.append(link(item.href, g, "\(label): \(item.value) devices"))
        }
        let more: Markup = items.count > rows ? "<p class=\"more\">… and \(items.count - rows) more</p>" : .empty
        return """
            <figure class="chart"><svg viewBox="0 0 \(width) \(height)" role="group" aria-label="\(title)" \
            preserveAspectRatio="xMinYMin meet" data-chart="bars" data-points="\(shown.count)">\(parts)</svg>\(more)</figure>
            """
    }

    /// Vertical columns with a label under each (time series, histograms).
    public static func columns(_ items: [ChartItem], title: String, unit: String = "") -> Markup {
        guard !items.isEmpty, items.contains(where: { $0.value > 0 }) else { return empty(title) }
        let colW = max(14, min(60, 560 / items.count)), gap = 4, chartH = 150, labelH = 34
        let width = items.count * colW + 40, height = chartH + labelH + 16
        let top = max(1, items.map(\.value).max() ?? 1)
        let every = max(1, items.count / 10)
        var parts: [Markup] = []
        for (i, item) in items.enumerated() {
            let x = 30 + i * colW
            let h = item.value > 0 ? max(2, Int(Double(chartH) * Double(item.value) / Double(top))) : 0
            let y = 14 + chartH - h
            let label: Markup = i % every == 0
                ? "<text x=\"\(x + colW / 2)\" y=\"\(chartH + 30)\" text-anchor=\"middle\" class=\"lbl small\">\(short(item.label, 10))</text>"
                : .empty
            let value: Markup = item.value > 0 && colW >= 22 ? "<text x=\"\(x + colW / 2)\" y=\"\(y - 3)\" text-anchor=\"middle\" class=\"val small\">\(item.value)</text>" : .empty
            let g: Markup = """
                <g class="col"><title>\(item.label)\(unit): \(item.value)</title>\
                <rect x="\(x)" y="\(y)" width="\(colW - gap)" height="\(h)" rx="2" class="bar s\(i % 6 == 5 ? 0 : 1)"/>\(value)\(label)</g>
                """
            parts.append(link(item.href, g, "\(item.label)\(unit): \(item.value) devices"))
        }
        return """
            <figure class="chart"><svg viewBox="0 0 \(width) \(height)" role="group" aria-label="\(title)" \
            preserveAspectRatio="xMinYMin meet" data-chart="columns" data-points="\(items.count)">\
            <line x1="28" y1="\(chartH + 14)" x2="\(width - 8)" y2="\(chartH + 14)" class="axis"/>\(parts)</svg></figure>
            """
    }

    /// One horizontal bar split into segments (device status), each a link.
    public static func stacked(_ items: [ChartItem], title: String) -> Markup {
        let total = items.reduce(0) { $0 + $1.value }
        guard total > 0 else { return empty(title) }
        let width = 600, height = 28
        var x = 0.0
        var parts: [Markup] = []
        for item in items where item.value > 0 {
            let w = Double(width) * Double(item.value) / Double(total)
            let seg: Markup = """
                <g><title>\(item.label): \(item.value)</title><rect x="\(Int(x.rounded()))" y="0" width="\(max(1, Int(w.rounded())))" \
                height="\(height)" class="st-\(item.label)"/></g>
                """
            parts.append(link(item.href, seg, "\(item.label): \(item.value) devices"))
            x += w
        }
        return """
            <figure class="chart"><svg viewBox="0 0 \(width) \(height)" role="group" aria-label="\(title)" preserveAspectRatio="none" \
            class="stacked" data-chart="stacked" data-points="\(parts.count)">\(parts)</svg></figure>
            """
    }

    /// A time series as a line with a dot per sample, its scale, and the minimum, maximum and last value printed
    /// (KPI history on the device page). `points` are (Unix time, value) in time order; `range` is the scale unless a
    /// value falls outside it.
    public static func line(_ points: [(at: Int64, value: Double)], title: String, unit: String, range: ClosedRange<Double>) -> Markup {
        guard points.count >= 2, let first = points.first?.at, let last = points.last?.at else { return empty(title) }
        let w = 320.0, h = 100.0, left = 34.0, right = 6.0, top = 8.0, bottom = 8.0
        let values = points.map(\.value)
        let lo = min(range.lowerBound, values.min() ?? range.lowerBound), hi = max(range.upperBound, values.max() ?? range.upperBound)
        let span = max(1, Double(last - first)), vspan = max(1e-9, hi - lo)
        func x(_ t: Int64) -> Int { Int((left + (w - left - right) * Double(t - first) / span).rounded()) }
        func y(_ v: Double) -> Int { Int((top + (h - top - bottom) * (1 - (v - lo) / vspan)).rounded()) }
        func fmt(_ v: Double) -> String { v == v.rounded() ? String(Int(v)) : String((v * 10).rounded() / 10) }
        let coords = points.map { "\(x($0.at)),\(y($0.value))" }.joined(separator: " ")
        let dots: [Markup] = points.map { p in "<circle cx=\"\(x(p.at))\" cy=\"\(y(p.value))\" r=\"2.5\" class=\"dot\"><title>\(fmt(p.value))\(unit)</title></circle>" }
        let summary = "last \(fmt(values.last ?? 0))\(unit), min \(fmt(values.min() ?? 0)), max \(fmt(values.max() ?? 0)) over \(points.count) samples"
        return """
            <figure class="chart spark"><svg viewBox="0 0 \(Int(w)) \(Int(h))" role="img" aria-label="\(title): \(summary)" \
            data-chart="line" data-points="\(points.count)"><title>\(title)</title>\
            <text x="\(Int(left) - 4)" y="\(Int(top) + 4)" text-anchor="end" class="val small">\(fmt(hi))</text>\
            <text x="\(Int(left) - 4)" y="\(Int(h - bottom))" text-anchor="end" class="val small">\(fmt(lo))</text>\
            <line x1="\(Int(left))" y1="\(Int(h - bottom))" x2="\(Int(w - right))" y2="\(Int(h - bottom))" class="axis"/>\
            <polyline points="\(coords)" class="trend"/>\(dots)</svg>\
            <figcaption class="muted small">\(summary)</figcaption></figure>
            """
    }

    static func link(_ href: String?, _ body: Markup, _ label: String) -> Markup {
        guard let href else { return body }
        return "<a href=\"\(href)\" aria-label=\"\(label)\">\(body)</a>"
    }

    static func empty(_ title: String) -> Markup { "<p class=\"nodata\" data-chart=\"empty\">No data yet for \(title.lowercased()).</p>" }

    static func short(_ s: String, _ n: Int) -> String { s.count <= n ? s : String(s.prefix(n - 1)) + "…" }
}

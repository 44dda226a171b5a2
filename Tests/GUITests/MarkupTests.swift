import Foundation
import Testing
@testable import GUI

@Suite struct MarkupTests {
    @Test func interpolatedTextIsEscaped() {
        let evil = "<script>alert(\"x\")</script>&'"
        let m: Markup = "<p title=\"\(evil)\">\(evil)</p>"
        #expect(m.html == "<p title=\"&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;\">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;</p>")
        #expect(!m.html.contains("<script>"))
    }

    @Test func markupIsNotEscapedTwice() {
        let inner: Markup = "<b>\("a&b")</b>"
        let outer: Markup = "<p>\(inner)</p>"
        #expect(outer.html == "<p><b>a&amp;b</b></p>")
    }

    @Test func controlCharactersNeverReachThePage() {
        let m: Markup = "\("a\u{0}b\u{1b}c")"
        #expect(m.html == "a\u{FFFD}b\u{FFFD}c")
    }

    @Test func queryComponentsAreEncoded() {
        #expect(URLText.component("Device.X.RSSI>=-90&a b") == "Device.X.RSSI%3E%3D-90%26a%20b")
        #expect(URLText.query([("a", "1"), ("b", ""), ("param", "x<y")]) == "a=1&param=x%3Cy")
    }
}

@Suite struct ChartTests {
    @Test func barsDrawOneLinkedRowPerItemScaledToTheLargest() {
        let svg = Charts.bars([ChartItem("Model <A>", 30, href: "/devices?model=A"), ChartItem("B", 15, href: "/devices?model=B")], title: "By model").html
        #expect(svg.contains("data-points=\"2\""))
        #expect(svg.components(separatedBy: "<a href=").count == 3)
        #expect(svg.contains("width=\"300\""))  // the largest fills the bar area
        #expect(svg.contains("width=\"150\""))  // half of it
        #expect(svg.contains("Model &lt;A&gt;"))
    }

    @Test func emptyChartsSayThereIsNoData() {
        #expect(Charts.bars([], title: "X").html.contains("No data yet"))
        #expect(Charts.columns([ChartItem("a", 0)], title: "X").html.contains("No data yet"))
    }

    @Test func stackedSegmentsShareTheWidth() {
        let svg = Charts.stacked([ChartItem("online", 3), ChartItem("offline", 1), ChartItem("never", 0)], title: "S").html
        #expect(svg.contains("width=\"450\""))
        #expect(svg.contains("width=\"150\""))
        #expect(!svg.contains("st-never"))
    }
}

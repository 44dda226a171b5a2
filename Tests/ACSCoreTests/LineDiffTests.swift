import Testing
@testable import ACSCore

@Suite struct LineDiffTests {
    @Test func hunksWithContext() {
        let old = (1...10).map { "line \($0)" }.joined(separator: "\n") + "\n"
        var lines = (1...10).map { "line \($0)" }
        lines[4] = "line five"
        lines.insert("new line", at: 8)
        let new = lines.joined(separator: "\n") + "\n"
        #expect(LineDiff.unified(old, new, context: 1) == """
            @@ -4,3 +4,3 @@
             line 4
            -line 5
            +line five
             line 6
            @@ -8,2 +8,3 @@
             line 8
            +new line
             line 9

            """)
        #expect(LineDiff.unified(old, old).isEmpty)
        // A new file and a removed one.
        #expect(LineDiff.unified("", "a\nb\n") == "@@ -1,0 +1,2 @@\n+a\n+b\n")
        #expect(LineDiff.unified("a\n", "") == "@@ -1,1 +1,0 @@\n-a\n")
    }
}

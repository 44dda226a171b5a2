/// A unified diff of two texts by lines (longest common subsequence), for the versions of script files. Pure.
public enum LineDiff {
    /// Above this many line pairs the diff is "everything replaced" (the LCS table would be too large).
    public static let maxCells = 4_000_000

    /// "@@ -a,b +c,d @@" hunks with `context` lines around each change; empty when the texts are equal.
    public static func unified(_ old: String, _ new: String, context: Int = 3) -> String {
        let a = lines(old), b = lines(new)
        guard a != b else { return "" }
        let ops = operations(a, b)
        // Group changes into hunks with their context.
        var out: [String] = []
        var i = 0
        while i < ops.count {
            guard ops[i].kind != " " else { i += 1; continue }
            let start = max(0, i - context)
            var end = i
            var lastChange = i
            while end < ops.count && (ops[end].kind != " " || end - lastChange <= 2 * context) {
                if ops[end].kind != " " { lastChange = end }
                end += 1
            }
            end = min(ops.count, lastChange + context + 1)
            let hunk = ops[start..<end]
            let oldStart = (hunk.first?.oldLine ?? 0), newStart = (hunk.first?.newLine ?? 0)
            let oldCount = hunk.filter { $0.kind != "+" }.count, newCount = hunk.filter { $0.kind != "-" }.count
            out.append("@@ -\(oldStart + 1),\(oldCount) +\(newStart + 1),\(newCount) @@")
            out += hunk.map { "\($0.kind)\($0.text)" }
            i = end
        }
        return out.joined(separator: "\n") + "\n"
    }

    struct Op { var kind: Character; var text: Substring; var oldLine: Int; var newLine: Int }

    static func lines(_ s: String) -> [Substring] {
        s.isEmpty ? [] : s.split(separator: "\n", omittingEmptySubsequences: false).dropLast(s.hasSuffix("\n") ? 1 : 0).map { $0 }
    }

    static func operations(_ a: [Substring], _ b: [Substring]) -> [Op] {
        // Common head and tail first: most edits touch a few lines of a long file.
        var head = 0
        while head < a.count && head < b.count && a[head] == b[head] { head += 1 }
        var tail = 0
        while tail < a.count - head && tail < b.count - head && a[a.count - 1 - tail] == b[b.count - 1 - tail] { tail += 1 }
        let x = Array(a[head..<(a.count - tail)]), y = Array(b[head..<(b.count - tail)])
        var ops: [Op] = (0..<head).map { Op(kind: " ", text: a[$0], oldLine: $0, newLine: $0) }
        if x.count * y.count > maxCells {
            ops += x.enumerated().map { Op(kind: "-", text: $0.element, oldLine: head + $0.offset, newLine: head) }
            ops += y.enumerated().map { Op(kind: "+", text: $0.element, oldLine: head + x.count, newLine: head + $0.offset) }
        } else {
            // lcs[i][j]: length of the LCS of x[i...] and y[j...].
            let n = x.count, m = y.count
            var lcs = [Int](repeating: 0, count: (n + 1) * (m + 1))
            if n > 0 && m > 0 {
                for i in stride(from: n - 1, through: 0, by: -1) {
                    for j in stride(from: m - 1, through: 0, by: -1) {
                        lcs[i * (m + 1) + j] = x[i] == y[j] ? lcs[(i + 1) * (m + 1) + j + 1] + 1 : max(lcs[(i + 1) * (m + 1) + j], lcs[i * (m + 1) + j + 1])
                    }
                }
            }
            var i = 0, j = 0
            while i < n || j < m {
                if i < n && j < m && x[i] == y[j] {
                    ops.append(Op(kind: " ", text: x[i], oldLine: head + i, newLine: head + j)); i += 1; j += 1
                } else if i < n && (j == m || lcs[(i + 1) * (m + 1) + j] >= lcs[i * (m + 1) + j + 1]) {
                    // Removals before additions, as diff(1) shows them.
                    ops.append(Op(kind: "-", text: x[i], oldLine: head + i, newLine: head + j)); i += 1
                } else {
                    ops.append(Op(kind: "+", text: y[j], oldLine: head + i, newLine: head + j)); j += 1
                }
            }
        }
        let base = a.count - tail, baseNew = b.count - tail
        ops += (0..<tail).map { Op(kind: " ", text: a[base + $0], oldLine: base + $0, newLine: baseNew + $0) }
        return ops
    }
}

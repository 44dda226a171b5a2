/// A `Range: bytes=…` request header (RFC 9110 14.2) against a representation of `size` bytes. One range is
/// served; a list of several is answered with the whole file, which the RFC allows (CPEs resume with one range).
public enum ByteRange: Equatable, Sendable {
    case whole
    /// First and last byte, inclusive.
    case part(first: Int64, last: Int64)
    /// 416 with `Content-Range: bytes */size`.
    case unsatisfiable

    public static func parse(_ header: String?, size: Int64) -> ByteRange {
        guard let header else { return .whole }
        let h = header.trimmingASCIISpaces()
        guard h.lowercased().hasPrefix("bytes=") else { return .whole }
        let spec = h.dropFirst(6)
        guard !spec.contains(",") else { return .whole }
        let parts = spec.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false).map { String($0).trimmingASCIISpaces() }
        guard parts.count == 2 else { return .whole }
        if parts[0].isEmpty {
            // Suffix: the last n bytes.
            guard let n = Int64(parts[1]), n >= 0 else { return .whole }
            guard n > 0, size > 0 else { return .unsatisfiable }
            return .part(first: max(0, size - n), last: size - 1)
        }
        guard let first = Int64(parts[0]), first >= 0 else { return .whole }
        guard first < size else { return .unsatisfiable }
        if parts[1].isEmpty { return .part(first: first, last: size - 1) }
        guard let last = Int64(parts[1]), last >= first else { return .whole }
        return .part(first: first, last: min(last, size - 1))
    }
}

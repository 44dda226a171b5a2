/// What makes a stored file a firmware image: the version it installs and the devices it is for. Shared by the API
/// and `corral firmware add`.
public enum FirmwareRelease {
    public static let maxVersion = 64
    public static let maxNotes = 2000

    /// Fills the release fields of `file`, or returns what is wrong with them. `profileExists` answers for the
    /// loaded profiles (an image for a profile nobody has is a typo).
    public static func apply(version: String, profile: String?, model: String?, notes: String?, to file: inout StoredFile,
                             profileExists: (String) -> Bool) -> String? {
        let v = version.releaseTrimmed
        guard !v.isEmpty, v.count <= maxVersion, v.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F }) else {
            return "version must be 1-\(maxVersion) printable characters (what the device reports as SoftwareVersion)"
        }
        let p = profile?.releaseTrimmed ?? ""
        if !p.isEmpty && !profileExists(p) { return "no profile named \(p)" }
        let m = model?.releaseTrimmed ?? ""
        guard m.count <= 64, m.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F }) else {
            return "model must be at most 64 printable characters (a ModelName or a pattern with *)"
        }
        let n = notes ?? ""
        guard n.count <= maxNotes else { return "notes are limited to \(maxNotes) characters" }
        file.version = v; file.targetProfile = p; file.targetModel = m; file.notes = n
        file.fileType = StoredFile.firmwareType
        return nil
    }

    /// Whether an image is meant for a device of this profile and model ("" targets match anything).
    public static func fits(_ file: StoredFile, profile: String, model: String) -> Bool {
        (file.targetProfile.isEmpty || file.targetProfile == profile)
            && (file.targetModel.isEmpty || Glob.matches(file.targetModel, model))
    }
}

private extension String {
    var releaseTrimmed: String { trimmingSpace(self) }
}

private func trimmingSpace(_ s: String) -> String {
    var t = Substring(s)
    while let f = t.first, f.isWhitespace { t = t.dropFirst() }
    while let l = t.last, l.isWhitespace { t = t.dropLast() }
    return String(t)
}

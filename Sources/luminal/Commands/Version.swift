import _LuminalCShims

/// The version of this build and the commit it was built from.
enum Version {
    /// Semantic version; a release is tagged `v` followed by it (README, "Versions").
    static let current = "0.2.0"

    /// The commit `Scripts/install` built from, or "unknown" for a plain `swift build`.
    static var commit: String { String(cString: luminal_build_commit()) }

    /// What `luminal --version` prints: "luminal 0.2.0 (commit 1a2b3c4d5e6f)".
    static var line: String { "luminal \(current) (commit \(commit))" }
}

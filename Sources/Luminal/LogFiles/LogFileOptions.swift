/// Where and how `LogFiles` writes: one file per photon file and one for the supervisor, rotated
/// by size with a bounded number kept.
public struct LogFileOptions: Sendable, Hashable {
    /// How each line is written.
    public enum Format: String, Sendable, Hashable, CaseIterable {
        /// `2026-12-01T15:07:25.123Z [photon] text` (worker output) or `… luminal: level: text`.
        case text
        /// One JSON object per line: `time`, `photon`, `file`, `stream`, `text` (and `level` for the supervisor's).
        case json
    }

    /// The folder the files go to; created if missing.
    public var directory: String
    /// Photon files under this folder are named by their path relative to it (`sub_name.log`);
    /// others by their last component.
    public var root: String?
    /// How lines are written.
    public var format: Format = .text
    /// A file is rotated before a line would take it past this size (a longer line gets a file of its own).
    public var maxBytes = 10 * 1024 * 1024
    /// Rotated files kept per log (`name.log.1` the newest … `name.log.N`).
    public var keep = 5

    /// Files in `directory`, named after photon files under `root`.
    public init(directory: String, root: String? = nil) {
        self.directory = directory
        self.root = root
    }

    /// The log's name for the photon file at `path`, or the supervisor's (`luminal`) for nil.
    func logName(for path: String?) -> String {
        guard let path else { return "luminal" }
        let relative = root.flatMap { root in path.hasPrefix(root + "/") ? String(path.dropFirst(root.count + 1)) : nil } ?? Paths.name(path)
        // "luminal" is the supervisor's: a photon file of that name gets a mark of its own.
        let name = String(relative.map { $0 == "/" ? "_" : $0 })
        return name == "luminal" ? "luminal-photon" : name
    }
}

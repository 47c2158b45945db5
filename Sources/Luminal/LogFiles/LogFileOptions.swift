import LuminalSystem

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

    /// The longest log name (before `.log`): with `.log.N`, N the last rotated file kept, it
    /// fills NAME_MAX (255 bytes); 249 bytes at the default `keep`, 246 at 1,000.
    var nameLimit: Int { 255 - ".log.".utf8.count - String(max(keep, 1)).utf8.count }

    /// Makes the folder if it is missing (mode 0750) and checks that it may hold the logs: every
    /// folder on its path owned by root or this user and writable by no one else (`OwnedFolder`).
    /// `luminal run` refuses to start with a folder that fails this.
    public func checkFolder() throws(SystemError) {
        _ = try OwnedFolder.open(directory, creating: 0o750)
    }

    /// The log's name for the photon file at `path`, or the supervisor's (`luminal`) for nil.
    ///
    /// The photon file's path under `root` (else its last component), with every byte other than
    /// ASCII letters, digits, `.`, `_`, `-` and non-ASCII UTF-8 replaced by `_`. A name that this
    /// changed, the name `luminal` (the supervisor's) and a name longer than `nameLimit` (cut to
    /// fit, at a character boundary) end in `~` and 12 hex digits of the SHA-256 of the path's
    /// bytes: as no name left as it was holds a `~`, two photon files never share a log.
    func logName(for path: String?) -> String {
        guard let path else { return "luminal" }
        let relative = root.flatMap { root in path.hasPrefix(root + "/") ? String(path.dropFirst(root.count + 1)) : nil } ?? Paths.name(path)
        var bytes = relative.utf8.map { Self.keptInName($0) ? $0 : UInt8(ascii: "_") }
        guard bytes != Array(relative.utf8) || relative == "luminal" || bytes.count > nameLimit else { return relative }
        var digest = SHA256()
        Array(path.utf8).withUnsafeBytes { digest.update($0) }
        let mark = "~" + digest.finalizeHex().prefix(12)
        if bytes.count > nameLimit - mark.utf8.count {
            bytes.removeLast(bytes.count - (nameLimit - mark.utf8.count))
            // Not inside a character: drop a cut-off sequence's lead and continuation bytes.
            while let last = bytes.last, last & 0x80 != 0 {
                let lead = last & 0xC0 == 0xC0
                bytes.removeLast()
                if lead { break }
            }
        }
        return String(decoding: bytes, as: UTF8.self) + mark
    }

    /// Whether `byte` stays as it is in a log name.
    private static func keptInName(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"), 0x80...: true
        default: false
        }
    }
}

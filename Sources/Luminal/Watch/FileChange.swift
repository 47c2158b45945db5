/// One path a change source saw change, and what the change says about the save in progress.
package struct FileChange: Sendable, Hashable {
    /// What a change says about the bytes under its path.
    package enum Kind: Sendable, Hashable {
        /// A save finished: a file renamed into place, the last close of a file opened for
        /// writing. Acted on at once.
        case finished
        /// Something that may go on: a write, a creation, a removal, a rescan, any change the
        /// polling backend sees. Acted on once the path has been quiet for the quiet period.
        case ongoing
        /// Metadata only (mode, times, owner): says nothing about the bytes, so it leaves a change
        /// already waiting as it is, and otherwise waits for the quiet period.
        case metadata
    }

    /// The path that changed (not yet mapped to a photon file).
    package let path: String
    /// What the change says.
    package let kind: Kind

    /// A change that waits for the quiet period.
    static func ongoing(_ path: String) -> FileChange {
        FileChange(path: path, kind: .ongoing)
    }
}

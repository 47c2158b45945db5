#if canImport(Glibc)
import Glibc
#endif
import LuminalSystem
import LuminalWorker

/// Where the state file (`LoaderConfiguration.stateFile`) is read and written: its folder, opened
/// through `OwnedFolder` (sticky allowed, as `/tmp`), and the file in it never through a symlink.
enum StateFolder {
    /// The most of a state file that is read.
    static let readLimit = 4096

    /// The folder holding `stateFile`, checked.
    static func open(_ stateFile: String) throws(SystemError) -> OwnedFolder {
        try OwnedFolder.open(Paths.parent(Paths.absolute(stateFile)), allowingSticky: true)
    }

    /// The bytes of `stateFile`; nil if there is none. Throws `LoaderError` naming the file if it
    /// cannot be trusted: a symlink, not a regular file, owned by another user, or writable by
    /// others (in a folder on a path another user could change).
    static func read(_ stateFile: String) throws(LoaderError) -> [UInt8]? {
        do throws(SystemError) {
            return try open(stateFile).readOwnFile(Paths.name(stateFile), limit: readLimit)
        } catch {
            if error.errno == ENOENT { return nil }
            throw LoaderError(.spawnFailed, "the state file \(stateFile) cannot be trusted, so no process it names is signalled: \(error); remove it, or choose another with --state PATH", file: stateFile)
        }
    }
}

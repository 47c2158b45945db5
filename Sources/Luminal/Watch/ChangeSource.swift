/// Where a watcher learns that something in its folder may have changed.
package protocol ChangeSource: Sendable {
    /// The paths that changed since the last call (not yet mapped to photon files), in the order
    /// seen, without blocking.
    func changes() -> [FileChange]
    /// Also reports changes to these files, wherever they are (a package's `watch` list, the
    /// target of a symlink), and the creation of the folders on the way to one that is missing.
    func follow(_ files: [String])
    /// Starts calling `wake` when changes may be waiting (live watching only).
    func activate(_ wake: @escaping @Sendable () -> Void)
    /// Stops watching and releases the source.
    func close()
}

/// Which change source a watcher uses.
public enum WatchBackend: Sendable, Hashable {
    /// inotify on the watched folders (sub-folders too when recursive): no work while nothing changes.
    case inotify
    /// Periodic metadata scan (size, mtime, inode, mode); contents are hashed only when metadata
    /// changed. For file systems where inotify does not work (network mounts, some containers).
    case polling(interval: Duration)
}

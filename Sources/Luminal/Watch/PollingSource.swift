import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import LuminalSystem
import LuminalWorker
import Synchronization

/// Changes found by comparing file metadata (size, mtime, inode, mode) between scans, for file
/// systems where inotify does not work. Contents are never read here, nor any file opened: the
/// watcher hashes a file only when this reports it.
final class PollingSource: ChangeSource {
    private struct Metadata: Equatable {
        let size: Int
        let modified: timespec
        let inode: UInt
        let mode: UInt32

        static func == (a: Metadata, b: Metadata) -> Bool {
            a.size == b.size && a.modified.tv_sec == b.modified.tv_sec && a.modified.tv_nsec == b.modified.tv_nsec
                && a.inode == b.inode && a.mode == b.mode
        }
    }

    private let root: String
    private let recursive: Bool
    private let interval: Duration
    private let state = Mutex<(snapshot: [String: Metadata], timer: (any DispatchSourceTimer)?, followed: Set<String>)>(([:], nil, []))

    /// Polls `root` (package folders always, every folder with `recursive`) every `interval`.
    init(root: String, recursive: Bool, interval: Duration) {
        self.root = root
        self.recursive = recursive
        self.interval = interval
        let first = scan()
        state.withLock { $0.snapshot = first }
    }

    deinit {
        close()
    }

    func activate(_ wake: @escaping @Sendable () -> Void) {
        let timer = DispatchSource.makeTimerSource(queue: .global())
        timer.schedule(deadline: .now() + interval.dispatchInterval, repeating: interval.dispatchInterval)
        timer.setEventHandler(handler: wake)
        state.withLock { $0.timer = timer }
        timer.activate()
    }

    func follow(_ files: [String]) {
        state.withLock { $0.followed.formUnion(files) }
    }

    func close() {
        state.withLock { state in
            state.timer?.cancel()
            state.timer = nil
        }
    }

    /// Every change found by polling waits for the quiet period: metadata cannot tell a finished
    /// save from one in progress.
    func changes() -> [FileChange] {
        let now = scan()
        return state.withLock { state in
            let before = state.snapshot
            state.snapshot = now
            return Set(before.keys).union(now.keys).filter { before[$0] != now[$0] }.sorted().map(FileChange.ongoing)
        }
    }

    /// The metadata of every entry this source covers. Symlinks to folders are not followed, but
    /// for a package at the top (a photon file), and each folder is visited once (by device and
    /// inode), so no loop can make a scan endless. Entries that cannot be followed (a broken
    /// symlink) count by their own metadata, and names that are not UTF-8 by their escaped form.
    private func scan() -> [String: Metadata] {
        var result: [String: Metadata] = [:]
        var visited: Set<[UInt64]> = []
        func visit(_ folder: String) {
            guard let listing = Paths.listing(of: folder) else { return }
            for name in listing.undecodable where !PhotonScan.isIgnored(name) {
                result[Paths.join(folder, name)] = Metadata(size: 0, modified: timespec(), inode: 0, mode: 0)
            }
            for name in listing.names where !PhotonScan.isIgnored(name) {
                let path = Paths.join(folder, name)
                var info = stat()
                // stat, not lstat: an edit to the target of a symlinked photon file counts.
                guard stat(path, &info) == 0 || lstat(path, &info) == 0 else { continue }
                result[path] = Metadata(size: Int(info.st_size), modified: info.st_mtim, inode: UInt(info.st_ino), mode: info.st_mode)
                guard recursive || folder == root, info.st_mode & S_IFMT == S_IFDIR else { continue }
                let entry = EntryInfo(path: path)
                if entry.isRealDirectory || (folder == root && PhotonScan.isPackage(path)),
                   visited.insert([UInt64(info.st_dev), UInt64(info.st_ino)]).inserted {
                    visit(path)
                }
            }
        }
        var rootInfo = stat()
        if stat(root, &rootInfo) == 0 { visited.insert([UInt64(rootInfo.st_dev), UInt64(rootInfo.st_ino)]) }
        visit(root)
        for path in state.withLock({ $0.followed }) {
            var info = stat()
            guard stat(path, &info) == 0 else { continue }
            result[path] = Metadata(size: Int(info.st_size), modified: info.st_mtim, inode: UInt(info.st_ino), mode: info.st_mode)
        }
        return result
    }
}

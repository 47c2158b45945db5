import Dispatch
import Glibc
import Synchronization

/// Changes found by comparing file metadata (size, mtime, inode, mode) between scans, for file
/// systems where inotify does not work. Contents are never read here: the watcher hashes a file
/// only when this reports it.
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

    func changes() -> [String] {
        let now = scan()
        return state.withLock { state in
            let before = state.snapshot
            state.snapshot = now
            return Set(before.keys).union(now.keys).filter { before[$0] != now[$0] }.sorted()
        }
    }

    private func scan() -> [String: Metadata] {
        var result: [String: Metadata] = [:]
        func visit(_ folder: String) {
            for name in Paths.entries(of: folder) ?? [] where !PhotonScan.isIgnored(name) {
                let path = Paths.join(folder, name)
                var info = stat()
                // stat, not lstat: an edit to the target of a symlinked photon file counts.
                guard stat(path, &info) == 0 else { continue }
                result[path] = Metadata(size: Int(info.st_size), modified: info.st_mtim, inode: UInt(info.st_ino), mode: info.st_mode)
                if info.st_mode & S_IFMT == S_IFDIR, recursive || folder == root { visit(path) }
            }
        }
        visit(root)
        for path in state.withLock({ $0.followed }) {
            var info = stat()
            guard stat(path, &info) == 0 else { continue }
            result[path] = Metadata(size: Int(info.st_size), modified: info.st_mtim, inode: UInt(info.st_ino), mode: info.st_mode)
        }
        return result
    }
}

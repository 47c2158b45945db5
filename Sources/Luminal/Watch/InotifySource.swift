#if canImport(Glibc)
import Glibc
#endif
import _LuminalCShims
import LuminalSystem
import LuminalWorker
import Synchronization

/// Changes seen by inotify on a photon folder and its sub-folders (each package folder, and with
/// `recursive` every folder, never through a symlink). Folders created later are watched as they
/// appear, and the files already in them are reported. A queue overflow reports the root,
/// meaning "rescan everything", and looks for the folders it may have missed.
final class InotifySource: ChangeSource {
    private static let mask = UInt32(IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE
        | IN_ATTRIB | IN_MODIFY | IN_DELETE_SELF | IN_ONLYDIR)

    private let fd: Int32
    private let root: String
    private let recursive: Bool
    private let state = Mutex<State>(State())

    private struct State {
        var folders: [Int32: String] = [:]
        var followed: Set<String> = []
        var token: EventLoop.Token?
        var closed = false
    }

    /// Watches `root` (and its sub-folders as described above).
    init(root: String, recursive: Bool) throws(SystemError) {
        let fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        if fd < 0 { throw SystemError(errno: errno, "inotify_init1") }
        self.fd = fd
        self.root = root
        self.recursive = recursive
        _ = watchTree(root)
    }

    deinit {
        close()
    }

    func activate(_ wake: @escaping @Sendable () -> Void) {
        let token = EventLoop.shared.add(fd, handler: wake)
        state.withLock { $0.token = token }
    }

    func follow(_ files: [String]) {
        for folder in Set(files.map(Paths.parent)) where !state.withLock({ $0.followed.contains(folder) }) {
            if Paths.kind(folder) == .directory {
                guard let wd = addWatch(folder) else { continue }
                state.withLock { state in
                    state.followed.insert(folder)
                    if state.folders[wd] == nil { state.folders[wd] = folder }
                }
            } else if let ancestor = Paths.nearestFolder(above: folder), let wd = addWatch(ancestor) {
                // Not built yet: its creation shows in the nearest folder that exists, and the
                // next call follows it then.
                state.withLock { state in
                    if state.folders[wd] == nil { state.folders[wd] = ancestor }
                }
            }
        }
    }

    private func addWatch(_ folder: String) -> Int32? {
        let wd = inotify_add_watch(fd, folder, Self.mask)
        return wd >= 0 ? wd : nil
    }

    func close() {
        state.withLock { state in
            guard !state.closed else { return }
            state.closed = true
            state.token.map(EventLoop.shared.remove)
            closeQuietly(fd)
        }
    }

    /// How many folders are watched now.
    var watchedFolders: Int { state.withLock { $0.folders.count } }

    func changes() -> [FileChange] {
        var changed: [FileChange] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = state.withLock { state -> Int in
                state.closed ? 0 : buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return changed }
            buffer.withUnsafeBytes { bytes in
                var offset = 0
                while offset + 16 <= n {
                    let wd = bytes.loadUnaligned(fromByteOffset: offset, as: Int32.self)
                    let mask = bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)
                    let length = Int(bytes.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
                    let nameBytes = bytes[(offset + 16)..<(offset + 16 + length)].prefix { $0 != 0 }
                    offset += 16 + length
                    changed += interpret(wd: wd, mask: mask, name: String(decoding: nameBytes, as: UTF8.self))
                }
            }
        }
    }

    /// What one inotify event means: the paths it changed, and how.
    private func interpret(wd: Int32, mask: UInt32, name: String) -> [FileChange] {
        if mask & UInt32(IN_Q_OVERFLOW) != 0 {
            // Events were lost: everything may have changed, and folders may have appeared unseen.
            return [.ongoing(root)] + watchTree(root).map(FileChange.ongoing)
        }
        if mask & UInt32(IN_IGNORED) != 0 {
            // The kernel dropped the watch (its folder is gone): so does the source, and a followed
            // folder is looked for again, from the nearest folder above it, on the next `follow`.
            state.withLock { state in
                if let folder = state.folders.removeValue(forKey: wd) { state.followed.remove(folder) }
            }
            return []
        }
        guard let folder = state.withLock({ $0.folders[wd] }) else { return [] }
        guard !name.isEmpty else { return [.ongoing(folder)] } // the folder itself went away
        let path = Paths.join(folder, name)
        let kind: FileChange.Kind = mask & UInt32(IN_CLOSE_WRITE | IN_MOVED_TO) != 0 ? .finished
            : mask & UInt32(IN_ATTRIB) != 0 ? .metadata : .ongoing
        guard mask & UInt32(IN_ISDIR) != 0, mask & UInt32(IN_CREATE | IN_MOVED_TO) != 0 else {
            return [FileChange(path: path, kind: kind)]
        }
        // A folder moved into place came whole; one just created is likely still being filled.
        let inside = kind == .finished ? FileChange.Kind.finished : .ongoing
        return [FileChange(path: path, kind: kind)] + watchTree(path).map { FileChange(path: $0, kind: inside) }
    }

    /// Watches `folder` and the folders below it that this source covers; returns the paths
    /// already inside the new folders (files that appeared before the watch did). Symlinks to
    /// folders are not followed, but for a package at the top (a photon file), and a folder
    /// reached again by another path is not watched twice: no loop can make this endless.
    private func watchTree(_ folder: String) -> [String] {
        guard let wd = addWatch(folder) else { return [] }
        let known = state.withLock { $0.folders[wd] }
        if let known, known != folder, EntryInfo(path: known).identity == EntryInfo(path: folder).identity {
            return [] // the same folder, still there under the path it is watched by
        }
        state.withLock { $0.folders[wd] = folder }
        var found: [String] = []
        for name in Paths.entries(of: folder) ?? [] where !PhotonScan.isIgnored(name) {
            let path = Paths.join(folder, name)
            if folder != root { found.append(path) }
            guard recursive || folder == root else { continue }
            let info = EntryInfo(path: path)
            if info.isRealDirectory || (folder == root && info.kind == .directory && PhotonScan.isPackage(path)) {
                found += watchTree(path)
            }
        }
        return found
    }
}

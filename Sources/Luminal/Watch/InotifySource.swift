#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import _LuminalCShims

/// Changes seen by inotify on a photon folder and its sub-folders (each package folder, and with
/// `recursive` every folder, never through a symlink). Folders created later are watched as they
/// appear, and the files already in them are reported. A queue overflow reports the root,
/// meaning "rescan everything".
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
        for folder in Set(files.map(Paths.parent)) {
            // A folder that does not exist yet (nothing built) is tried again on the next call.
            guard !state.withLock({ $0.followed.contains(folder) }) else { continue }
            let wd = inotify_add_watch(fd, folder, Self.mask)
            guard wd >= 0 else { continue }
            state.withLock { state in
                state.followed.insert(folder)
                if state.folders[wd] == nil { state.folders[wd] = folder }
            }
        }
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

    func changes() -> [String] {
        var changed: [String] = []
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
                    if mask & UInt32(IN_Q_OVERFLOW) != 0 {
                        changed.append(root)
                        continue
                    }
                    if mask & UInt32(IN_IGNORED) != 0 {
                        // The kernel dropped the watch (its folder is gone): so does the source.
                        state.withLock { _ = $0.folders.removeValue(forKey: wd) }
                        continue
                    }
                    guard let folder = state.withLock({ $0.folders[wd] }) else { continue }
                    if nameBytes.isEmpty {
                        changed.append(folder) // the folder itself went away
                        continue
                    }
                    let path = Paths.join(folder, String(decoding: nameBytes, as: UTF8.self))
                    changed.append(path)
                    if mask & UInt32(IN_ISDIR) != 0, mask & UInt32(IN_CREATE | IN_MOVED_TO) != 0 {
                        changed += watchTree(path)
                    }
                }
            }
        }
    }

    /// Watches `folder` and the folders below it that this source covers; returns the paths
    /// already inside the new folders (files that appeared before the watch did). Symlinks to
    /// folders are not followed, but for a package at the top (a photon file), and a folder
    /// reached again by another path is not watched twice: no loop can make this endless.
    private func watchTree(_ folder: String) -> [String] {
        let wd = inotify_add_watch(fd, folder, Self.mask)
        guard wd >= 0 else { return [] }
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

import LuminalSystem

/// The last scan of a watched folder, brought up to date from the paths that changed, so that a
/// change costs a look at those paths and not a scan of the whole folder.
///
/// An update is exact or refused: it changes only entries whose scan result does not depend on
/// any other entry. It refuses (and a whole scan is needed) for the folder itself (an inotify
/// overflow), a symlink anywhere in the folder (what it names depends on other paths), a folder
/// to search (recursive) appearing or going, a manifest appearing in a searched folder, a name
/// that is not valid UTF-8, and an entry that shares its device and inode with another (a hard
/// link: which of two paths to one file is loaded depends on both, and a change made through one
/// is reported for that one only).
package struct ScanIndex: Sendable {
    package let root: String
    package let recursive: Bool
    private var entries: [String: PhotonScan.Scanned]
    /// Entries per device and inode.
    private var identities: [[UInt64]: Int] = [:]
    private var symlinks = 0
    /// The folders the scan searched (`root` included).
    private let folders: Set<String>

    /// The index of `scan`, a whole scan of `root`.
    package init(_ scan: PhotonScan.Scan, root: String, recursive: Bool) {
        self.root = root
        self.recursive = recursive
        folders = scan.folders
        entries = [:]
        for scanned in scan.entries {
            entries[scanned.entry.path] = scanned
            count(scanned, 1)
        }
    }

    /// What a whole scan would find now, in path order.
    package var scan: [PhotonScan.Entry] {
        entries.keys.sorted().compactMap { entries[$0]?.entry }
    }

    /// Looks again at the entries that the raw paths `changed` concern; false when only a whole
    /// scan can tell (the index is then to be rebuilt from one).
    package mutating func update(_ changed: [String]) -> Bool {
        var paths: Set<String> = []
        for raw in changed {
            if raw == root { return false }
            // Outside the folder (a followed file): no entry of the scan changes.
            guard raw.hasPrefix(root + "/") else { continue }
            guard symlinks == 0, let path = entryPath(of: raw) else { return false }
            let name = Paths.name(path)
            if name.contains("\u{FFFD}") { return false }
            if !PhotonScan.isIgnored(name) { paths.insert(path) }
        }
        // What the changed entries were goes first: an inode one of them let go of and another
        // took is not a second path to one file.
        for path in paths {
            guard let old = entries[path] else { continue }
            if old.isSymlink || folders.contains(path) { return false }
            if let identity = old.identity, identities[identity, default: 0] > 1 { return false }
            count(old, -1)
            entries[path] = nil
        }
        for path in paths.sorted() where !look(at: path) { return false }
        return true
    }

    /// The entry of the scan a changed path belongs to: the path itself when it is directly in a
    /// searched folder, else the entry holding it (a package, a folder passed over); nil when it
    /// is inside nothing the scan knows.
    private func entryPath(of raw: String) -> String? {
        var path = raw
        while path.hasPrefix(root + "/") {
            let parent = Paths.parent(path)
            if folders.contains(parent) {
                // A manifest appearing in a searched folder makes a package of it.
                if path == raw, parent != root, Paths.name(raw) == Manifest.fileName { return nil }
                return path
            }
            path = parent
        }
        return nil
    }

    /// Classifies the entry at `path` again, as a scan would; false when that depends on other
    /// entries.
    private mutating func look(at path: String) -> Bool {
        let info = EntryInfo(path: path)
        if info.isSymlink || folders.contains(path) { return false }
        guard let entry = PhotonScan.classify(path, info, recursive: recursive) else {
            // Gone (nothing to add), or a folder to search.
            return info.kind != .directory
        }
        if identities[info.identity, default: 0] > 0 { return false }
        let scanned = PhotonScan.Scanned(entry: entry, identity: info.identity, isSymlink: false)
        entries[path] = scanned
        count(scanned, 1)
        return true
    }

    private mutating func count(_ scanned: PhotonScan.Scanned, _ step: Int) {
        if scanned.isSymlink { symlinks += step }
        if let identity = scanned.identity {
            identities[identity, default: 0] += step
            if identities[identity] == 0 { identities[identity] = nil }
        }
    }
}

extension PhotonScan.Entry {
    /// The entry's path.
    package var path: String {
        switch self {
        case .photonFile(let path), .skipped(let path, _): path
        }
    }
}

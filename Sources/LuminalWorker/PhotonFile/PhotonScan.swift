#if canImport(Glibc)
import Glibc
#endif
import LuminalSystem

/// Finds photon files on disk, as the seed's `_scan_module` and `_find_modules` did.
///
/// A photon file is an executable regular file, or a package: a folder holding `photon.json`.
/// In a folder scan, hidden entries and editor leftovers are ignored, everything else that is not
/// a photon file is skipped (and reported), packages are never descended into, and plain
/// sub-folders are descended into only when `recursive` (never through a symlink).
package enum PhotonScan {
    /// One thing a folder scan found.
    package enum Entry: Sendable, Equatable {
        /// A photon file's absolute path.
        case photonFile(String)
        /// A file passed over, and why.
        case skipped(String, reason: String)
    }

    /// One entry a scan found, with what it was on disk (for `ScanIndex`).
    package struct Scanned: Sendable {
        package let entry: Entry
        /// The device and inode of what it names; nil for an entry that could not be looked at.
        package let identity: [UInt64]?
        package let isSymlink: Bool
    }

    /// A whole scan: what it found, and the folders it searched (the folder itself included).
    package struct Scan: Sendable {
        package let entries: [Scanned]
        package let folders: Set<String>
    }

    /// Resolves one photon file path for loading.
    package static func resolve(_ rawPath: String) throws(LoaderError) -> PhotonFile {
        let path = Paths.absolute(rawPath)
        switch Paths.kind(path) {
        case .missing:
            throw LoaderError(.photonNotFound, "photon file \(path) does not exist", file: path)
        case .other:
            throw LoaderError(.notAPhotonFile, "\(path) is not a regular file or folder, so it cannot be a photon file", file: path)
        case .directory:
            let manifest = Paths.join(path, Manifest.fileName)
            switch Paths.kind(manifest) {
            case .regular:
                return try Manifest.load(package: path)
            case .missing:
                throw LoaderError(.notAPhotonFile, "\(path) is a folder without \(Manifest.fileName); load a folder of photons as such (`luminal run DIR`, `Loader.loadPhotons(in:)`), or add a manifest to make it a package", file: path)
            case .directory, .other:
                throw LoaderError(.invalidManifest, "manifest \(manifest) is not a regular file", file: path)
            }
        case .regular:
            guard Paths.isExecutable(path) else {
                throw LoaderError(.notExecutable, "photon file \(path) is not executable; run chmod +x on it", file: path)
            }
            return PhotonFile(path: path, executable: path, arguments: [], environment: [:],
                              workingDirectory: Paths.parent(path), contentPaths: [path], timeouts: ManifestTimeouts())
        }
    }

    /// True for a folder that is a photon package.
    package static func isPackage(_ path: String) -> Bool {
        Paths.kind(Paths.join(path, Manifest.fileName)) == .regular
    }

    /// `resolve(_:)` on the file-work queue: it reads a manifest, which must never hold up an actor.
    package static func resolving(_ path: String) async throws(LoaderError) -> PhotonFile {
        try await FileWork.run { () throws(LoaderError) -> PhotonFile in try resolve(path) }
    }

    /// `scan(_:recursive:preferring:)` on the file-work queue.
    package static func scanning(_ directory: String, recursive: Bool, preferring: Set<String> = []) async throws(LoaderError) -> [Entry] {
        try await FileWork.run { () throws(LoaderError) -> [Entry] in try scan(directory, recursive: recursive, preferring: preferring) }
    }

    /// `walk(_:recursive:preferring:)` on the file-work queue.
    package static func walking(_ directory: String, recursive: Bool, preferring: Set<String> = []) async throws(LoaderError) -> Scan {
        try await FileWork.run { () throws(LoaderError) -> Scan in try walk(directory, recursive: recursive, preferring: preferring) }
    }

    /// The photon files in `directory`, in name order, and every other entry (but editor
    /// leftovers) with the reason it is passed over.
    ///
    /// Symlinks to files are followed, and a symlink to a package is a photon file; a symlink to
    /// a plain folder is never searched, so a scan cannot loop (folders are also told apart by
    /// device and inode, should a bind mount make a loop). A file reached by a second path (a
    /// symlink or a hard link to one already found) is passed over as the same file, unless it is
    /// one of the paths `preferring` names (the paths loaded already): a file reached by one of
    /// those is that path's, whatever the order, so a link appearing beside a loaded file never
    /// displaces it.
    package static func scan(_ rawDirectory: String, recursive: Bool, preferring: Set<String> = []) throws(LoaderError) -> [Entry] {
        try walk(rawDirectory, recursive: recursive, preferring: preferring).entries.map(\.entry)
    }

    /// `scan(_:recursive:preferring:)`, with what each entry was on disk and the folders searched.
    package static func walk(_ rawDirectory: String, recursive: Bool, preferring: Set<String> = []) throws(LoaderError) -> Scan {
        let directory = Paths.absolute(rawDirectory)
        guard Paths.kind(directory) == .directory, let listing = Paths.listing(of: directory) else {
            throw LoaderError(.directoryNotFound, "photon folder \(directory) does not exist or is not a readable folder", file: directory)
        }
        var walk = Walk(recursive: recursive)
        for path in preferring.sorted() {
            let info = EntryInfo(path: path)
            if info.kind == .regular || info.kind == .directory { walk.files[info.identity] = walk.files[info.identity] ?? path }
        }
        walk.visit(directory, identity: EntryInfo(path: directory).identity, listing: listing)
        return Scan(entries: walk.found, folders: Set(walk.folders.values))
    }

    /// One scan's progress: what it found, and the files and folders it has seen.
    private struct Walk {
        let recursive: Bool
        var found: [Scanned] = []
        var files: [[UInt64]: String] = [:]
        var folders: [[UInt64]: String] = [:]

        init(recursive: Bool) {
            self.recursive = recursive
        }

        /// Scans `directory` (listed already, when `listing` is given).
        mutating func visit(_ directory: String, identity: [UInt64], listing given: (names: [String], undecodable: [String])? = nil) {
            folders[identity] = directory
            guard let listing = given ?? Paths.listing(of: directory) else {
                return found.append(Scanned(entry: .skipped(directory, reason: "a folder that cannot be read"), identity: nil, isSymlink: false))
            }
            let entries = listing.names.filter { !isIgnored($0) }.map { Paths.join(directory, $0) }.map { path in
                (path: path, info: EntryInfo(path: path))
            }
            // A symlink beside the file it names is the second path, whatever the name order.
            var real: [[UInt64]: String] = [:]
            for entry in entries.reversed() where !entry.info.isSymlink { real[entry.info.identity] = entry.path }
            for (path, info) in entries {
                let seen = { (entry: Entry) in Scanned(entry: entry, identity: info.identity, isSymlink: info.isSymlink) }
                switch PhotonScan.classify(path, info, recursive: recursive) {
                case .photonFile:
                    if let first = files[info.identity] ?? (info.isSymlink ? real[info.identity] : nil), first != path {
                        found.append(seen(.skipped(path, reason: "the same file as \(first), reached by another path; it is loaded once")))
                    } else {
                        files[info.identity] = path
                        found.append(seen(.photonFile(path)))
                    }
                case .skipped(_, let reason):
                    found.append(seen(.skipped(path, reason: reason)))
                case nil:
                    if let first = folders[info.identity] {
                        found.append(seen(.skipped(path, reason: "the same folder as \(first), reached again; it is searched once")))
                    } else if info.kind == .directory {
                        visit(path, identity: info.identity)
                    }
                }
            }
            for name in listing.undecodable where !isIgnored(name) {
                found.append(Scanned(entry: .skipped(Paths.join(directory, name), reason: "its name is not valid UTF-8 (shown escaped), so it cannot be loaded; rename it"),
                                     identity: nil, isSymlink: false))
            }
        }
    }

    /// What the entry at `path` is for a scan; nil for a folder to search (or one that is gone).
    package static func classify(_ path: String, _ info: EntryInfo, recursive: Bool) -> Entry? {
        let link = info.isSymlink ? "a symlink to " : ""
        switch info.kind {
        case .missing:
            return info.isSymlink ? .skipped(path, reason: "a symlink that cannot be followed (\(String(cString: strerror(info.failure))))") : nil
        case .other:
            return .skipped(path, reason: "\(link)\(info.otherKind), not a regular file or folder")
        case .regular:
            return Paths.isExecutable(path) ? .photonFile(path) : .skipped(path, reason: "not executable")
        case .directory:
            switch Paths.kind(Paths.join(path, Manifest.fileName)) {
            case .regular: return .photonFile(path)
            case .missing where info.isSymlink:
                return .skipped(path, reason: "a symlink to a folder without \(Manifest.fileName); symlinked folders are not searched")
            case .missing where recursive: return nil
            case .missing: return .skipped(path, reason: "a folder without \(Manifest.fileName); sub-folders are searched only when recursive")
            default: return .skipped(path, reason: "its \(Manifest.fileName) is not a regular file")
            }
        }
    }

    /// Hidden files and the leftovers editors write beside the files they save (vim, Emacs,
    /// JetBrains safe write).
    package static func isIgnored(_ name: String) -> Bool {
        name.hasPrefix(".") || name.hasSuffix("~") || name == "4913"
            || [".swp", ".swo", ".swx", ".tmp", ".bak", ".orig", "___jb_tmp___", "___jb_old___"].contains { name.hasSuffix($0) }
    }
}

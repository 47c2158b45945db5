#if canImport(Glibc)
import Glibc
#endif
@testable import LuminalSystem
import LuminalTestKit
@testable import LuminalWorker
import Testing

/// A watched folder's scan kept up to date from the paths that change: after every change, what
/// the index says is what a whole scan finds, and most changes need no whole scan.
@Suite struct ScanIndexUpdates {
    /// Writes a file at `path` (making its folders, replacing a folder or anything else there),
    /// and returns the paths inotify reports; nothing when a file is in the way of its folder.
    static func put(_ path: String, _ text: String, mode: mode_t, in folder: PhotonFolder) -> [String] {
        var changed: [String] = []
        var info = stat()
        if lstat(path, &info) == 0, info.st_mode & S_IFMT != S_IFREG { changed += clear(path, in: folder) }
        // A folder made on the way is reported as new.
        if Paths.kind(Paths.parent(path)) != .directory { changed.append(Paths.parent(path)) }
        folder.mkdirAll(Paths.parent(path))
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { return changed }
        Array(text.utf8).withUnsafeBytes { _ = write(fd, $0.baseAddress, $0.count) }
        fchmod(fd, mode)
        close(fd)
        return changed + [path]
    }

    /// Removes what is at `path`, and returns the paths inotify reports.
    static func clear(_ path: String, in folder: PhotonFolder) -> [String] {
        var info = stat()
        guard lstat(path, &info) == 0 else { return [] }
        var inner: [String] = []
        if info.st_mode & S_IFMT == S_IFDIR {
            for name in Paths.entries(of: path) ?? [] { inner += clear(Paths.join(path, name), in: folder) }
        }
        folder.remove(path)
        return inner + [path]
    }

    /// Changes the folder at random, as a user would, and returns the paths inotify reports.
    static func change(_ folder: PhotonFolder, recursive: Bool, _ random: inout SplitMix) -> [String] {
        let names = recursive ? ["a", "b", "c", "pkg", "sub/d", "sub/e", "sub/pkg"] : ["a", "b", "c", "d", "pkg"]
        let path = Paths.join(folder.path, names.randomElement(using: &random)!)
        let second = Paths.join(folder.path, names.randomElement(using: &random)!)
        switch Int.random(in: 0..<13, using: &random) {
        case 0, 1:
            return put(path, "#!/bin/sh\nexit 0\n", mode: 0o755, in: folder)
        case 2:
            return put(path, "data", mode: 0o644, in: folder)
        case 3:
            // A save by rename: the temporary file is an editor leftover, then the file is new.
            let temporary = Paths.join(Paths.parent(path), ".\(Paths.name(path)).tmp")
            let written = put(temporary, "#!/bin/sh\nexit \(Int.random(in: 0..<9, using: &random))\n", mode: 0o755, in: folder)
            return written + (rename(temporary, path) == 0 ? [path] : [])
        case 4:
            return clear(path, in: folder)
        case 5:
            chmod(path, Int.random(in: 0..<2, using: &random) == 0 ? 0o644 : 0o755)
            return [path]
        case 6:
            return link(path, second) == 0 ? [second] : []
        case 7:
            return put(Paths.join(path, "photon.json"), #"{"exec": "run"}"#, mode: 0o644, in: folder)
                + put(Paths.join(path, "run"), "#!/bin/sh\nexit 0\n", mode: 0o755, in: folder)
        case 8:
            let manifest = Paths.join(path, "photon.json")
            return unlink(manifest) == 0 ? [manifest] : []
        case 9:
            return symlink(path, second) == 0 ? [second] : []
        case 10:
            let new = Paths.kind(Paths.parent(path)) == .directory ? [path] : [Paths.parent(path), path]
            folder.mkdirAll(path)
            return new
        case 11:
            return mkfifo(path, 0o644) == 0 ? [path] : []
        default:
            // Inside a package: its program changed.
            return Paths.kind(path) == .directory ? put(Paths.join(path, "run"), "#!/bin/sh\nexit 1\n", mode: 0o755, in: folder) : []
        }
    }

    @Test(arguments: [false, true], [UInt64(1), 2, 3]) func anIndexKeptUpToDateFindsWhatAWholeScanFinds(recursive: Bool, seed: UInt64) throws {
        let folder = PhotonFolder()
        defer { folder.remove() }
        var random = SplitMix(seed: seed)
        let whole = { () throws -> PhotonScan.Scan in try PhotonScan.walk(folder.path, recursive: recursive) }
        var index = ScanIndex(try whole(), root: folder.path, recursive: recursive)
        var exact = 0, steps = 0
        while steps < 600 {
            let changed = Self.change(folder, recursive: recursive, &random)
            if changed.isEmpty { continue }
            steps += 1
            if index.update(changed) {
                exact += 1
            } else {
                index = ScanIndex(try whole(), root: folder.path, recursive: recursive)
            }
            let scan = try PhotonScan.scan(folder.path, recursive: recursive).sorted { $0.path < $1.path }
            try #require(index.scan == scan, "step \(steps), after changes to \(changed)")
            // A symlink keeps every update whole: take it away now and then.
            if steps % 40 == 0 {
                for name in Paths.entries(of: folder.path) ?? [] where EntryInfo(path: Paths.join(folder.path, name)).isSymlink {
                    unlink(Paths.join(folder.path, name))
                }
                index = ScanIndex(try whole(), root: folder.path, recursive: recursive)
            }
        }
        // Symlinks, hard links and folders come and go here: still, a good share is followed.
        #expect(exact * 5 > steps, "\(exact) of \(steps) changes followed without a whole scan")
    }

    @Test func savingAddingAndRemovingPhotonFilesNeedsNoWholeScan() throws {
        let folder = PhotonFolder()
        defer { folder.remove() }
        for number in 0..<20 { folder.script("p\(number)", "exit 0") }
        folder.write("pkg/photon.json", #"{"exec": "run"}"#)
        folder.script("pkg/run", "exit 0")
        var index = ScanIndex(try PhotonScan.walk(folder.path, recursive: false), root: folder.path, recursive: false)
        let path = { (name: String) in Paths.join(folder.path, name) }
        let changes: [() -> [String]] = [
            { Self.put(path("p1"), "#!/bin/sh\nexit 1\n", mode: 0o755, in: folder) },
            { Self.put(path(".p2.tmp"), "#!/bin/sh\nexit 2\n", mode: 0o755, in: folder) + (rename(path(".p2.tmp"), path("p2")) == 0 ? [path("p2")] : []) },
            { Self.put(path("new"), "#!/bin/sh\nexit 0\n", mode: 0o755, in: folder) },
            { Self.put(path("notes"), "text", mode: 0o644, in: folder) },
            { chmod(path("p3"), 0o644) == 0 ? [path("p3")] : [] },
            { chmod(path("p3"), 0o755) == 0 ? [path("p3")] : [] },
            { Self.clear(path("p4"), in: folder) },
            { Self.put(path("pkg/run"), "#!/bin/sh\nexit 3\n", mode: 0o755, in: folder) },
            { Self.put(path("pkg/photon.json"), "{", mode: 0o644, in: folder) },
            { Self.clear(path("pkg"), in: folder) },
        ]
        for (step, change) in changes.enumerated() {
            let changed = change()
            let exact = index.update(changed)
            #expect(exact, "change \(step) to \(changed) needed a whole scan")
            let scan = try PhotonScan.scan(folder.path, recursive: false).sorted { $0.path < $1.path }
            #expect(index.scan == scan, "change \(step) to \(changed)")
        }
    }
}

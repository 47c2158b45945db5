import LuminalSystem
import LuminalWorker

extension Loader {
    /// Loads and starts the photons in `directory`, then keeps them in step with it: a changed
    /// photon file is reloaded atomically, a new one loaded and started, a deleted one unloaded.
    ///
    /// A finished save (a rename into place, the last close of a file written) is acted on at
    /// once, any other change once the file has been quiet for `quietPeriod` (every change, with
    /// `.polling`), and only when its content hash changed; editor leftovers (`.swp`, `.tmp`, `~`,
    /// `4913`, `.#name`, `___jb_tmp___`, hidden files) are ignored. What serves converges on the
    /// bytes on disk, including files a photon file follows (symlink targets, `watch` lists).
    /// A broken new version never replaces the running one and is retried only when its content
    /// changes again. Watching costs nothing while nothing changes with `.inotify`.
    /// `base` and `otherClasses` choose the photons as for `loadPhoton(at:)`. Throws
    /// `threadManagerAlreadyRunning` if this loader is already watching.
    ///
    /// Photon files of the folder that are loaded already (`loadPhotons(in:)` before watching) are
    /// adopted, not loaded again: their photons stay as they are (a stopped one stays stopped, one
    /// never started is not started), each is checked against the disk at once, and a change
    /// reloads it like any other, with the `base` and `otherClasses` it was loaded with.
    public func watchPhotons(in directory: String, base: String? = "IPhoton", otherClasses: [String] = [],
                             recursive: Bool = false, backend: WatchBackend = .inotify,
                             quietPeriod: Duration = .milliseconds(150)) async throws(LoaderError) {
        _ = try await makeWatcher(in: directory, selection: PhotonSelection(base: base, otherClasses: otherClasses), recursive: recursive,
                                  backend: backend, clock: ContinuousWatchClock(), quietPeriod: quietPeriod, activating: true)
    }

    /// Stops watching. The reload in progress, if any, finishes first unless `haltThreads`.
    public func stopWatchingPhotons(haltThreads: Bool = false) async {
        guard let current = watcher else { return }
        watcher = nil
        await current.stop(immediately: haltThreads)
        context.log(.info, "stopped watching \(current.root)", file: current.root)
    }

    /// Whether this loader is watching a folder.
    public var isWatching: Bool { watcher != nil }

    /// Sets up a watcher: loads and starts what is there now, all at once, as the watcher acts on
    /// any change, adopts what is loaded already, reports what it passes over, and remembers what
    /// fails. When `activating`, it
    /// reacts to changes by itself from the start, so that a file slow to load holds back no
    /// change to the others.
    func makeWatcher(in directory: String, selection: PhotonSelection, recursive: Bool, backend: WatchBackend,
                     clock: any WatchClock, quietPeriod: Duration, activating: Bool = false) async throws(LoaderError) -> PhotonWatcher {
        if let current = watcher {
            throw LoaderError(.threadManagerAlreadyRunning, "this loader is already watching \(current.root); call stopWatchingPhotons() first", file: current.root)
        }
        let root = Paths.absolute(directory)
        guard Paths.kind(root) == .directory else {
            throw LoaderError(.directoryNotFound, "photon folder \(root) does not exist or is not a folder", file: root)
        }
        let source: any ChangeSource
        switch backend {
        case .inotify:
            do {
                source = try InotifySource(root: root, recursive: recursive)
            } catch {
                throw LoaderError(.directoryNotFound, "cannot watch \(root) with inotify: \(error); use the polling backend", file: root)
            }
        case .polling(let interval):
            source = PollingSource(root: root, recursive: recursive, interval: interval)
        }
        let created = PhotonWatcher(root: root, recursive: recursive, selection: selection, loader: self,
                                    source: source, clock: clock, quietPeriod: quietPeriod)
        watcher = created
        if activating { await created.activate() }
        let scan = try await PhotonScan.walking(root, recursive: recursive, preferring: records.loadedPaths)
        await created.begin(with: scan)
        let entries = scan.entries.map(\.entry)
        let found = entries.compactMap { if case .photonFile(let path) = $0 { path } else { nil } }
        // Files already loaded are adopted as they are (photons, states, selection), not loaded again.
        let paths = found.filter { records[$0].loaded == nil }
        await created.adopt(found.filter { records[$0].loaded != nil })
        // As any change is acted on, all at once: a file slow to say hello holds back no other.
        await created.actOnPresent(paths)
        context.log(.info, "watching \(root)\(recursive ? " and its sub-folders" : "")", file: root)
        return created
    }

    /// Files outside the watched folders that loaded photon files depend on, each with its photon
    /// file: the `watch` lists of packages, and the targets of symlinks (`PhotonFile.followedPaths`).
    func followedFiles() -> [String: String] {
        var result: [String: String] = [:]
        for record in records.loaded {
            for path in record.followed { result[path] = record.file.path }
        }
        return result
    }

    /// The files outside the watched folders that the photon file at `path` depends on, if loaded.
    func followedFiles(of path: String) -> [String] {
        records[path].loaded?.followed ?? []
    }

    /// Whether the photon file at `path` is loaded.
    func isLoaded(_ path: String) -> Bool {
        records[path].loaded != nil
    }

    /// The paths of the loaded photon files.
    func loadedFilePaths() -> Set<String> {
        records.loadedPaths
    }

    /// The checksum of the loaded generation of the photon file at `path`.
    package func checksum(ofFile path: String) -> String? {
        records[path].servingChecksum
    }
}

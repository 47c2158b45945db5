import Dispatch

/// Watches a photon folder and keeps the loader in step with it: a changed photon file is
/// reloaded atomically, a new one loaded and started, a deleted one unloaded.
///
/// Each `iterate()` takes the source's changes, maps them to photon files, and acts on the files
/// that have been quiet for the debounce period, and only when their content hash differs from
/// the loaded generation's. A version that failed to load or reload is remembered by its hash and
/// not tried again until the content changes. Tests call `iterate()` with a manual clock.
actor PhotonWatcher {
    let root: String
    let recursive: Bool
    let selection: PhotonSelection
    private weak var loader: Loader?
    private let source: any ChangeSource
    private let clock: any WatchClock
    private var debouncer: ChangeDebouncer
    private var failed: [String: String] = [:]
    /// Files a photon file depends on (a package's `watch` list, a symlink's target) → the photon file.
    private var followed: [String: String] = [:]
    private var iterating = false
    private var wakeAgain = false
    private var scheduledDeadline: Duration?
    private var stopped = false
    private var idleWaiters: [CheckedContinuation<Void, Never>] = []

    init(root: String, recursive: Bool, selection: PhotonSelection, loader: Loader,
         source: any ChangeSource, clock: any WatchClock, quietPeriod: Duration) {
        self.root = root
        self.recursive = recursive
        self.selection = selection
        self.loader = loader
        self.source = source
        self.clock = clock
        debouncer = ChangeDebouncer(quietPeriod: quietPeriod)
    }

    /// Remembers that the photon file at `path`, as it is now, failed: it is retried when it changes.
    func remember(failure path: String) {
        if let file = try? PhotonScan.resolve(path), let checksum = try? FileDigest.sha256(of: file.contentPaths) {
            failed[path] = checksum
        } else if let checksum = try? FileDigest.sha256(of: [path]) {
            failed[path] = checksum
        }
    }

    /// Starts reacting to the source by itself (live watching).
    func activate() {
        source.activate { [weak self] in
            guard let self else { return }
            Task { await self.iterate() }
        }
    }

    /// One pass: collect changes, then act on every photon file that has been quiet long enough.
    func iterate() async {
        guard !stopped else { return }
        if iterating {
            wakeAgain = true
            return
        }
        iterating = true
        await refreshFollowed()
        repeat {
            wakeAgain = false
            let now = clock.now()
            for raw in source.changes() {
                for path in await photonFiles(for: raw) { debouncer.record(path, at: now) }
            }
            for path in debouncer.settled(at: clock.now()) where !stopped {
                await act(on: path)
                await refreshFollowed()
            }
        } while wakeAgain && !stopped
        iterating = false
        idleWaiters.forEach { $0.resume() }
        idleWaiters = []
        scheduleWake()
    }

    /// Stops watching. Unless `immediately`, waits for the pass in progress (a reload) to finish.
    func stop(immediately: Bool) async {
        stopped = true
        source.close()
        if iterating && !immediately {
            await withCheckedContinuation { idleWaiters.append($0) }
        }
    }

    /// With a real clock, wakes the watcher when the next file becomes quiet.
    private func scheduleWake() {
        guard clock.wakesWatcher, !stopped, let deadline = debouncer.nextDeadline,
              scheduledDeadline.map({ deadline < $0 }) ?? true else { return }
        scheduledDeadline = deadline
        let delay = deadline - clock.now()
        DispatchQueue.global().asyncAfter(deadline: .now() + delay.dispatchInterval) { [weak self] in
            guard let self else { return }
            Task {
                await self.clearSchedule()
                await self.iterate()
            }
        }
    }

    private func clearSchedule() {
        scheduledDeadline = nil
    }

    /// Learns what the loaded photon files depend on outside the folder (watch lists, symlink
    /// targets) and has the source follow it.
    func refreshFollowed() async {
        guard let loader else { return }
        followed = await loader.followedFiles()
        source.follow(Array(followed.keys))
    }

    /// The photon files a changed path concerns.
    private func photonFiles(for raw: String) async -> [String] {
        guard let loader else { return [] }
        if let package = followed[raw] { return [package] }
        let loaded = await loader.loadedFilePaths()
        if raw == root {
            let present = (try? PhotonScan.scan(root, recursive: recursive)) ?? []
            return Array(Set(present.compactMap { if case .photonFile(let path) = $0 { path } else { nil } }).union(loaded)).sorted()
        }
        guard raw.hasPrefix(root + "/"), !PhotonScan.isIgnored(Paths.name(raw)) else { return [] }
        // Anything inside a package belongs to the package.
        var folder = Paths.parent(raw)
        while folder.hasPrefix(root + "/") {
            if PhotonScan.isPackage(folder) || loaded.contains(folder) { return [folder] }
            folder = Paths.parent(folder)
        }
        let inRoot = Paths.parent(raw) == root
        guard inRoot || recursive else { return [] }
        if Paths.kind(raw) == .directory, !PhotonScan.isPackage(raw), !loaded.contains(raw) {
            return [] // a plain folder: its files are reported one by one
        }
        // A folder that went away takes the photon files under it along.
        return [raw] + loaded.filter { $0.hasPrefix(raw + "/") }
    }

    private func act(on path: String) async {
        guard let loader else { return }
        let loadedChecksum = await loader.checksum(ofFile: path)
        guard let file = try? PhotonScan.resolve(path) else {
            if loadedChecksum != nil {
                _ = try? await loader.unloadPhoton(path)
            } else if Paths.kind(path) != .missing, let checksum = try? FileDigest.sha256(of: [path]), failed[path] != checksum {
                // A photon file that cannot be used as it is (say, a bad manifest): try once to report why.
                failed[path] = checksum
                await loadAndStart(path, loader: loader)
            }
            return
        }
        guard let checksum = try? FileDigest.sha256(of: file.contentPaths),
              checksum != loadedChecksum, checksum != failed[path] else { return }
        let succeeded: Bool
        if loadedChecksum != nil {
            succeeded = (try? await loader.reloadPhoton(path)) != nil
        } else {
            succeeded = await loadAndStart(path, loader: loader)
        }
        failed[path] = succeeded ? nil : checksum
    }

    /// Loads a new photon file and starts its photons; false if that failed (the loader logged why).
    @discardableResult
    private func loadAndStart(_ path: String, loader: Loader) async -> Bool {
        do {
            for handler in try await loader.loadPhoton(at: path, base: selection.base, otherClasses: selection.otherClasses) {
                try await handler.start()
            }
            return true
        } catch {
            return false
        }
    }
}

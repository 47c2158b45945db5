import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// Watches a photon folder and keeps the loader in step with it: a changed photon file is
/// reloaded atomically, a new one loaded and started, a deleted one unloaded.
///
/// Each `iterate()` takes the source's changes, maps them to photon files, and acts on the files
/// that have been quiet for the debounce period, and only when their content hash differs from
/// the loaded generation's. A version that failed to load or reload is remembered by its hash and
/// not tried again until the content changes. Each file is acted on by a task of its own, so a
/// file that takes long (a huge one to hash, one slow to say hello) holds back no other. After
/// each change the folder is scanned again, and every entry it passes over is reported once, and
/// again only when its reason changes. Tests call `iterate()` with a manual clock.
actor PhotonWatcher {
    let root: String
    let recursive: Bool
    let selection: PhotonSelection
    private weak var loader: Loader?
    private let source: any ChangeSource
    private let clock: any WatchClock
    private var debouncer: ChangeDebouncer
    private var failed: [String: String] = [:]
    /// The entries the last scan passed over, with the reason reported for each.
    private var skips: [String: String] = [:]
    /// The photon files being acted on, each by one task.
    private var acting: [String: Task<Void, Never>] = [:]
    /// The wake-ups (from the source and the debounce timer) that have not finished their pass.
    private let wakes = OwnedTasks()
    /// Photon files that settled again while being acted on: acted on once more afterwards.
    private var again: Set<String> = []
    /// Abandons this watcher's hashes, and those of the loads it starts, when it stops.
    private let hashes = HashCancellation()
    /// Files a photon file depends on (a package's `watch` list, a symlink's target) → the photon file.
    private var followed: [String: String] = [:]
    private var iterating = false
    private var wakeAgain = false
    private var scheduledDeadline: Duration?
    private var stopped = false

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

    /// How many photon files' failed versions are remembered (one each at most, and none for a
    /// file that is gone).
    var rememberedFailures: Int { failed.count }

    /// Remembers that the photon file at `path`, as it is now, failed: it is retried when it changes.
    func remember(failure path: String) async {
        let file: PhotonFile
        do throws(LoaderError) {
            file = try await PhotonScan.resolving(path)
        } catch {
            failed[path] = await fingerprint(of: path, failure: error)
            return
        }
        do throws(SystemError) {
            failed[path] = try await FileDigest.digest(of: file.contentPaths, cancellations: [hashes])
        } catch {
            failed[path] = unreadable(error)
        }
    }

    /// What a photon file that cannot be hashed is now, for `failed`.
    private func unreadable(_ error: SystemError) -> String {
        "cannot be read: \(error)"
    }

    /// What an unusable photon file is now: why it cannot be used, and the checksum of its
    /// manifest (or of the file itself), so that any change gets it looked at again.
    private func fingerprint(of path: String, failure: LoaderError) async -> String {
        let own = Paths.kind(path) == .directory ? Paths.join(path, Manifest.fileName) : path
        return "\(failure.message) \((try? await FileDigest.digest(of: [own], cancellations: [hashes])) ?? "")"
    }

    /// Reports each entry of `entries` passed over whose reason is new; an entry no longer
    /// passed over (the other path to the same file went away, say) is looked at again.
    func report(_ entries: [PhotonScan.Entry]) {
        var current: [String: String] = [:]
        for case .skipped(let path, let reason) in entries { current[path] = reason }
        for (path, reason) in current.sorted(by: { $0.key < $1.key }) where skips[path] != reason {
            loader?.reportSkipped(path, reason: reason)
        }
        for path in skips.keys where current[path] == nil { debouncer.record(path, at: clock.now()) }
        skips = current
    }

    /// Starts reacting to the source by itself (live watching).
    func activate() {
        guard !stopped else { return }
        source.activate { [weak self] in
            guard let self else { return }
            self.wakes.run { await self.iterate() }
        }
    }

    /// One pass: collect changes, rescan and report what is passed over, then act on every
    /// photon file that has been quiet long enough, and wait for those acts to finish.
    func iterate() async {
        guard !stopped else { return }
        if iterating {
            wakeAgain = true
            return
        }
        iterating = true
        await refreshFollowed()
        var started: [Task<Void, Never>] = []
        repeat {
            wakeAgain = false
            let now = clock.now()
            let changed = source.changes()
            for raw in changed {
                for path in await photonFiles(for: raw) { debouncer.record(path, at: now) }
            }
            let settled = debouncer.settled(at: clock.now())
            if !changed.isEmpty || !settled.isEmpty, let entries = try? await PhotonScan.scanning(root, recursive: recursive) {
                report(entries)
            }
            for path in settled where !stopped {
                startActing(on: path).map { started.append($0) }
            }
        } while wakeAgain && !stopped
        iterating = false
        for task in started { await task.value }
        scheduleWake()
    }

    /// Stops watching and abandons the hashes in progress. Unless `immediately`, waits for the
    /// acts in progress (a reload) to finish.
    func stop(immediately: Bool) async {
        stopped = true
        source.close()
        hashes.cancelAll()
        if !immediately {
            for task in Array(acting.values) { await task.value }
            await wakes.waitUntilIdle()
        }
    }

    /// Acts on `path` in a task of its own; nil when a task is acting on it already (that one
    /// acts once more when it is done).
    private func startActing(on path: String) -> Task<Void, Never>? {
        guard acting[path] == nil else {
            again.insert(path)
            return nil
        }
        let task = Task {
            repeat {
                again.remove(path)
                await act(on: path)
                await refreshFollowed()
            } while again.contains(path) && !stopped
            acting[path] = nil
            scheduleWake()
        }
        acting[path] = task
        return task
    }

    /// With a real clock, wakes the watcher when the next file becomes quiet.
    private func scheduleWake() {
        guard clock.wakesWatcher, !stopped, let deadline = debouncer.nextDeadline,
              scheduledDeadline.map({ deadline < $0 }) ?? true else { return }
        scheduledDeadline = deadline
        let delay = deadline - clock.now()
        DispatchQueue.global().asyncAfter(deadline: .now() + delay.dispatchInterval) { [weak self] in
            guard let self else { return }
            self.wakes.run {
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
            let present = (try? await PhotonScan.scanning(root, recursive: recursive)) ?? []
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
        if skips[path] != nil {
            // Not a photon file now (a FIFO, a device, another path to a loaded file…), reported by the scan.
            if loadedChecksum != nil { _ = try? await loader.unloadPhoton(path) }
            return
        }
        let file: PhotonFile
        do throws(LoaderError) {
            file = try await PhotonScan.resolving(path)
        } catch {
            if loadedChecksum != nil {
                _ = try? await loader.unloadPhoton(path)
            } else if Paths.kind(path) == .missing {
                failed[path] = nil // gone: nothing to remember, whatever comes under its name next
            } else {
                // A photon file that cannot be used as it is (say, a bad manifest): report why, once per version.
                let fingerprint = await fingerprint(of: path, failure: error)
                if failed[path] != fingerprint, !stopped {
                    failed[path] = fingerprint
                    loader.reportLoadFailure(error, file: path)
                }
            }
            return
        }
        let checksum: String
        do throws(SystemError) {
            checksum = try await FileDigest.digest(of: file.contentPaths, cancellations: [hashes])
        } catch {
            // Too large, or gone in the meantime: reported once per reason; abandoned: not at all.
            if error.errno != ECANCELED, !stopped, failed[path] != unreadable(error) {
                failed[path] = unreadable(error)
                loader.reportLoadFailure(LoaderError(.photonNotFound, "photon file \(path) \(unreadable(error))", file: path), file: path)
            }
            return
        }
        guard checksum != loadedChecksum, checksum != failed[path], !stopped else { return }
        let succeeded: Bool
        if loadedChecksum != nil {
            succeeded = (try? await loader.reloadPhoton(path)) != nil
        } else {
            succeeded = await HashCancellation.$scope.withValue([hashes]) { await loadAndStart(path, loader: loader) }
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

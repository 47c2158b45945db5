import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import LuminalSystem
import LuminalWorker

/// Watches a photon folder and keeps the loader in step with it: a changed photon file is
/// reloaded atomically, a new one loaded and started, a deleted one unloaded.
///
/// Each `iterate()` takes the source's changes, maps them to photon files, and acts on the files
/// that are ready (`ChangeDebouncer`: a finished save at once, anything else once quiet), and only
/// when their content hash differs from the loaded generation's. A version that failed to load or
/// reload is remembered by its hash, on the file's record in the loader
/// (`Loader.failedVersion(of:)`), and not tried again until the content changes. Each file is
/// acted on by a task of its own, `Loader.bringUpWidth` at once, so a file that takes long (a
/// huge one to hash, one slow to say hello) holds back no other. After each change the folder's
/// scan is brought up to date from the changed paths (`ScanIndex`; a whole scan when they cannot
/// tell), and every entry it passes over is reported once, and again only when its reason
/// changes. Tests call `iterate()` with a manual clock.
///
/// What serves converges on the bytes on disk, whatever the timing: a file is acted on again when
/// it changed while it was acted on (its first load, when watching began, included), and whenever
/// the watcher starts to follow a file outside the folder (the target of a symlink, a package's
/// `watch` list), the photon file is checked against the disk at once, since what changed before
/// the follow was not seen.
package actor PhotonWatcher {
    package let root: String
    package let recursive: Bool
    let selection: PhotonSelection
    package weak var loader: Loader?
    package let source: any ChangeSource
    private let clock: any WatchClock
    var debouncer: ChangeDebouncer
    /// The entries the last scan passed over, with the reason reported for each.
    var skips: [String: String] = [:]
    /// The folder's last scan, brought up to date from the paths that change.
    private var index: ScanIndex?
    /// Whole scans of the folder so far (set-up, overflows, and changes the index cannot follow).
    package private(set) var scans = 0
    /// The photon files being acted on, each by one task.
    private var acting: [String: Task<Void, Never>] = [:]
    /// The wake-ups (from the source and the debounce timer) that have not finished their pass.
    private let wakes = OwnedTasks()
    /// Photon files that became ready again while being acted on: acted on once more afterwards.
    private var again: [String: ChangeDebouncer.Settled] = [:]
    /// Abandons this watcher's hashes, and those of the loads it starts, when it stops.
    let hashes = HashCancellation()
    /// Files a photon file depends on (a package's `watch` list, a symlink's target) → the photon file.
    private var followed: [String: String] = [:]
    private var iterating = false
    private var wakeAgain = false
    private var timer: (deadline: Duration, source: any DispatchSourceTimer)?
    package var stopped = false

    package init(root: String, recursive: Bool, selection: PhotonSelection, loader: Loader,
         source: any ChangeSource, clock: any WatchClock, quietPeriod: Duration) {
        self.root = root
        self.recursive = recursive
        self.selection = selection
        self.loader = loader
        self.source = source
        self.clock = clock
        debouncer = ChangeDebouncer(quietPeriod: quietPeriod)
    }

    /// Starts reacting to the source by itself (live watching).
    package func activate() {
        guard !stopped else { return }
        source.activate { [weak self] in
            guard let self else { return }
            self.wakes.run { await self.iterate(awaitingActs: false) }
        }
    }

    /// Takes on the photon files at `paths`, loaded before watching began, as if it had loaded
    /// them: follows what they depend on and checks each against the disk at once (a change made
    /// before watching began was not seen).
    func adopt(_ paths: [String]) async {
        guard !paths.isEmpty else { return }
        await refreshFollowed()
        for path in paths { debouncer.record(path, .finished, at: clock.now()) }
        scheduleWake()
    }

    /// Acts on the photon files at `paths`, there when watching began and not loaded, as on any
    /// file ready after its quiet period: each in a task of its own, `Loader.bringUpWidth` at a
    /// time (so a file slow to say hello holds back no other), and waits for them. A change to
    /// one of them meanwhile is acted on once its first act is over, as for any file. They are
    /// one burst (`BurstTrim`): what they freed is given back before this returns.
    func actOnPresent(_ paths: [String]) async {
        BurstTrim.began(.around)
        for path in paths where !stopped {
            _ = startActing(on: ChangeDebouncer.Settled(path: path, early: false))
        }
        // Each task awaited only while it acts: a task ended keeps its frames until let go.
        for path in paths { await acting[path]?.value }
        await BurstTrim.endedAfterTrim()
    }

    /// One pass: collect changes, rescan and report what is passed over, then act on every
    /// photon file that is ready, and (when `awaitingActs`, as a test driving the watcher asks)
    /// wait for those acts to finish.
    func iterate(awaitingActs: Bool = true) async {
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
            // What a change concerns.
            let loaded = changed.isEmpty ? nil : await loader?.loadedFilePaths()
            for change in changed {
                for path in await photonFiles(for: change.path, loaded: loaded ?? []) { debouncer.record(path, change.kind, at: now) }
            }
            let ready = debouncer.settled(at: clock.now())
            if !changed.isEmpty || !ready.isEmpty {
                // The paths that changed are looked at again; the whole folder only when that
                // cannot tell (a file reached by several paths is then the loaded path's).
                if index?.update(changed.map(\.path)) != true {
                    let preferring = if let loaded { loaded } else { await loader?.loadedFilePaths() ?? [] }
                    if let scan = try? await PhotonScan.walking(root, recursive: recursive, preferring: preferring) {
                        index = ScanIndex(scan, root: root, recursive: recursive)
                        scans += 1
                    }
                }
                if let index { report(index.scan) }
            }
            for file in ready where !stopped {
                if let task = startActing(on: file) { started.append(task) }
            }
        } while wakeAgain && !stopped
        iterating = false
        if awaitingActs {
            for task in started { await task.value }
        }
        scheduleWake()
    }

    /// Stops watching and abandons the hashes and the loads in progress (a file slow to say hello
    /// would hold the stop up to its handshake timeout). Unless `immediately`, waits for the acts
    /// in progress (a reload) to finish.
    package func stop(immediately: Bool) async {
        stopped = true
        source.close()
        hashes.cancelAll()
        let loads = await loader?.abandonWatchedLoads() ?? []
        timer?.source.cancel()
        timer = nil
        if !immediately {
            // A load abandoned above fails at once: it is not waited for. An act that had not
            // reached the loader yet changes nothing there (`Loader.reconcile`).
            for (path, task) in acting where !loads.contains(path) { await task.value }
            await wakes.waitUntilIdle()
        }
    }

    /// Acts on a ready file in a task of its own, once one of the loader's bring-up places is free
    /// (`Loader.takeBringUpPlace`; at once for a file loaded already); nil when a task is acting
    /// on it already (that one acts once more when it is done). The task is work around a load for `BurstTrim` from now until
    /// it ends: it holds its frames from its hash to its photons' start.
    private func startActing(on file: ChangeDebouncer.Settled) -> Task<Void, Never>? {
        guard acting[file.path] == nil else {
            again[file.path] = file
            return nil
        }
        BurstTrim.began(.around)
        let task = Task {
            defer { BurstTrim.ended() }
            // A loaded file's reload or unload is not a bring-up: files slow to say hello in every
            // place would hold it up to their handshake timeouts.
            let bringUp = await loader?.isLoaded(file.path) == false
            let place = bringUp ? await loader?.takeBringUpPlace() : nil
            defer { place?.release() }
            var next: ChangeDebouncer.Settled? = file
            while let current = next, !stopped {
                await act(on: current)
                await refreshFollowed(of: current.path)
                next = again.removeValue(forKey: current.path)
            }
            acting[file.path] = nil
            scheduleWake()
        }
        acting[file.path] = task
        return task
    }

    /// With a real clock, wakes the watcher when the next file becomes ready; one timer at a
    /// time, replaced by an earlier deadline.
    func scheduleWake() {
        guard clock.wakesWatcher, !stopped, let deadline = debouncer.nextDeadline,
              timer.map({ deadline < $0.deadline }) ?? true else { return }
        timer?.source.cancel()
        let source = DispatchSource.makeTimerSource(queue: .global())
        source.schedule(deadline: .now() + max(.zero, deadline - clock.now()).dispatchInterval)
        source.setEventHandler { [weak self] in
            guard let self else { return }
            self.wakes.run {
                await self.timerFired(deadline)
                await self.iterate(awaitingActs: false)
            }
        }
        timer = (deadline, source)
        source.activate()
    }

    private func timerFired(_ deadline: Duration) {
        if timer?.deadline == deadline { timer = nil }
    }

    /// Learns what the loaded photon files depend on outside the folder (watch lists, symlink
    /// targets) and has the source follow it. A photon file that depends on a file not followed
    /// before is checked against the disk at once (what changed before the follow was not seen).
    func refreshFollowed() async {
        guard let loader else { return }
        let now = await loader.followedFiles()
        let before = followed
        followed = now
        source.follow(Array(now.keys))
        let check = Set(now.compactMap { before[$0.key] == $0.value ? nil : $0.value })
        for path in check.sorted() { debouncer.record(path, .finished, at: clock.now()) }
    }

    /// Learns, after an act on the photon file at `path`, what that file depends on outside the
    /// folder now, as `refreshFollowed()` does for every loaded file: a burst of a thousand acts
    /// asks the loader for one file's list each, not for all of them.
    private func refreshFollowed(of path: String) async {
        guard let loader else { return }
        let now = await loader.followedFiles(of: path)
        for (file, owner) in followed where owner == path && !now.contains(file) { followed[file] = nil }
        let added = now.filter { followed[$0] != path }
        guard !added.isEmpty else { return }
        for file in added { followed[file] = path }
        source.follow(added)
        debouncer.record(path, .finished, at: clock.now())
    }

    /// The photon files a changed path concerns; `loaded` are the loaded photon files' paths.
    private func photonFiles(for raw: String, loaded: Set<String>) async -> [String] {
        if let file = followed[raw] { return [file] }
        if raw == root {
            let present = (try? await PhotonScan.scanning(root, recursive: recursive)) ?? []
            return Array(Set(present.compactMap { if case .photonFile(let path) = $0 { path } else { nil } }).union(loaded)).sorted()
        }
        guard raw.hasPrefix(root + "/") else {
            // A folder on the way to a followed file that did not exist yet.
            return Set(followed.compactMap { $0.key.hasPrefix(raw + "/") ? $0.value : nil }).sorted()
        }
        guard !PhotonScan.isIgnored(Paths.name(raw)) else { return [] }
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

    /// Takes `scan`, the folder's whole scan, as the index later changes update, and reports it.
    package func begin(with scan: PhotonScan.Scan) {
        index = ScanIndex(scan, root: root, recursive: recursive)
        scans += 1
        report(index?.scan ?? [])
    }

    /// Reports each entry of `entries` passed over whose reason is new; an entry no longer
    /// passed over (the other path to the same file went away, say) is looked at again.
    func report(_ entries: [PhotonScan.Entry]) {
        var current: [String: String] = [:]
        for case .skipped(let path, let reason) in entries { current[path] = reason }
        for (path, reason) in current.sorted(by: { $0.key < $1.key }) where skips[path] != reason {
            loader?.reportSkipped(path, reason: reason)
        }
        for path in skips.keys where current[path] == nil { debouncer.record(path, .ongoing, at: clock.now()) }
        skips = current
    }

    /// Puts a file back to wait for its quiet period.
    package func wait(_ path: String) {
        debouncer.record(path, .ongoing, at: clock.now())
    }

    /// Looks at the photon file at `path` again after its quiet period, as after a change, if it
    /// is one of the folder's: the loader asks it when what serves may not be what is on disk.
    func lookAgain(_ path: String) {
        guard path.hasPrefix(root + "/"), recursive || Paths.parent(path) == root else { return }
        wait(path)
        scheduleWake()
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// A photon file resolved from disk: what to run for it and how.
struct PhotonFile: Sendable, Hashable {
    /// The photon file's absolute path: the executable, or the package folder.
    let path: String
    /// The program to spawn.
    let executable: String
    /// Arguments after argv[0].
    let arguments: [String]
    /// Variables added to the inherited environment.
    let environment: [String: String]
    /// The worker's working directory: the folder holding the file, or the package folder.
    let workingDirectory: String
    /// The files whose bytes make the checksum (those that exist now).
    let contentPaths: [String]
    /// Per-file timeouts from a manifest, overriding the loader's.
    let timeouts: ManifestTimeouts
    /// Files outside the photon file that a watcher also follows (a package's `watch` list).
    var watchedPaths: [String] = []
    /// The manifest's restart mode, overriding the loader's.
    var restart: RestartPolicy.Mode?
    /// The manifest's heartbeat, overriding the loader's.
    var health: HealthCheck?
    /// Set for a plain executable (`"protocol": "none"`): supervised for liveness only.
    var plain: PlainExecutable?
    /// The signal that asks the worker to stop (default SIGTERM).
    var stopSignal: Int32 = SIGTERM
    /// The manifest's `limits`, over the loader's.
    var limits = ResourceLimits()
    /// The manifest's `user`, `group`, `umask` and `no_new_privileges`, over the loader's.
    var identity = PhotonIdentity()
    /// The manifest's `recycle`, instead of the loader's.
    var recycle: RecyclePolicy?
    /// The manifest's `control: "allow"`: processes of this photon file may use the control socket.
    var mayControl = false
}

extension PhotonFile {
    /// The files a watcher must follow besides the photon file's own folder: the `watch` list,
    /// the content files in other folders (a package's `exec` in a sub-folder), and where the
    /// photon file, its content files and its watched files lead through symlinks (a symlinked
    /// photon file, a package file linked to a build output elsewhere).
    func followedPaths() -> [String] {
        var result = watchedPaths
        for path in contentPaths where Paths.parent(path) != workingDirectory && !result.contains(path) { result.append(path) }
        for path in [self.path] + contentPaths + watchedPaths {
            if let target = Paths.resolved(path), target != path, !result.contains(target) { result.append(target) }
        }
        return result
    }
}

/// How a plain executable (no protocol) is supervised.
struct PlainExecutable: Sendable, Hashable {
    /// The name its one photon gets.
    let name: String
    /// It counts as ready once it has stayed up this long.
    let readyAfter: Duration
}

/// Timeouts a manifest may set; nil keeps the loader's value.
struct ManifestTimeouts: Sendable, Hashable {
    var handshake: Duration?
    var stop: Duration?
    var kill: Duration?
    /// A call's timeout when its caller gives none: `.some(nil)` is no timeout (`null`).
    var call: Duration??
}

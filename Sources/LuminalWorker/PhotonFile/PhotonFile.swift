#if canImport(Glibc)
import Glibc
#endif
import LuminalSystem
import LuminalWire

/// A photon file resolved from disk: what to run for it and how (`Fields`, read and set as if
/// they were its own).
///
/// The fields (half a kilobyte) sit in one immutable box that copies share, replaced whole when
/// one is set: a photon file is copied into every step of a load, which keeps it across its
/// awaits, and into the records of what is loaded, so each copy costs a pointer instead of the
/// fields in every suspended load's frame (a thousand loads wait for their hellos at once).
@dynamicMemberLookup
package struct PhotonFile: Sendable, Hashable {
    /// The fields, shared by copies.
    private final class Box: Sendable {
        let fields: Fields
        init(_ fields: Fields) { self.fields = fields }
    }

    private var box: Box

    /// A photon file with the given fields and every other field at its default.
    package init(path: String, executable: String, arguments: [String], environment: [String: String], workingDirectory: String,
         contentPaths: [String], timeouts: ManifestTimeouts) {
        box = Box(Fields(path: path, executable: executable, arguments: arguments, environment: environment,
                         workingDirectory: workingDirectory, contentPaths: contentPaths, timeouts: timeouts))
    }

    /// A field.
    package subscript<Value>(dynamicMember field: KeyPath<Fields, Value>) -> Value {
        box.fields[keyPath: field]
    }

    /// A field that can be set: the fields are copied into a new box with it changed.
    package subscript<Value>(dynamicMember field: WritableKeyPath<Fields, Value>) -> Value {
        get { box.fields[keyPath: field] }
        set {
            var fields = box.fields
            fields[keyPath: field] = newValue
            box = Box(fields)
        }
    }

    /// Equal when every field is.
    package static func == (lhs: PhotonFile, rhs: PhotonFile) -> Bool {
        lhs.box === rhs.box || lhs.box.fields == rhs.box.fields
    }

    /// Hashes every field.
    package func hash(into hasher: inout Hasher) {
        hasher.combine(box.fields)
    }
}

extension PhotonFile {
    /// What a photon file is made of.
    package struct Fields: Sendable, Hashable {
        /// The photon file's absolute path: the executable, or the package folder.
        package let path: String
        /// The program to spawn.
        package let executable: String
        /// Arguments after argv[0].
        package let arguments: [String]
        /// Variables added to the inherited environment.
        package let environment: [String: String]
        /// The worker's working directory: the folder holding the file, or the package folder.
        package let workingDirectory: String
        /// The files whose bytes make the checksum (those that exist now).
        package let contentPaths: [String]
        /// Per-file timeouts from a manifest, overriding the loader's.
        package let timeouts: ManifestTimeouts
        /// Files outside the photon file that a watcher also follows (a package's `watch` list).
        var watchedPaths: [String] = []
        /// The manifest's restart mode, overriding the loader's.
        package var restart: RestartPolicy.Mode?
        /// The manifest's heartbeat, overriding the loader's.
        package var health: HealthCheck?
        /// Set for a plain executable (`"protocol": "none"`): supervised for liveness only.
        package var plain: PlainExecutable?
        /// The signal that asks the worker to stop (default SIGTERM).
        var stopSignal: Int32 = SIGTERM
        /// The manifest's `limits`, over the loader's.
        package var limits = ResourceLimits()
        /// The manifest's `user`, `group`, `umask` and `no_new_privileges`, over the loader's.
        package var identity = PhotonIdentity()
        /// The manifest's `recycle`, instead of the loader's.
        package var recycle: RecyclePolicy?
        /// The manifest's `control: "allow"`: processes of this photon file may use the control socket.
        package var mayControl = false
        /// The manifest's `"essential": true`: the host cannot do without this file (`RestartPolicy.essential`).
        package var essential = false
        /// The manifest's `config`, which its photons read with the host function `config`; `null` without one.
        package var configuration: JSONValue = .null
        /// The manifest's `may_call`: the only photons its photons may call through the host; nil: any loaded photon.
        package var mayCall: Set<String>?
        /// The manifest's `sockets`: listening sockets held for its workers.
        package var sockets: [DeclaredSocket] = []
        /// The manifest's `instances`, instead of the loader's.
        package var instances: PoolSize?
    }
}

extension PhotonFile {
    /// The files a watcher must follow besides the photon file's own folder: the `watch` list,
    /// the content files in other folders (a package's `exec` in a sub-folder), and where the
    /// photon file, its content files and its watched files lead through symlinks (a symlinked
    /// photon file, a package file linked to a build output elsewhere).
    package func followedPaths() -> [String] {
        var result = self.watchedPaths
        for path in self.contentPaths where Paths.parent(path) != self.workingDirectory && !result.contains(path) { result.append(path) }
        for path in [self.path] + self.contentPaths + self.watchedPaths {
            if let target = Paths.resolved(path), target != path, !result.contains(target) { result.append(target) }
        }
        return result
    }
}

/// How a plain executable (no protocol) is supervised.
package struct PlainExecutable: Sendable, Hashable {
    /// The name its one photon gets.
    package let name: String
    /// It counts as ready once it has stayed up this long.
    package let readyAfter: Duration
}

/// Timeouts a manifest may set; nil keeps the loader's value.
package struct ManifestTimeouts: Sendable, Hashable {
    package var handshake: Duration?
    package var stop: Duration?
    package var kill: Duration?
    /// A call's timeout when its caller gives none: `.some(nil)` is no timeout (`null`).
    package var call: Duration??
}

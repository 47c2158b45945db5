#if canImport(Glibc)
import Glibc
#endif

/// What a worker's child applies to itself before the photon runs.
package struct ContainedSpawn: Sendable, Hashable {
    /// The cgroup folder it is created in.
    package var cgroup: String?
    package var limits: [ProcessLimit]
    package var umask: mode_t?
    package var identity: ResolvedIdentity?
    package var noNewPrivileges: Bool

    /// Nothing to apply: no cgroup, no limit, the supervisor's identity.
    package static let none = ContainedSpawn(cgroup: nil, limits: [], umask: nil, identity: nil, noNewPrivileges: false)

    package init(cgroup: String? = nil, limits: [ProcessLimit], umask: mode_t? = nil, identity: ResolvedIdentity? = nil, noNewPrivileges: Bool) {
        self.cgroup = cgroup
        self.limits = limits
        self.umask = umask
        self.identity = identity
        self.noNewPrivileges = noNewPrivileges
    }
}

/// One `setrlimit` a worker's child applies before the photon runs.
package struct ProcessLimit: Sendable, Hashable {
    package let resource: Int32
    package let soft: UInt64
    package let hard: UInt64

    package init(resource: Int32, soft: UInt64, hard: UInt64) {
        self.resource = resource
        self.soft = soft
        self.hard = hard
    }
}

/// A user switch resolved against the host's user and group databases.
package struct ResolvedIdentity: Sendable, Hashable {
    package let uid: uid_t
    package let gid: gid_t
    /// Supplementary groups, the primary one included.
    package let groups: [gid_t]
    /// The user's name, for messages.
    package let userName: String

    package init(uid: uid_t, gid: gid_t, groups: [gid_t], userName: String) {
        self.uid = uid
        self.gid = gid
        self.groups = groups
        self.userName = userName
    }
}

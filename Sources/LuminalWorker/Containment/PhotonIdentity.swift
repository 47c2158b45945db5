#if canImport(Glibc)
import Glibc
#endif
import LuminalSystem
import LuminalWire

/// Who a photon file's workers run as. Unset fields keep the supervisor's own.
public struct PhotonIdentity: Sendable, Hashable {
    /// A user name or numeric uid; its primary group and supplementary groups come with it.
    public var user: String?
    /// A group name or numeric gid, instead of the user's primary group.
    public var group: String?
    /// The file mode creation mask (e.g. 0o027).
    public var umask: mode_t?
    /// Sets `no_new_privs`: neither the worker nor anything it runs can gain privileges
    /// (setuid binaries, file capabilities).
    public var noNewPrivileges: Bool

    /// The supervisor's own identity.
    public init(user: String? = nil, group: String? = nil, umask: mode_t? = nil, noNewPrivileges: Bool = false) {
        self.user = user
        self.group = group
        self.umask = umask
        self.noNewPrivileges = noNewPrivileges
    }

    /// This identity, with each field not set here taken from `base`.
    package func over(_ base: PhotonIdentity) -> PhotonIdentity {
        PhotonIdentity(user: user ?? base.user, group: group ?? base.group, umask: umask ?? base.umask,
                       noNewPrivileges: noNewPrivileges || base.noNewPrivileges)
    }

    /// Whether it changes nothing.
    package var isEmpty: Bool { self == PhotonIdentity() }
}

extension ResolvedIdentity {
    /// Resolves `identity`'s user and group for a supervisor running as `supervisor` (uid, gid);
    /// nil when it names neither. Throws a message naming the unknown user or group, or the
    /// missing privilege: only root may run a photon as another user or group.
    package static func resolve(_ identity: PhotonIdentity, supervisor: (uid: uid_t, gid: gid_t) = (geteuid(), getegid())) throws(IdentityError) -> ResolvedIdentity? {
        guard identity.user != nil || identity.group != nil else { return nil }
        for (key, name) in [("user", identity.user), ("group", identity.group)] where name?.utf8.contains(0) == true {
            // The C databases would read only the part before the NUL: another name.
            throw IdentityError("the \(key) name \(JSONValue.string(name ?? "").description) contains a NUL character")
        }
        var uid = supervisor.uid, gid = supervisor.gid, name = String(uid)
        var groups: [gid_t]?
        if let user = identity.user {
            guard let entry = passwd(named: user) else {
                throw IdentityError("user '\(user)' does not exist on this host (not in the user database)")
            }
            (uid, gid, name) = (entry.uid, entry.gid, entry.name)
            groups = groupList(of: entry.name, primary: entry.gid)
        }
        if let group = identity.group {
            guard let found = gidOf(group) else {
                throw IdentityError("group '\(group)' does not exist on this host (not in the group database)")
            }
            gid = found
        }
        let resolved = ResolvedIdentity(uid: uid, gid: gid, groups: Array(Set((groups ?? [gid]) + [gid])).sorted(), userName: name)
        if supervisor.uid != 0, resolved.uid != supervisor.uid || resolved.gid != supervisor.gid {
            throw IdentityError("running a photon as user '\(name)' (uid \(uid), gid \(gid)) needs the supervisor to run as root; it runs as uid \(supervisor.uid)")
        }
        return resolved
    }

    private static func passwd(named user: String) -> (uid: uid_t, gid: gid_t, name: String)? {
        var entry = Glibc.passwd()
        var result: UnsafeMutablePointer<Glibc.passwd>?
        var buffer = [CChar](repeating: 0, count: 16 * 1024)
        if let number = uid_t(user), getpwuid_r(number, &entry, &buffer, buffer.count, &result) == 0, result != nil {
            return (entry.pw_uid, entry.pw_gid, String(cString: entry.pw_name))
        }
        guard getpwnam_r(user, &entry, &buffer, buffer.count, &result) == 0, result != nil else {
            // A numeric uid without an entry is still a user the kernel knows.
            return uid_t(user).map { ($0, $0, user) }
        }
        return (entry.pw_uid, entry.pw_gid, String(cString: entry.pw_name))
    }

    private static func gidOf(_ group: String) -> gid_t? {
        if let number = gid_t(group) { return number }
        var entry = Glibc.group()
        var result: UnsafeMutablePointer<Glibc.group>?
        var buffer = [CChar](repeating: 0, count: 16 * 1024)
        guard getgrnam_r(group, &entry, &buffer, buffer.count, &result) == 0, result != nil else { return nil }
        return entry.gr_gid
    }

    private static func groupList(of user: String, primary: gid_t) -> [gid_t] {
        var count: Int32 = 64
        var groups = [gid_t](repeating: 0, count: Int(count))
        if getgrouplist(user, primary, &groups, &count) < 0 {
            groups = [gid_t](repeating: 0, count: Int(count))
            guard getgrouplist(user, primary, &groups, &count) >= 0 else { return [primary] }
        }
        return Array(groups.prefix(Int(count)))
    }
}

/// Why a photon's identity cannot be used.
package struct IdentityError: Error, Sendable {
    package let message: String
    package init(_ message: String) { self.message = message }
}

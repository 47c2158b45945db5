#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
@testable import LuminalSystem
import LuminalWire
@testable import LuminalWorker
import Testing

extension Supervisor.Containment {
    /// The uid of `nobody`, a user other than root that owns nothing here.
    static let nobody: uid_t = getpwnam("nobody")?.pointee.pw_uid ?? 65534

    /// Gives `path`, and all in it, to `uid` (its group too).
    func chownAll(_ path: String, to uid: uid_t) {
        #expect(lchown(path, uid, gid_t(uid)) == 0, "chown \(path)")
        if Paths.kind(path) == .directory, let names = Paths.entries(of: path) {
            for name in names { chownAll(Paths.join(path, name), to: uid) }
        }
    }

    /// Loading `path` fails, saying it would run as root and naming `offender` with its owner and mode.
    func refusedAsRoot(_ loader: Loader, _ path: String, naming offender: String, owner: uid_t, mode: String) async throws -> LoaderError {
        let error = try await #require(throws: LoaderError.self) { try await loader.loadPhoton(at: path) }
        #expect(error.message.contains("photon file \(path) would run as root"), "\(error.message)")
        #expect(error.message.contains("\(offender) (owner uid \(owner), mode \(mode))"), "\(error.message)")
        return error
    }

    @Test(arguments: [#""user": "root""#, #""user": "0""#, ""])
    func aPackageAnotherUserOwnsIsNotRunAsRoot(keys: String) async throws {
        try await withLoader { loader, folder in
            let path = try package(folder, "nobodys", keys)
            chownAll(path, to: Self.nobody)
            let error = try await refusedAsRoot(loader, path, naming: path, owner: Self.nobody, mode: "0755")
            #expect(error.message.contains(keys.isEmpty ? "the supervisor runs as root and no 'user' is set" : "its manifest's 'user' is"), "\(error.message)")
        }
    }

    @Test func aPackageAnotherUserOwnsStillRunsAsThatUser() async throws {
        try await withLoader { loader, folder in
            let path = try package(folder, "own", #""user": "nobody""#)
            chownAll(path, to: Self.nobody)
            let handler = try await started(loader, path)
            #expect(try await handler.call("echo", params: "mine") == "mine")
        }
    }

    @Test func anExecInAFolderEveryoneMayWriteToIsNotRunAsRoot() async throws {
        try await withLoader { loader, folder in
            folder.write("wide/photon.json", #"{"exec": "bin/w", "user": "root"}"#)
            folder.script("wide/bin/w", "exec '\(BuildProducts.chaosPhoton)' serve wide")
            let bin = Paths.join(folder.path, "wide/bin")
            chmod(bin, 0o777)
            let error = try await refusedAsRoot(loader, Paths.join(folder.path, "wide"), naming: bin, owner: 0, mode: "0777")
            #expect(error.message.contains("writable by its group or by everyone"), "\(error.message)")
        }
    }

    @Test func aPackageInAFolderEveryoneMayWriteToIsNotRunAsRootUnlessItIsSticky() async throws {
        try await withLoader { loader, folder in
            let path = try package(folder, "under", #""user": "root""#)
            chmod(folder.path, 0o777)
            _ = try await refusedAsRoot(loader, path, naming: folder.path, owner: 0, mode: "0777")
            // As in /tmp: others may add entries, but not replace root's.
            chmod(folder.path, 0o1777)
            let handler = try await started(loader, path)
            #expect(try await handler.call("echo", params: "sticky") == "sticky")
            chmod(folder.path, 0o700)
        }
    }

    @Test func aSymlinkedExecIsCheckedWhereItLeads() async throws {
        try await withLoader { loader, folder in
            let path = try package(folder, "linked", "")
            folder.write("linked/photon.json", #"{"exec": "w", "args": ["serve", "linked"], "user": "root"}"#)
            folder.mkdirAll(Paths.join(path, "real"))
            #expect(rename(Paths.join(path, "chaos-photon"), Paths.join(path, "real/w")) == 0)
            #expect(symlink("real/w", Paths.join(path, "w")) == 0)
            // The link and the file belong to root: only the folder it leads through does not.
            #expect(lchown(Paths.join(path, "real"), Self.nobody, gid_t(Self.nobody)) == 0)
            _ = try await refusedAsRoot(loader, path, naming: Paths.join(path, "real"), owner: Self.nobody, mode: "0755")
            #expect(lchown(Paths.join(path, "real"), 0, 0) == 0)
            let handler = try await started(loader, path)
            #expect(try await handler.call("echo", params: "linked") == "linked")
        }
    }

    @Test func theInterpreterOfAScriptIsChecked() async throws {
        try await withLoader { loader, folder in
            let shell = try #require(Paths.resolved("/bin/sh"))
            let copy = folder.write("shells/sh", "", mode: 0o755)
            let bytes = try Paths.read(shell)
            let fd = open(copy, O_WRONLY | O_TRUNC)
            bytes.withUnsafeBytes { _ = write(fd, $0.baseAddress, $0.count) }
            close(fd)
            let shells = Paths.join(folder.path, "shells")
            chownAll(shells, to: Self.nobody)
            folder.write("scripted/photon.json", #"{"exec": "run", "user": "root"}"#)
            folder.write("scripted/run", "#!\(copy)\nexec '\(BuildProducts.chaosPhoton)' serve scripted\n", mode: 0o755)
            let path = Paths.join(folder.path, "scripted")
            _ = try await refusedAsRoot(loader, path, naming: shells, owner: Self.nobody, mode: "0755")
            chownAll(shells, to: 0)
            let handler = try await started(loader, path)
            #expect(try await handler.call("echo", params: "scripted") == "scripted")
        }
    }
}

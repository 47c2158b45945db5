#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
@testable import LuminalSystem
import Testing

extension Supervisor {
    /// The `luminal` client talks only to a supervisor of its own user or root: a socket another
    /// user listens on (made first at a path in /tmp, say) hears no request of it.
    @Suite struct ClientTrust {
        @Test(.enabled(if: getuid() == 0, "needs root to listen as another user"))
        func aSocketAnotherUserServesHearsNothing() async throws {
            let scratch = PhotonFolder()
            defer { scratch.remove() }
            #expect(chown(scratch.path, 65534, 65534) == 0)
            let socket = Paths.join(scratch.path, "luminal.sock"), heard = Paths.join(scratch.path, "heard")
            let listener = """
                import socket, sys
                s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(8); print("listening", flush=True)
                c, _ = s.accept(); data = c.recv(1 << 20)
                open(sys.argv[2], "wb").write(data); print("heard", len(data), flush=True)
                """
            let fake = try CommandProcess(["--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/python3", "-c", listener, socket, heard],
                                          program: "/usr/bin/setpriv")
            try await fake.line { $0 == "listening" }
            let client = try CommandProcess(["call", "vault", "login", #"{"password": "hunter2"}"#, "--control", socket])
            #expect(try await client.finish() == .exited(code: 76))
            #expect(client.lines.contains { $0.contains("is served by uid 65534") && $0.contains("nothing was sent") }, "\(client.lines)")
            try await fake.line { $0.hasPrefix("heard") }
            #expect(try Paths.read(heard).isEmpty)
            _ = try await fake.finish()
        }
    }
}

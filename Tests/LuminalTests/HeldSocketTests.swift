#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
import LuminalDaemon
@testable import LuminalSystem
import LuminalTestKit
import LuminalWire
@testable import LuminalWorker
import Synchronization
import Testing

extension Supervisor {
    /// Listening sockets a manifest declares (`"sockets"`): bound once by the supervisor, handed
    /// to every generation, kept across reloads, released on unload.
    @Suite struct HeldSocketTests {
        /// The example service, `photons/http-service/serve.py`, as a package listening on `port`.
        func service(_ folder: PhotonFolder, _ name: String, port: UInt16, extra: String = "") -> String {
            let source = Paths.join(BuildProducts.repository, "photons/http-service/serve.py")
            let script = (try? Paths.read(source, limit: 1 << 20)).map { String(decoding: $0, as: UTF8.self) } ?? ""
            folder.write("\(name)/serve.py", script, mode: 0o755)
            folder.write("\(name)/photon.json", #"{"protocol": "none", "exec": "serve.py", "ready": 0.1, "sockets": {"http": "tcp:127.0.0.1:\#(port)"}\#(extra)}"#)
            return Paths.join(folder.path, name)
        }

        /// GETs on `port`, one after another without pause, while `body` runs: how many were
        /// answered, and why the others failed.
        func connectingWithoutPause(to port: UInt16, while body: () async throws -> Void) async throws -> (answered: Int, failures: [String]) {
            let running = RunningFlag()
            async let client = offThePool { () -> (answered: Int, failures: [String]) in
                var answered = 0
                var failures: [String] = []
                while running.isOn {
                    do {
                        _ = try SocketClient.get(.tcp(port: port), timeout: testDeadline)
                        answered += 1
                    } catch {
                        failures.append("\(error)")
                    }
                }
                return (answered, failures)
            }
            do {
                try await body()
            } catch {
                running.turnOff()
                _ = try await client
                throw error
            }
            running.turnOff()
            return try await client
        }

        /// The pid a GET's answer names (the example answers "hello from pid N").
        func answeringPID(_ body: String) -> pid_t? {
            body.split(separator: " ").last.flatMap { pid_t($0.filter { $0 != "\n" }) }
        }

        @Test func aPlainServiceReloadedWhileAClientConnectsWithoutPauseRefusesNoConnection() async throws {
            try await withLoader { loader, folder in
                let port = try SocketClient.freePort()
                let path = service(folder, "web", port: port)
                let web = try #require(try await loader.loadPhoton(at: path).first)
                try await web.start()
                let first = web.pid
                #expect(answeringPID(try await offThePool { try SocketClient.get(.tcp(port: port), timeout: testDeadline) }) == first)
                let (answered, failures) = try await connectingWithoutPause(to: port) {
                    for _ in 0..<8 { try await loader.reloadPhoton(web) }
                }
                #expect(failures.isEmpty, "\(failures.prefix(5))")
                #expect(answered > 0)
                #expect(web.generation == 9 && web.pid != first)
                #expect(answeringPID(try await offThePool { try SocketClient.get(.tcp(port: port), timeout: testDeadline) }) == web.pid)
                _ = try await loader.unloadPhoton(web)
                // Unloaded: the socket is closed, the port free again.
                let refused = try await #require(throws: SocketClient.Failure.self) { try await offThePool { try SocketClient.get(.tcp(port: port), timeout: testDeadline) } }
                #expect(refused.errno == ECONNREFUSED)
            }
        }

        @Test func aPoolOfPlainServicesSharesItsSocketAndRollsWithoutRefusingAConnection() async throws {
            try await withLoader { loader, folder in
                let port = try SocketClient.freePort()
                let web = try #require(try await loader.loadPhoton(at: service(folder, "web", port: port, extra: #", "instances": 3"#)).first)
                try await web.start()
                let pids = Set(web.instances.map(\.pid))
                #expect(pids.count == 3)
                // The three accept on one socket: connections are answered by more than one of them.
                var answering: Set<pid_t> = []
                try await waitUntil("two instances answered") {
                    if let pid = answeringPID(try await offThePool { try SocketClient.get(.tcp(port: port), timeout: testDeadline) }) { answering.insert(pid) }
                    return answering.count >= 2
                }
                #expect(answering.isSubset(of: pids))
                let (answered, failures) = try await connectingWithoutPause(to: port) {
                    for _ in 0..<3 { try await loader.reloadPhoton(web) }
                }
                #expect(failures.isEmpty && answered > 0, "\(failures.prefix(5))")
                #expect(Set(web.instances.map(\.pid)).isDisjoint(with: pids) && web.instances.allSatisfy { $0.generation == 4 })
            }
        }

        @Test func theWorkerGetsTheSocketsAtFd3WithSystemdsVariablesAndNoInheritedOnes() async throws {
            try await withLoader { loader, folder in
                let port = try SocketClient.freePort()
                let report = Paths.join(folder.path, "report")
                folder.script("env/run", """
                    { echo "fds=$LISTEN_FDS names=$LISTEN_FDNAMES pid=$LISTEN_PID self=$$ luminal=${LUMINAL_LISTEN_FDS:-none}"
                      readlink /proc/$$/fd/3 /proc/$$/fd/4 | sed 's/:.*//' | tr '\\n' ' '; echo; ls -l /proc/$$/fd | grep -c socket; } > \(report).tmp
                    mv \(report).tmp \(report)
                    exec sleep 3600
                    """)
                folder.write("env/photon.json", #"{"protocol": "none", "exec": "run", "ready": 0.1, "sockets": {"one": "tcp:127.0.0.1:\#(port)", "two": "unix:two.sock"}}"#)
                _ = try await loader.loadPhoton(at: Paths.join(folder.path, "env"))
                try await waitUntil("the worker wrote its report") { Paths.kind(report) == .regular }
                let lines = String(decoding: try Paths.read(report, limit: 4096), as: UTF8.self).split(separator: "\n")
                let env = try #require(await loader.photons["env"])
                let pid = env.pid
                let declared: JSONValue = [.string("tcp:127.0.0.1:\(port)"), .string("unix:" + Paths.join(folder.path, "env/two.sock"))]
                #expect(env.statusJSON.objectValue?["sockets"] == declared)
                #expect(lines.first == "fds=2 names=one:two pid=\(pid) self=\(pid) luminal=none")
                #expect(lines.dropFirst().first == "socket socket ")
                #expect(lines.last == "2", "no other socket")
                // The Unix socket's file: mode 0666 whatever the umask, bound by its real path.
                let file = Paths.join(folder.path, "env/two.sock")
                var info = stat()
                #expect(lstat(file, &info) == 0 && info.st_mode & S_IFMT == S_IFSOCK && info.st_mode & 0o777 == 0o666)
                let probe = try SocketClient.connect(.unix(path: file), timeout: testDeadline)
                var peer = sockaddr_un()
                var length = socklen_t(MemoryLayout<sockaddr_un>.size)
                _ = withUnsafeMutablePointer(to: &peer) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(probe, $0, &length) } }
                let peerPath = withUnsafeBytes(of: peer.sun_path) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                close(probe)
                #expect(peerPath == Paths.join(Paths.resolved(folder.path) ?? folder.path, "env/two.sock"))
                _ = try await loader.unloadPhoton("env")
                // It stays (as systemd's RemoveOnStop=no): removing it would be a change in the package.
                #expect(lstat(file, &info) == 0 && info.st_mode & S_IFMT == S_IFSOCK)
            }
        }

        @Test func aProtocolWorkerFindsItsSocketsFromFd5() async throws {
            try await withLoader { loader, folder in
                let port = try SocketClient.freePort()
                folder.write("proto/photon.json", #"{"exec": "worker.py", "sockets": ["tcp:127.0.0.1:\#(port)"]}"#)
                folder.python("proto/worker.py", """
                    import os, socket
                    from luminal_photon import held_sockets
                    p = Photon("proto", kinds=["IPhoton"])

                    @p.method()
                    def where(params, ctx):
                        return [[name, s.fileno(), os.environ.get('LISTEN_FDS', 'none')] for name, s in held_sockets()]

                    @p.method()
                    def serve_one(params, ctx):
                        connection, _ = held_sockets()[0][1].accept()
                        connection.sendall(b'served by the photon')
                        connection.shutdown(socket.SHUT_WR)
                        while connection.recv(100):
                            pass
                        connection.close()
                        return 'done'

                    run(p)
                    """)
                let proto = try #require(try await loader.loadPhoton(at: Paths.join(folder.path, "proto")).first)
                try await proto.start()
                #expect(try await proto.call("where") == [["proto", 5, "none"]])
                // Connected before the photon accepts: the connection waits in the socket's queue.
                let connection = try await offThePool { try SocketClient.connect(.tcp(port: port), timeout: testDeadline) }
                async let answer = offThePool { try SocketClient.exchange(connection, "hi") }
                #expect(try await proto.call("serve_one") == "done")
                #expect(try await answer == "served by the photon")
            }
        }

        @Test func aWorkerThatNeverAcceptsLeavesItsWaitingConnectionsToTheNextGeneration() async throws {
            try await withLoader { loader, folder in
                let port = try SocketClient.freePort()
                let path = service(folder, "slow", port: port)
                // This version closes its copy of the socket and never accepts.
                folder.write("slow/serve.py", "#!/bin/sh\nexec 3<&-\nexec sleep 3600\n", mode: 0o755)
                let slow = try #require(try await loader.loadPhoton(at: path).first)
                try await slow.start()
                let waiting = try await offThePool { try SocketClient.connect(.tcp(port: port), timeout: testDeadline) }
                let others = try await offThePool { try (0..<2).map { _ in try SocketClient.connect(.tcp(port: port), timeout: testDeadline) } }
                defer { others.forEach { close($0) } }
                // The queue that grows behind a worker that does not accept, in the metrics.
                let labels = #"{file="\#(path)",socket="tcp:127.0.0.1:\#(port)"}"#
                let metrics = await loader.metrics()
                #expect(metrics.contains("luminal_socket_waiting_connections\(labels) 3\n"), "\(metrics.split(separator: "\n").filter { $0.contains("socket") })")
                #expect(metrics.contains("luminal_socket_listening\(labels) 1\n"))
                _ = service(folder, "slow", port: port)
                try await loader.reloadPhoton(slow)
                let answer = try await offThePool { try SocketClient.exchange(waiting, "GET / HTTP/1.0\r\n\r\n") }
                #expect(answer.hasSuffix("hello from pid \(slow.pid)\n"), "\(answer)")
            }
        }

        @Test func aStoppedOrCrashedServiceKeepsItsSocketAndItsWaitingConnectionsAreServedByTheNextWorker() async throws {
            try await withLoader { loader, folder in
                let port = try SocketClient.freePort()
                let web = try #require(try await loader.loadPhoton(at: service(folder, "web", port: port)).first)
                try await web.start()
                _ = try await loader.stopPhoton("web")
                let waiting = try await offThePool { try SocketClient.connect(.tcp(port: port), timeout: testDeadline) }
                _ = try await loader.startPhoton("web")
                let answer = try await offThePool { try SocketClient.exchange(waiting, "GET / HTTP/1.0\r\n\r\n") }
                #expect(answer.hasSuffix("hello from pid \(web.pid)\n"), "\(answer)")
                let events = EventLog(loader)
                let crashed = web.pid
                kill(crashed, SIGKILL)
                _ = try await events.first("restarted") { event in
                    if case .restarted = event { return true }
                    return nil
                }
                #expect(web.pid != crashed)
                #expect(answeringPID(try await offThePool { try SocketClient.get(.tcp(port: port), timeout: testDeadline) }) == web.pid)
            }
        }

        @Test func aWorkerThatShutsItsSocketDownLeavesItListeningForTheNextGeneration() async throws {
            let lines = Mutex<[String]>([])
            try await withLoader(logSink: { record in lines.withLock { $0.append(record.message) } }) { loader, folder in
                let port = try SocketClient.freePort()
                folder.write("web/photon.json", #"{"protocol": "none", "exec": "serve.py", "ready": 0.1, "sockets": ["tcp:127.0.0.1:\#(port)"]}"#)
                // The usual way to wake a blocked accept: shutdown(2), which takes the socket itself out of listening.
                folder.write("web/serve.py", """
                    #!/usr/bin/env python3
                    import os, signal, socket, threading, time
                    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
                    s = socket.socket(fileno=3)
                    stopping = threading.Event()
                    def serve():
                        while True:
                            try:
                                c, _ = s.accept()
                            except OSError:
                                if stopping.is_set():
                                    return
                                # Another worker shut the shared socket down (EINVAL) until Luminal listens again.
                                time.sleep(0.01)
                                continue
                            c.recv(1000)
                            c.sendall(b'HTTP/1.0 200 OK\\r\\n\\r\\nhello from pid %d\\n' % os.getpid())
                            c.close()
                    t = threading.Thread(target=serve)
                    t.start()
                    signal.sigwait({signal.SIGTERM})
                    stopping.set()
                    s.shutdown(socket.SHUT_RDWR)
                    t.join()
                    """, mode: 0o755)
                let web = try #require(try await loader.loadPhoton(at: Paths.join(folder.path, "web")).first)
                try await web.start()
                // Answered: its stop signal is blocked and awaited (its ready time can pass before).
                #expect(answeringPID(try await offThePool { try SocketClient.get(.tcp(port: port), timeout: testDeadline) }) == web.pid)
                try await loader.reloadPhoton(web)
                #expect(answeringPID(try await offThePool { try SocketClient.get(.tcp(port: port), timeout: testDeadline) }) == web.pid)
                // Log lines reach the sink on a queue of their own.
                try await waitUntil("the warning that the socket listens again") {
                    lines.withLock { $0 }.contains { $0.contains("shut its held socket tcp:127.0.0.1:\(port) down: it listens again") }
                }
                _ = try await loader.stopPhoton("web")
                let waiting = try await offThePool { try SocketClient.connect(.tcp(port: port), timeout: testDeadline) }
                _ = try await loader.startPhoton("web")
                #expect(try await offThePool { try SocketClient.exchange(waiting, "GET / HTTP/1.0\r\n\r\n") }.hasSuffix("hello from pid \(web.pid)\n"))
            }
        }

        @Test func aWatchedPackageMovedElsewhereServesAgainFromItsNewPath() async throws {
            try await withLoader { loader, folder in
                let port = try SocketClient.freePort()
                _ = service(folder, "web", port: port, extra: #", "name": "web""#)
                try await loader.watchPhotons(in: folder.path, quietPeriod: .milliseconds(50))
                let first = try #require(await loader.photons["web"]).pid
                // The new path is seen before the old one is gone: its load finds the port taken,
                // and is tried again once the old path's file is unloaded.
                rename(Paths.join(folder.path, "web"), Paths.join(folder.path, "moved"))
                let moved = Paths.join(folder.path, "moved")
                try await waitUntil("the moved package serves") {
                    let web = await loader.photons["web"]
                    return web?.filePath == moved && web?.state == .started
                }
                let web = try #require(await loader.photons["web"])
                #expect(web.pid != first)
                #expect(answeringPID(try await offThePool { try SocketClient.get(.tcp(port: port), timeout: testDeadline) }) == web.pid)
                await loader.stopWatchingPhotons()
            }
        }

        @Test func aUnixSocketWhosePackageFolderWasReplacedOrWhoseFileWasRemovedIsBoundAgainWhereItsPathLeads() async throws {
            try await withLoader { loader, folder in
                func write(_ package: String) {
                    mkdir(Paths.join(folder.path, package), 0o755)
                    mkdir(Paths.join(folder.path, "\(package)/run"), 0o755)
                    folder.write("\(package)/photon.json", #"{"protocol": "none", "exec": "serve", "ready": 0.1, "sockets": ["unix:run/app.sock"]}"#)
                    folder.write("\(package)/serve", """
                        #!/usr/bin/env python3
                        import os, socket
                        s = socket.socket(fileno=3)
                        while True:
                            c, _ = s.accept()
                            c.sendall(b'%d' % os.getpid())
                            c.close()
                        """, mode: 0o755)
                }
                write("ux")
                let path = Paths.join(folder.path, "ux")
                let socket = Paths.join(path, "run/app.sock")
                let ux = try #require(try await loader.loadPhoton(at: path).first)
                try await ux.start()
                func answer() async throws -> String {
                    try await offThePool { try SocketClient.exchange(try SocketClient.connect(.unix(path: socket), timeout: testDeadline), "") }
                }
                #expect(try await answer() == "\(ux.pid)")
                // A release deployed by replacing the folder: the old socket's file went with the old folder.
                rename(path, Paths.join(folder.path, "ux.old"))
                write("ux")
                try await loader.reloadPhoton(ux)
                #expect(try await answer() == "\(ux.pid)")
                // The file removed: the next reload makes it again.
                unlink(socket)
                try await loader.reloadPhoton(ux)
                #expect(try await answer() == "\(ux.pid)")
            }
        }

        @Test func twoSpellingsOfOneAddressAreOneSocket() throws {
            #expect(try SocketAddress.parse("tcp:[0:0:0:0:0:0:0:1]:8080", in: "/p") == .tcp(host: "::1", port: 8080))
            #expect(try SocketAddress.parse("tcp:[::FFFF:127.0.0.1]:08080", in: "/p") == .tcp(host: "::ffff:127.0.0.1", port: 8080))
            #expect(SocketAddress.tcp(host: "::1", port: 80).description == "tcp:[::1]:80")
        }

        @Test(arguments: ["127.0.0.1", "::1"])
        func aTCPListenerOnPortZeroSaysThePortItGotAndAcceptsThere(host: String) throws {
            let listener = try TCPListener.open(host: host, port: 0, backlog: 4)
            defer { close(listener.fd) }
            #expect(listener.port != 0)
            let client = socket(host.contains(":") ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(client) }
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = listener.port.bigEndian
            var v4 = sockaddr_in()
            v4.sin_family = sa_family_t(AF_INET)
            v4.sin_port = listener.port.bigEndian
            let connected = host.contains(":")
                ? (inet_pton(AF_INET6, host, &address.sin6_addr) == 1 && withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(client, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } } == 0)
                : (inet_pton(AF_INET, host, &v4.sin_addr) == 1 && withUnsafePointer(to: &v4) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(client, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } } == 0)
            #expect(connected)
            let accepted = accept(listener.fd, nil, nil)
            #expect(accepted >= 0)
            close(accepted)
            let error = try #require(throws: SystemError.self) { try TCPListener.open(host: "localhost", port: 0, backlog: 4) }
            #expect(error.errno == EINVAL && error.operation.contains("'localhost' is not an IPv4 or IPv6 address"))
        }

        @Test func aTakenAddressFailsTheLoadOrRollsTheReloadBackNamingTheSocket() async throws {
            try await withLoader(suppressErrors: true) { loader, folder in
                let taken = try HeldSocket.bind(.tcp(host: "127.0.0.1", port: try SocketClient.freePort()), within: folder.path)
                guard case .tcp(_, let takenPort) = taken.address else { return }
                let path = service(folder, "clash", port: takenPort)
                let error = try await #require(throws: LoaderError.self) { try await loader.loadPhoton(at: path) }
                #expect(error.code == .socketUnavailable)
                #expect(error.message.contains(path) && error.message.contains("tcp:127.0.0.1:\(takenPort)") && error.message.contains("in use"), "\(error.message)")
                // A serving file whose new version adds the taken socket keeps serving on its own.
                let port = try SocketClient.freePort()
                let web = try #require(try await loader.loadPhoton(at: service(folder, "web", port: port)).first)
                try await web.start()
                folder.write("web/photon.json", #"{"protocol": "none", "exec": "serve.py", "ready": 0.1, "sockets": {"http": "tcp:127.0.0.1:\#(port)", "more": "tcp:127.0.0.1:\#(takenPort)"}}"#)
                let rolledBack = try await #require(throws: LoaderError.self) { try await loader.reloadPhoton(web) }
                #expect(rolledBack.code == .reloadRolledBack && rolledBack.step == .sockets, "\(rolledBack)")
                #expect(web.generation == 1 && web.state == .started)
                #expect(answeringPID(try await offThePool { try SocketClient.get(.tcp(port: port), timeout: testDeadline) }) == web.pid)
                withExtendedLifetime(taken) {}
            }
        }

        @Test func aUnixSocketReplacesAStaleFileAndRefusesAnythingElseOrAFolderOutsideThePackage() async throws {
            try await withLoader { loader, folder in
                func package(_ name: String, socket: String) -> String {
                    folder.write("\(name)/photon.json", #"{"protocol": "none", "exec": "run", "ready": 0.1, "sockets": ["unix:\#(socket)"]}"#)
                    folder.write("\(name)/run", """
                        #!/usr/bin/env python3
                        import socket
                        s = socket.socket(fileno=3)
                        while True:
                            c, _ = s.accept()
                            c.recv(100)
                            c.sendall(b'unix answer')
                            c.close()
                        """, mode: 0o755)
                    return Paths.join(folder.path, name)
                }
                let stale = package("stale", socket: "sock/app.sock")
                mkdir(Paths.join(stale, "sock"), 0o755)
                let old = try HeldSocket.bind(.unix(path: Paths.join(stale, "sock/app.sock")), within: stale)
                _ = Unmanaged.passRetained(old) // its file stays, as a killed supervisor leaves one
                close(old.fd)
                _ = try await loader.loadPhoton(at: stale)
                let answer = try await offThePool { try SocketClient.exchange(try SocketClient.connect(.unix(path: Paths.join(stale, "sock/app.sock")), timeout: testDeadline), "hi") }
                #expect(answer == "unix answer")

                let blocked = package("blocked", socket: "app.sock")
                folder.write("blocked/app.sock", "not a socket")
                let blockedError = try await #require(throws: LoaderError.self) { try await loader.loadPhoton(at: blocked) }
                #expect(blockedError.code == .socketUnavailable && blockedError.message.contains("not a socket"), "\(blockedError.message)")

                let escaping = package("escaping", socket: "out/app.sock")
                mkdir(Paths.join(folder.path, "elsewhere"), 0o755)
                symlink(Paths.join(folder.path, "elsewhere"), Paths.join(escaping, "out"))
                let escapingError = try await #require(throws: LoaderError.self) { try await loader.loadPhoton(at: escaping) }
                #expect(escapingError.code == .socketUnavailable && escapingError.message.contains("outside the package"), "\(escapingError.message)")
                #expect(Paths.kind(Paths.join(folder.path, "elsewhere/app.sock")) == .missing)
            }
        }

        @Test func luminalRunPassesOnNoSocketVariablesOfItsOwnAndStatusSaysWhereAFileListens() async throws {
            let port = try SocketClient.freePort()
            let inherited = ["LISTEN_FDS": "2", "LISTEN_PID": "1", "LISTEN_FDNAMES": "a:b",
                             "LUMINAL_LISTEN_FDS": "1", "LUMINAL_LISTEN_PID": "1", "LUMINAL_LISTEN_FDNAMES": "x"]
            let supervisor = try await SupervisedFolder(environment: inherited) { photons in
                photons.script("bare/run", "env | grep -c LISTEN_ > listen-count; exec sleep 3600")
                photons.write("bare/photon.json", #"{"protocol": "none", "exec": "run", "ready": 0.1}"#)
                photons.script("web/run", "exec sleep 3600")
                photons.write("web/photon.json", #"{"protocol": "none", "exec": "run", "ready": 0.1, "sockets": ["tcp:127.0.0.1:\#(port)"]}"#)
            }
            let count = Paths.join(supervisor.photons.path, "bare/listen-count")
            try await waitUntil("the worker counted its variables") { Paths.kind(count) == .regular && (try? Paths.read(count, limit: 16))?.isEmpty == false }
            #expect(String(decoding: try Paths.read(count, limit: 16), as: UTF8.self) == "0\n")
            let status = try await supervisor.client("status")
            #expect(status.output.contains("\(Paths.join(supervisor.photons.path, "web")): listening on tcp:127.0.0.1:\(port)"), "\(status.output)")
            try await supervisor.stop()
        }

        @Test func anAddressTheSupervisorMayNotBindFailsItsFileNamingTheCauseAndNothingElse() async throws {
            let privileged = (try? Paths.read("/proc/sys/net/ipv4/ip_unprivileged_port_start", limit: 16))
                .flatMap { Int(String(decoding: $0, as: UTF8.self).filter(\.isNumber)) } ?? 1024
            try #require(privileged > 80, "this kernel lets any user bind port 80")
            let port = try SocketClient.freePort()
            // A supervisor that runs as nobody may not bind port 80.
            let supervisor = try await SupervisedFolder(uid: 65534) { photons in
                photons.script("low/run", "exec sleep 3600")
                photons.write("low/photon.json", #"{"protocol": "none", "exec": "run", "ready": 0.1, "sockets": ["tcp:127.0.0.1:80"]}"#)
                photons.script("web/run", "exec sleep 3600")
                photons.write("web/photon.json", #"{"protocol": "none", "exec": "run", "ready": 0.1, "sockets": ["tcp:127.0.0.1:\#(port)"]}"#)
            }
            let status = try await supervisor.client("status", "--json").json()
            let low = try #require(status.arrayValue?.first { $0["file"]?.stringValue == Paths.join(supervisor.photons.path, "low") })
            #expect(low["state"] == "failed" && low["retryIn"] == .null)
            let message = low["error"]?["message"]?.stringValue ?? ""
            #expect(message.contains("cannot listen on tcp:127.0.0.1:80") && message.contains("Permission denied"), "\(message)")
            let web = try #require(status.arrayValue?.first { $0["name"] == "web" })
            #expect(web["state"] == "started")
            try await supervisor.stop()
        }

        static let refused: [(socket: String, says: String)] = [
            (#""sockets": "tcp:127.0.0.1:8080""#, "an array of addresses"),
            (#""sockets": [8080]"#, "is not a string"),
            (#""sockets": ["127.0.0.1:8080"]"#, "must start with \"tcp:\""),
            (#""sockets": ["tcp:localhost:8080"]"#, "must be an IP address"),
            (#""sockets": ["tcp:127.0.0.1"]"#, "needs a port"),
            (#""sockets": ["tcp:127.0.0.1:0"]"#, "from 1 to 65535"),
            (#""sockets": ["tcp:127.0.0.1:65536"]"#, "from 1 to 65535"),
            (#""sockets": ["tcp:127.0.0.1:+80"]"#, "from 1 to 65535"),
            (#""sockets": ["tcp:::1:8080"]"#, "goes in brackets"),
            (#""sockets": ["tcp:[127.0.0.1]:8080"]"#, "IPv6 addresses only"),
            (#""sockets": ["unix:/run/app.sock"]"#, "relative to the package"),
            (#""sockets": ["unix:@abstract"]"#, "relative to the package"),
            (#""sockets": ["unix:../app.sock"]"#, "stay inside the package"),
            (#""sockets": ["unix:run//app.sock"]"#, "stay inside the package"),
            (#""sockets": ["tcp:127.0.0.1:8080", "tcp:127.0.0.1:8080"]"#, "declared twice"),
            (#""sockets": {"a:b": "tcp:127.0.0.1:8080"}"#, "a socket's name"),
            (#""sockets": [\#((0...16).map { "\"tcp:127.0.0.1:\(9000 + $0)\"" }.joined(separator: ", "))]"#, "at most 16"),
            (#""env": {"LISTEN_FDS": "1"}"#, "set by Luminal"),
            (#""env": {"LUMINAL_LISTEN_PID": "1"}"#, "set by Luminal"),
        ]

        @Test(arguments: refused)
        func badSocketsAreRefusedNamingTheManifestAndTheCause(socket: String, says: String) async throws {
            try await withLoader { loader, folder in
                folder.script("bad/run", "exec sleep 3600")
                folder.write("bad/photon.json", #"{"protocol": "none", "exec": "run", \#(socket)}"#)
                let path = Paths.join(folder.path, "bad")
                let error = try await #require(throws: LoaderError.self) { try await loader.loadPhoton(at: path) }
                #expect(error.code == .invalidManifest)
                #expect(error.message.contains(Paths.join(path, "photon.json")) && error.message.contains(says), "\(error.message)")
                if socket.contains("unix:") { #expect(Paths.kind(Paths.join(folder.path, "run")) == .missing) }
            }
        }
    }
}

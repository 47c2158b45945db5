import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// A Prometheus stand-in: `GET /metrics` on 127.0.0.1:`port`, timed.
enum Scrape {
    /// One scrape: how long it took, and the bytes of the body; fails the benchmark on anything but a 200.
    static func once(port: UInt16) -> (Duration, Int) {
        let clock = ContinuousClock()
        let start = clock.now
        let response = get("/metrics", port: port)
        guard response.starts(with: Array("HTTP/1.1 200 ".utf8)) else { fail("the metrics endpoint answered \(String(decoding: response.prefix(40), as: UTF8.self))") }
        return (start.duration(to: clock.now), response.count)
    }

    /// The whole response to `GET path` on 127.0.0.1:`port`.
    static func get(_ path: String, port: UInt16) -> [UInt8] {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { fail("cannot connect to the metrics endpoint on port \(port)") }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8)
        _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var response: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            response += chunk[..<count]
        }
        return response
    }
}

/// Scrapes every `interval` on a thread of its own until stopped; between scrapes it sleeps
/// (no polling: the calls it is measured against share the cores). It counts the CPU time of its
/// thread, so that what the scrapes cost the supervisor can be told from what they cost the scraper.
final class Scraper: Sendable {
    private let wake = DispatchSemaphore(value: 0)
    private let done = DispatchSemaphore(value: 0)
    private let stopped = Atomic<Bool>(false)
    private let scrapes = Atomic<Int>(0)
    /// The scraper thread's CPU time, in nanoseconds.
    private let cpu = Atomic<Int>(0)

    init(port: UInt16, every interval: Duration) {
        DispatchQueue(label: "luminal-bench.scraper").async { [self] in
            var next = DispatchTime.now()
            while !stopped.load(ordering: .relaxed) {
                let before = Self.threadCPU()
                _ = Scrape.once(port: port)
                cpu.wrappingAdd(Self.threadCPU() - before, ordering: .relaxed)
                scrapes.wrappingAdd(1, ordering: .relaxed)
                next = next + .nanoseconds(Int(milliseconds(interval) * 1e6))
                _ = wake.wait(timeout: next)
            }
            done.signal()
        }
    }

    /// Stops scraping; returns how many scrapes there were, and the CPU time they took the
    /// scraper, in seconds.
    func stop() -> (scrapes: Int, cpuSeconds: Double) {
        stopped.store(true, ordering: .relaxed)
        wake.signal()
        done.wait()
        return (scrapes.load(ordering: .relaxed), Double(cpu.load(ordering: .relaxed)) / 1e9)
    }

    /// The calling thread's CPU time, in nanoseconds.
    private static func threadCPU() -> Int {
        var now = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
        return now.tv_sec * 1_000_000_000 + now.tv_nsec
    }
}

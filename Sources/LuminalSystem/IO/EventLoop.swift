import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import _LuminalCShims
import Synchronization

/// Readiness of the supervisor's file descriptors (worker pipes and pidfds), on one epoll thread.
///
/// Not Dispatch sources: libdispatch's epoll backend mishandles a pipe whose writer vanished
/// (EPOLLHUP) and a pidfd whose process was reaped (`EPOLL_CTL_DEL` fails with ENOENT on some
/// kernels), and crashes on the freed bookkeeping. Here each registration has a token that is never
/// reused, so an event that arrives after `remove` finds nothing and is dropped.
package final class EventLoop: Sendable {
    /// The loop of this process; its thread starts on first use.
    package static let shared = EventLoop()

    /// A registration, to arm again or remove.
    package struct Token: Hashable, Sendable {
        fileprivate let value: UInt64
        fileprivate let fd: Int32
    }

    private let epoll: Int32
    /// The loop's thread (`pthread_self()` there), once it runs.
    private let thread = Atomic<pthread_t>(0)
    private let handlers = Mutex<(next: UInt64, table: [UInt64: @Sendable () -> Void])>((1, [:]))

    private init() {
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        let failure = errno
        precondition(epoll >= 0, "epoll_create1 failed: errno \(failure)")
        startThread { [self] in
            thread.store(pthread_self(), ordering: .relaxed)
            run()
        }
    }

    /// Watches `fd` for reading (or writing), calling `handler` on the loop's thread when it is
    /// ready. Edge-triggered: the handler must consume until EAGAIN. With `once`, the registration
    /// fires once and then waits for `arm`.
    package func add(_ fd: Int32, writing: Bool = false, once: Bool = false, handler: @escaping @Sendable () -> Void) -> Token {
        let token = handlers.withLock { state -> Token in
            defer { state.next += 1 }
            state.table[state.next] = handler
            return Token(value: state.next, fd: fd)
        }
        var event = epoll_event()
        event.events = Self.mask(writing: writing, once: once)
        event.data.u64 = token.value
        if epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event) != 0 {
            let failure = errno
            // A regular file is not pollable (EPERM): report readiness once so the owner finds out
            // by reading. Anything else is a bad fd or an exhausted limit, and nothing would come.
            precondition(failure == EPERM, "epoll_ctl(EPOLL_CTL_ADD) of fd \(fd) failed: errno \(failure)")
            handler()
        }
        return token
    }

    /// Like `add`, running `action` on `queue` with `target` while `target` is alive.
    package func add<Target: AnyObject & Sendable>(_ fd: Int32, writing: Bool = false, once: Bool = false, waking target: Target,
                                           on queue: DispatchQueue, _ action: @escaping @Sendable (Target) -> Void) -> Token {
        add(fd, writing: writing, once: once) { [weak target] in
            guard let target else { return }
            queue.async { action(target) }
        }
    }

    /// Like `add(_:waking:on:_:)`, but `action` runs on the loop's own thread inside
    /// `queue.sync`: still exclusive with everything else on `queue`, and without a thread switch
    /// when `queue` is idle (libdispatch runs a sync block on the calling thread). The loop waits
    /// while `queue` is busy, so every block on `queue` must be short, and nothing on `queue` may
    /// ever wait for the loop's thread: that would deadlock. A readiness reported at once by `add`
    /// (an fd epoll cannot watch) comes on the caller's thread, maybe on `queue`: it goes async.
    package func add<Target: AnyObject & Sendable>(_ fd: Int32, inside queue: DispatchQueue, running target: Target,
                                           _ action: @escaping @Sendable (Target) -> Void) -> Token {
        add(fd) { [weak target, self] in
            guard let target else { return }
            if pthread_equal(pthread_self(), thread.load(ordering: .relaxed)) != 0 {
                queue.sync { action(target) }
            } else {
                queue.async { action(target) }
            }
        }
    }

    /// Re-arms a one-shot registration.
    package func arm(_ token: Token, writing: Bool = false) {
        var event = epoll_event()
        event.events = Self.mask(writing: writing, once: true)
        event.data.u64 = token.value
        _ = epoll_ctl(epoll, EPOLL_CTL_MOD, token.fd, &event)
    }

    /// Stops watching; call before closing the fd. Events already in flight are dropped.
    package func remove(_ token: Token) {
        let present = handlers.withLock { $0.table.removeValue(forKey: token.value) != nil }
        if present { _ = epoll_ctl(epoll, EPOLL_CTL_DEL, token.fd, nil) }
    }

    private static func mask(writing: Bool, once: Bool) -> UInt32 {
        var mask = (writing ? UInt32(EPOLLOUT.rawValue) : UInt32(EPOLLIN.rawValue)) | UInt32(EPOLLET.rawValue)
        if once { mask |= UInt32(EPOLLONESHOT.rawValue) }
        return mask
    }

    private func run() -> Never {
        var events = [epoll_event](repeating: epoll_event(), count: 256)
        while true {
            let count = epoll_wait(epoll, &events, Int32(events.count), -1)
            if count < 0 {
                let failure = errno
                if failure == EINTR { continue }
                preconditionFailure("epoll_wait failed: errno \(failure)")
            }
            for event in events.prefix(Int(count)) {
                let key = event.data.u64
                handlers.withLock { $0.table[key] }?()
            }
        }
    }
}

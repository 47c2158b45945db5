/// The deadlines of one worker's requests: a min-heap of (deadline, id), earliest first.
///
/// Answered requests are not looked for: their entries stay until they reach the top, where the
/// worker skips them, or until the heap is rebuilt from the live ones (`Worker.addDeadline`).
struct RequestDeadlines {
    /// A request's deadline.
    struct Entry: Equatable {
        /// When it expires, on the uptime clock.
        let deadline: UInt64
        /// The request.
        let id: Int64
        /// The timeout it was sent with, for the error.
        let timeout: Duration
    }

    /// In heap order: no entry is earlier than its parent.
    private(set) var entries: [Entry] = []

    /// An empty heap.
    init() {}

    /// A heap of `entries`, in any order.
    init(heapifying entries: [Entry]) {
        self.entries = entries
        for index in stride(from: entries.count / 2 - 1, through: 0, by: -1) { siftDown(index) }
    }

    /// The earliest deadline.
    var first: Entry? { entries.first }

    /// How many entries are held, answered ones included.
    var count: Int { entries.count }

    /// Adds `entry`.
    mutating func push(_ entry: Entry) {
        entries.append(entry)
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard entries[child].deadline < entries[parent].deadline else { break }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes the earliest deadline.
    mutating func removeFirst() {
        guard !entries.isEmpty else { return }
        entries.swapAt(0, entries.count - 1)
        entries.removeLast()
        siftDown(0)
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1, right = left + 1
            var earliest = parent
            if left < entries.count, entries[left].deadline < entries[earliest].deadline { earliest = left }
            if right < entries.count, entries[right].deadline < entries[earliest].deadline { earliest = right }
            guard earliest != parent else { return }
            entries.swapAt(parent, earliest)
            parent = earliest
        }
    }
}

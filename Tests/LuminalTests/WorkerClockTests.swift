import Testing
@testable import Luminal

/// The heap of request deadlines.
@Suite struct RequestDeadlineHeap {
    @Test func yieldsDeadlinesEarliestFirstHoweverTheyCame() {
        let deadlines: [UInt64] = [50, 10, 40, 10, 90, 20, 70, 30, 60, 80, 0, 55]
        let entries = deadlines.enumerated().map { RequestDeadlines.Entry(deadline: $0.element, id: Int64($0.offset), timeout: .seconds(1)) }
        var pushed = RequestDeadlines()
        entries.forEach { pushed.push($0) }
        var built = RequestDeadlines(heapifying: entries.reversed())
        for expected in deadlines.sorted() {
            #expect(pushed.first?.deadline == expected && built.first?.deadline == expected)
            pushed.removeFirst()
            built.removeFirst()
        }
        #expect(pushed.first == nil && built.first == nil && pushed.count == 0)
    }
}

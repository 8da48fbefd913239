import Foundation
@testable import SuiteSQLite
import SuiteStorage
import SuiteTestSupport
import Synchronization
import Testing

/// Group commit on SQLite: writes that arrive together share one transaction and one commit,
/// and each caller still gets exactly what a transaction of its own would give it.
@Suite struct SQLiteGroupCommitTests {
    struct Boom: Error, Equatable { let index: Int }

    /// The first write holds the writer while seven more queue behind it; they join its
    /// transaction, and the eight commit once. Each caller gets its own value or its own error; a body that throws (or
    /// hits a unique violation) leaves nothing, fires nothing and is never seen by a later body;
    /// the others commit and fire their after-commit actions once. The first failure ran the
    /// transaction again, so the bodies before it ran twice, and none ran more.
    @Test(.timeLimit(.minutes(2)))
    func writesThatArriveTogetherShareOneCommitAndKeepTheirOwnOutcomes() async throws {
        try await withFolder { folder in
            let database = try SQLiteDatabase(path: "\(folder)/g.sqlite")
            try await database.write { tx in try tx.execute("CREATE TABLE t (name TEXT NOT NULL UNIQUE)") }
            let before = database.groupCommitCounts
            let seen = Seen()

            let first = Task {
                try await database.write { tx -> [String] in
                    try tx.execute("INSERT INTO t (name) VALUES (\("w0"))")
                    tx.afterCommit { seen.fired.withLock { _ = $0.insert(0) } }
                    // Hold the writer (and this thread) until the seven others are queued behind it,
                    // on the first run only. A whole test run shares two threads here, so the wait is generous.
                    if seen.ran(0) == 1 {
                        seen.holding.store(true, ordering: .sequentiallyConsistent)
                        try waitUntil(seconds: 60) { database.queuedWrites == 7 }
                    }
                    return ["w0"]
                }
            }
            try #require(try await eventually(attempts: 6_000) { seen.holding.load(ordering: .sequentiallyConsistent) })
            let others = (1...7).map { index in
                Task {
                    try await database.write { tx -> [String] in
                        seen.ran(index)
                        // w4 takes w2's name: a unique violation it does not catch.
                        let name = index == 4 ? "w2" : "w\(index)"
                        try tx.execute("INSERT INTO t (name) VALUES (\(name))")
                        tx.afterCommit { seen.fired.withLock { _ = $0.insert(index) } }
                        if index.isMultiple(of: 2) == false { throw Boom(index: index) }
                        return try tx.query("SELECT name FROM t ORDER BY name").map { try $0.string("name") }
                    }
                }
            }
            #expect(try await first.value == ["w0"])
            for (offset, task) in others.enumerated() {
                let index = offset + 1
                switch (index, await task.result) {
                case (2, .success(let names)), (6, .success(let names)):
                    // w0 ran first; its own row; never a row of a write that failed.
                    #expect(names.contains("w0") && names.contains("w\(index)"), "\(names)")
                    #expect(Set(names).isSubset(of: ["w0", "w2", "w6"]), "\(names)")
                case (4, .failure(let error)): #expect((error as? StorageError)?.code == .uniqueViolation, "\(error)")
                case (_, .failure(let error)): #expect(error as? Boom == Boom(index: index), "\(error)")
                case (_, let result): Issue.record("w\(index) ended with \(result)")
                }
            }
            let names = try await database.read { tx in try tx.query("SELECT name FROM t ORDER BY name").map { try $0.string("name") } }
            #expect(names == ["w0", "w2", "w6"])
            #expect(seen.fired.withLock { $0 } == [0, 2, 6])
            // The first body to throw had w0's work (and any body between) in the transaction:
            // the transaction ran again from w0, in the same order, and then every body ran once.
            let order = seen.runs.withLock { $0.order }
            let firstFailure = try #require(order.firstIndex { [1, 3, 4, 5, 7].contains($0) })
            let firstPass = Array(order[...firstFailure]), secondPass = Array(order[(firstFailure + 1)...])
            #expect(firstPass.first == 0 && secondPass.starts(with: firstPass), "\(order)")
            #expect(secondPass.sorted() == Array(0...7), "each body ran at most twice: \(order)")
            let after = database.groupCommitCounts
            #expect(after.commits - before.commits == 1, "the seven joined w0's transaction")
            #expect(after.writes - before.writes == 3)
            try await database.close()
        }
    }

    /// The writer's settings for group commit, read back from the connection that writes:
    /// statement journals in memory, a checkpoint every 4000 WAL pages.
    @Test func theWriterKeepsJournalsInMemoryAndCheckpointsLess() async throws {
        try await withFolder { folder in
            let database = try SQLiteDatabase(path: "\(folder)/s.sqlite")
            let (tempStore, checkpoint) = try await database.write { tx in
                (try tx.queryInt64("PRAGMA temp_store"), try tx.queryInt64("PRAGMA wal_autocheckpoint"))
            }
            #expect(tempStore == 2, "temp_store=MEMORY")
            #expect(checkpoint == 4_000)
            try await database.close()
        }
    }

    /// Sixteen writers at once, a fifth of whose bodies throw after writing a row and its audit
    /// row: exactly the acknowledged writes are stored, each with its audit row, nothing of a
    /// failed one is, and no body ran more than twice.
    @Test(.timeLimit(.minutes(1)))
    func failingBodiesAmongConcurrentWritersLeaveNothingAndRunAtMostTwice() async throws {
        try await withFolder { folder in
            let database = try SQLiteDatabase(path: "\(folder)/f.sqlite")
            try await database.write { tx in
                try tx.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, writer INTEGER NOT NULL, n INTEGER NOT NULL, UNIQUE (writer, n))")
                try tx.execute("CREATE TABLE audit (t_id INTEGER NOT NULL UNIQUE)")
            }
            let seen = Seen()
            let outcomes = try await withThrowingTaskGroup(of: [(write: Int, committed: Bool)].self) { group in
                for writer in 0..<16 {
                    group.addTask {
                        var mine: [(write: Int, committed: Bool)] = []
                        for n in 0..<60 {
                            let write = writer * 1_000 + n
                            do {
                                _ = try await database.write { tx -> Int64 in
                                    seen.ran(write)
                                    let id = try tx.insertReturningID("INSERT INTO t (writer, n) VALUES (\(writer), \(n))")
                                    try tx.execute("INSERT INTO audit (t_id) VALUES (\(id))")
                                    if (writer * 7 + n * 13) % 5 == 0 { throw Boom(index: write) }
                                    return id
                                }
                                mine.append((write, true))
                            } catch let error as Boom {
                                #expect(error.index == write, "a write got another's error")
                                mine.append((write, false))
                            }
                        }
                        return mine
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            let acknowledged = Set(outcomes.filter(\.committed).map(\.write))
            #expect(outcomes.count == 960 && acknowledged.count == 768)
            let rows = try await database.read { tx in
                try tx.query("SELECT t.writer, t.n, audit.t_id FROM t LEFT JOIN audit ON audit.t_id = t.id")
            }
            let stored = try rows.map { row in
                (write: Int(try row.int64("writer")) * 1_000 + Int(try row.int64("n")), audited: try row.optionalInt64("t_id") != nil)
            }
            #expect(Set(stored.map(\.write)) == acknowledged && stored.count == acknowledged.count)
            #expect(stored.allSatisfy { $0.audited }, "every stored write has its audit row")
            let runs = seen.runs.withLock { $0.counts }
            #expect(runs.count == 960)
            #expect(runs.values.allSatisfy { (1...2).contains($0) }, "a body ran more than twice")
            try await database.close()
        }
    }

    /// Many writers at once on a FULL file, each a row and its audit row: every caller's answer
    /// is its own row, every acknowledged row is there with its audit row after a reopen, and
    /// with no body throwing, every body ran once.
    /// (Whether they share commits depends on free threads: a leader holds its own while it
    /// commits, and a test run shares two. The test above lines writes up to be sure.)
    @Test(.timeLimit(.minutes(1)))
    func concurrentWritersLoseNothingAndShareNothing() async throws {
        try await withFolder { folder in
            let path = "\(folder)/c.sqlite"
            let database = try SQLiteDatabase(path: path)
            try await database.write { tx in
                try tx.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, writer INTEGER NOT NULL, n INTEGER NOT NULL)")
                try tx.execute("CREATE TABLE audit (t_id INTEGER NOT NULL UNIQUE, writer INTEGER NOT NULL)")
            }
            let before = database.groupCommitCounts
            let seen = Seen()
            let acknowledged = try await withThrowingTaskGroup(of: [(id: Int64, writer: Int, n: Int)].self) { group in
                for writer in 0..<16 {
                    group.addTask {
                        var mine: [(id: Int64, writer: Int, n: Int)] = []
                        for n in 0..<100 {
                            let id = try await database.write { tx -> Int64 in
                                seen.ran(writer * 1_000 + n)
                                let id = try tx.insertReturningID("INSERT INTO t (writer, n) VALUES (\(writer), \(n))")
                                try tx.execute("INSERT INTO audit (t_id, writer) VALUES (\(id), \(writer))")
                                return id
                            }
                            mine.append((id, writer, n))
                        }
                        return mine
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            #expect(acknowledged.count == 1_600)
            #expect(Set(acknowledged.map(\.id)).count == 1_600, "no two callers were given the same row")
            let after = database.groupCommitCounts
            #expect(after.writes - before.writes == 1_600)
            let runs = seen.runs.withLock { $0.counts }
            #expect(runs.count == 1_600 && runs.values.allSatisfy { $0 == 1 }, "no body threw, so none ran twice")
            try await database.close()

            let reopened = try SQLiteDatabase(path: path)
            let rows = try await reopened.read { tx in
                try tx.query("SELECT t.id, t.writer, t.n, audit.writer AS audited FROM t JOIN audit ON audit.t_id = t.id")
            }
            #expect(rows.count == 1_600)
            let stored = Dictionary(uniqueKeysWithValues: try rows.map { row in
                (try row.int64("id"), (writer: Int(try row.int64("writer")), n: Int(try row.int64("n")), audited: Int(try row.int64("audited"))))
            })
            for write in acknowledged {
                let row = stored[write.id]
                #expect(row?.writer == write.writer && row?.n == write.n && row?.audited == write.writer)
            }
            try await reopened.close()
        }
    }
}

/// What the bodies report to the test.
private final class Seen: Sendable {
    let fired = Mutex<Set<Int>>([])
    let holding = Atomic<Bool>(false)
    /// The bodies' runs by write index: in order, and how many each.
    let runs = Mutex(Runs())

    struct Runs {
        var order: [Int] = []
        var counts: [Int: Int] = [:]
    }

    /// Records a run of write `index`'s body; returns how many it has had.
    @discardableResult
    func ran(_ index: Int) -> Int {
        runs.withLock { runs in
            runs.order.append(index)
            runs.counts[index, default: 0] += 1
            return runs.counts[index]!
        }
    }
}

/// Waits on this thread (it holds the writer) until `condition` holds.
private func waitUntil(seconds: Double, _ condition: () -> Bool) throws {
    let deadline = Date().addingTimeInterval(seconds)
    while !condition() {
        guard Date() < deadline else { throw TimedOut() }
        Thread.sleep(forTimeInterval: 0.001)
    }
}

private struct TimedOut: Error {}

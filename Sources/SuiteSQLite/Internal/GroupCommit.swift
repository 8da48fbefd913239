import Foundation
internal import GRDB
import SuiteStorage
import Synchronization

/// Runs the write transactions of ``SQLiteDatabase`` on its one writer connection, with many
/// callers' work in one commit when they arrive together (group commit).
///
/// SQLite has one writer, so concurrent writes queue anyway; at `synchronous=FULL` each commit
/// also waits for an fsync. Here the caller that finds the writer idle leads: it runs its own
/// transaction, and every write that queued meanwhile, on its own thread, in one SQLite
/// transaction (callers that queue while it runs join it), then commits once. Each caller keeps
/// what it had with one transaction each:
/// - **atomicity:** the bodies first run one after another with nothing between them. If one
///   throws while others' work shares the transaction, the transaction rolls back and runs again
///   from its first body, now each body in a savepoint of its own: the one that throws rolls back
///   to its savepoint, its statements are gone, the others' stay, and only that caller sees its
///   error. So a body runs at most twice, and only its last run counts (its value, its
///   after-commit actions). A savepoint costs each body a copy of every page it changes, freed
///   again at its release; without failures the batch pays none of that;
/// - **durability:** nobody's write is reported before the shared commit returned (fsynced at
///   FULL); if the commit fails, every caller in it gets the error and nothing of theirs stays;
/// - **after-commit actions** run after that commit, for the bodies that did not throw;
/// - **order:** the callers run one after another, as they would on one connection; a body sees
///   the earlier ones' writes as it would have seen them committed.
///
/// A lone caller never waits for a thread: its transaction runs on its own, with no hop to a
/// dispatch queue and back (that hop cost about 15 µs of a 30 µs write at `synchronous=NORMAL`).
/// A leader blocks its thread while its batch runs, as a point read does; only one leader runs at
/// a time, and it never waits for another task (queued callers are suspended, not blocked), so
/// this cannot deadlock the cooperative pool. When the leader's batch is done, it hands the lead
/// to the first caller that queued meanwhile and returns.
final class GroupCommit: Sendable {
    /// How many callers' work one transaction takes at most: a bound on a batch's latency and on
    /// how much one disk error fails at once.
    static let batchLimit = 64

    private let writer: any DatabaseWriter
    private let state = Mutex(State())
    private let committedTransactions = Atomic<Int>(0)
    private let committedWrites = Atomic<Int>(0)

    private struct State: ~Copyable {
        var leading = false
        var waiting: [QueuedWrite] = []
    }

    init(writer: any DatabaseWriter) {
        self.writer = writer
    }

    /// Transactions committed and writes committed in them since the database opened.
    var counts: (commits: Int, writes: Int) { (committedTransactions.load(ordering: .relaxed), committedWrites.load(ordering: .relaxed)) }

    /// How many writes wait for a leader now (for tests that line writes up).
    var queued: Int { state.withLock { $0.waiting.count } }

    /// Runs `body` in a write transaction, alone or with others queued at the same time; returns
    /// its value and its after-commit actions once the transaction holding it has committed.
    func write<T>(path: String, _ body: @escaping @Sendable (SQLiteTransaction) throws -> T) async throws -> (T, [@Sendable () -> Void]) {
        let write = TypedWrite(path: path, body: body)
        let leadsAtOnce = state.withLock { state in
            guard !state.leading else { return false }
            state.leading = true
            return true
        }
        if leadsAtOnce {
            lead(with: write)
        } else if await queue(write) == .lead {
            lead(with: write)
        }
        switch write.outcome {
        case .committed(let actions): return (write.value!, actions)
        case .failed(let error): throw error
        case nil: preconditionFailure("a write ended without an outcome")
        }
    }

    /// Waits in line: resumed when a leader has run the write, or when the lead passes to it.
    private func queue(_ write: QueuedWrite) async -> Turn {
        await withCheckedContinuation { continuation in
            let leadsNow = state.withLock { state in
                guard state.leading else {
                    state.leading = true
                    return true
                }
                write.continuation = continuation
                state.waiting.append(write)
                return false
            }
            if leadsNow { continuation.resume(returning: .lead) }
        }
    }

    /// Runs `own` with whatever queued, wakes the others, then passes the lead on (or lets it go).
    private func lead(with own: QueuedWrite) {
        var batch = [own]
        run(&batch)
        let next = state.withLock { state -> QueuedWrite? in
            guard !state.waiting.isEmpty else {
                state.leading = false
                return nil
            }
            return state.waiting.removeFirst()
        }
        for write in batch.dropFirst() { write.continuation!.resume(returning: .done) }
        next?.continuation!.resume(returning: .lead)
    }

    /// Moves queued writes into `batch`, up to the limit; returns whether it moved any.
    private func takeQueued(into batch: inout [QueuedWrite]) -> Bool {
        let room = Self.batchLimit - batch.count
        guard room > 0 else { return false }
        let taken = state.withLock { state -> [QueuedWrite] in
            let taken = Array(state.waiting.prefix(room))
            state.waiting.removeFirst(taken.count)
            return taken
        }
        batch += taken
        return !taken.isEmpty
    }

    /// Runs the batch on the writer connection, on this thread, and sets every write's outcome.
    /// Writes that queue while the transaction runs join it before it commits (up to the limit),
    /// so a commit waits only for useful work. A body's failure undoes that body only (see
    /// ``runTransaction(_:from:_:)``); a failure that ends the whole transaction (SQLite rolls back
    /// by itself on a full disk or an I/O error) fails the writes already run in it, and the rest
    /// start a new one.
    private func run(_ batch: inout [QueuedWrite]) {
        do {
            try writer.writeWithoutTransaction { db in
                var index = 0
                while index < batch.count {
                    index = try runTransaction(&batch, from: index, db)
                }
            }
        } catch {
            // The writer itself failed (closed, or BEGIN failed): whoever has no outcome yet fails.
            for write in batch where write.outcome == nil { write.outcome = .failed(error) }
        }
    }

    /// One transaction from `batch[start]`, taking later writes as they queue, until it commits
    /// or ends; returns the index of the first write it did not take.
    ///
    /// The bodies run without savepoints until one throws. The first needs none: if it fails,
    /// the transaction holds nothing else and rolls back whole. A later one that throws has no
    /// savepoint to undo its own statements, so the transaction rolls back and runs again from
    /// `batch[start]` (the same writes, in the same order), this time each body in a savepoint.
    private func runTransaction(_ batch: inout [QueuedWrite], from start: Int, _ db: GRDB.Database) throws -> Int {
        try db.cachedStatement(sql: "BEGIN IMMEDIATE").execute()
        var ran: [(QueuedWrite, [@Sendable () -> Void])] = []
        var index = start
        var guarded = false
        while index < batch.count || takeQueued(into: &batch) {
            let write = batch[index]
            index += 1
            if !guarded {
                do {
                    ran.append((write, try write.run(db)))
                } catch where ran.isEmpty {
                    write.outcome = .failed(error)
                    rollBack(db)
                    return index
                } catch {
                    // Its statements cannot be undone alone: run the batch again, each body guarded.
                    rollBack(db)
                    ran.removeAll()
                    guarded = true
                    index = start
                    try db.cachedStatement(sql: "BEGIN IMMEDIATE").execute()
                }
                continue
            }
            try db.cachedStatement(sql: "SAVEPOINT write").execute()
            do {
                let actions = try write.run(db)
                try db.cachedStatement(sql: "RELEASE write").execute()
                ran.append((write, actions))
            } catch {
                write.outcome = .failed(error)
                if db.isInsideTransaction, (try? rollBackSavepoint(db)) != nil { continue }
                // SQLite ended the transaction (or it cannot be trusted): the earlier writes in it are gone.
                rollBack(db)
                let lost = Self.rolledBack(by: error)
                for (earlier, _) in ran { earlier.outcome = .failed(lost) }
                return index
            }
        }
        do {
            try db.cachedStatement(sql: "COMMIT").execute()
        } catch {
            rollBack(db)
            for (write, _) in ran { write.outcome = .failed(error) }
            return index
        }
        for (write, actions) in ran { write.outcome = .committed(actions) }
        committedTransactions.add(1, ordering: .relaxed)
        committedWrites.add(ran.count, ordering: .relaxed)
        return index
    }

    /// Rolls back the open transaction, unless SQLite already ended it (it rolls back by itself
    /// on a full disk or an I/O error).
    private func rollBack(_ db: GRDB.Database) {
        if db.isInsideTransaction { try? db.cachedStatement(sql: "ROLLBACK").execute() }
    }

    private func rollBackSavepoint(_ db: GRDB.Database) throws {
        try db.cachedStatement(sql: "ROLLBACK TO write").execute()
        try db.cachedStatement(sql: "RELEASE write").execute()
    }

    /// What a write that had run without error gets when a later body's failure ended the
    /// transaction holding it: that failure if it came from the database, else a plain line.
    private static func rolledBack(by error: any Error) -> any Error {
        if error is StorageError || error is DatabaseError { return error }
        return StorageError(code: .engine, message: "the database rolled the transaction back: nothing was written; try again")
    }
}

/// A write waiting for, or run by, a leader. Its fields are set by the one thread that runs it
/// (the leader) before that thread resumes the caller, and read by the caller after it resumed or
/// after it led: the continuation orders the two, hence `@unchecked Sendable`.
class QueuedWrite: @unchecked Sendable {
    var continuation: CheckedContinuation<Turn, Never>?
    var outcome: Outcome?

    enum Outcome {
        case committed([@Sendable () -> Void])
        case failed(any Error)
    }

    /// Runs the body in the open transaction; returns its after-commit actions.
    func run(_ db: GRDB.Database) throws -> [@Sendable () -> Void] { preconditionFailure("run is overridden") }
}

/// Why a queued caller was resumed.
enum Turn: Sendable {
    /// A leader ran the write: its outcome is set.
    case done
    /// The caller leads now.
    case lead
}

private final class TypedWrite<T>: QueuedWrite, @unchecked Sendable {
    private let path: String
    private let body: @Sendable (SQLiteTransaction) throws -> T
    var value: T?

    init(path: String, body: @escaping @Sendable (SQLiteTransaction) throws -> T) {
        self.path = path
        self.body = body
    }

    override func run(_ db: GRDB.Database) throws -> [@Sendable () -> Void] {
        let tx = SQLiteTransaction(db, path: path)
        value = try body(tx)
        return tx.commitActions
    }
}

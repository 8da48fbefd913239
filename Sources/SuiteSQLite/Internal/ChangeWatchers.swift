import Foundation
internal import GRDB
internal import GRDBSQLite
import Synchronization

/// Read-only connections that never write, so that their `PRAGMA data_version` changes whenever
/// any other connection or process commits: the basis of ``SQLiteDatabase/changeCounter()``.
///
/// One connection serialised every caller (a `DatabaseQueue` is a serial dispatch queue, and a
/// caller that finds it busy blocks a thread of the cooperative pool). Several connections each
/// have their own `data_version`, so their values cannot be compared with one another; each
/// remembers the value it last saw, and any change bumps one shared, monotonic epoch, which is
/// what callers get. A read that starts after a commit finds its connection's value changed
/// (or that connection already bumped the epoch after that commit), so it always returns an epoch
/// newer than any returned before the commit.
final class ChangeWatchers: Sendable {
    /// One read-only SQLite connection with `PRAGMA data_version` prepared once. It is used only
    /// under its `lastSeen` lock, so the C handles are never touched by two threads at once (the
    /// connection is opened with `SQLITE_OPEN_NOMUTEX` for that reason). Calling SQLite directly
    /// rather than through a GRDB `DatabaseQueue` saves a dispatch-queue hop and a row decoding
    /// per verification: this read is the whole cost of a cached verification.
    private final class Watcher: @unchecked Sendable {
        private let connection: OpaquePointer
        private let statement: OpaquePointer
        /// The `data_version` this connection showed last; nil before its first read.
        let lastSeen = Mutex<Int64?>(nil)
        /// Set (under the lock) when the connection is closed; a closed watcher refuses to read.
        private let closed = Atomic<Bool>(false)

        init(path: String, busyTimeout: TimeInterval) throws {
            var handle: OpaquePointer?
            let flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX
            guard sqlite3_open_v2(path, &handle, flags, nil) == SQLITE_OK, let handle else {
                let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
                sqlite3_close(handle)
                throw DatabaseError(message: "cannot open a change watcher on \(path): \(message)")
            }
            sqlite3_busy_timeout(handle, Int32(clamping: Int((busyTimeout * 1_000).rounded())))
            var prepared: OpaquePointer?
            guard sqlite3_prepare_v2(handle, "PRAGMA data_version", -1, &prepared, nil) == SQLITE_OK, let prepared else {
                let message = String(cString: sqlite3_errmsg(handle))
                sqlite3_close(handle)
                throw DatabaseError(message: "cannot prepare PRAGMA data_version: \(message)")
            }
            connection = handle
            statement = prepared
        }

        /// The connection's `data_version`; call only while holding `lastSeen`'s lock.
        func dataVersion() throws -> Int64 {
            guard !closed.load(ordering: .relaxed) else { throw DatabaseError(resultCode: .SQLITE_MISUSE, message: "the database is closed") }
            defer { sqlite3_reset(statement) }
            let code = sqlite3_step(statement)
            guard code == SQLITE_ROW else {
                throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(connection)))
            }
            return sqlite3_column_int64(statement, 0)
        }

        func close() {
            lastSeen.withLock { _ in
                guard !closed.exchange(true, ordering: .relaxed) else { return }
                sqlite3_finalize(statement)
                sqlite3_close_v2(connection)
            }
        }
    }

    private let watchers: [Watcher]
    private let epoch = Atomic<Int64>(0)
    private let next = Atomic<Int>(0)

    init(path: String, count: Int, busyTimeout: TimeInterval) throws {
        watchers = try (0..<max(1, count)).map { _ in try Watcher(path: path, busyTimeout: busyTimeout) }
    }

    /// The current epoch: different from every epoch returned before the latest commit.
    func current() throws -> Int64 {
        let start = next.wrappingAdd(1, ordering: .relaxed).oldValue & Int.max
        for offset in 0..<watchers.count {
            let watcher = watchers[(start &+ offset) % watchers.count]
            if let epoch = try watcher.lastSeen.withLockIfAvailable({ lastSeen in try read(watcher, &lastSeen) }) {
                return epoch
            }
        }
        // Every connection is busy: wait for one.
        let watcher = watchers[start % watchers.count]
        return try watcher.lastSeen.withLock { lastSeen in try read(watcher, &lastSeen) }
    }

    func close() throws {
        for watcher in watchers { watcher.close() }
    }

    private func read(_ watcher: Watcher, _ lastSeen: inout Int64?) throws -> Int64 {
        let version = try watcher.dataVersion()
        if version != lastSeen {
            lastSeen = version
            epoch.wrappingAdd(1, ordering: .sequentiallyConsistent)
        }
        return epoch.load(ordering: .sequentiallyConsistent)
    }
}

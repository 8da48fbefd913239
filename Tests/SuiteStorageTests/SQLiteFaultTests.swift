import SuiteCore
import Foundation
import SuiteSQLite
import SuiteStorage
import SuiteTestSupport
import Testing

/// Timed and mounting filesystems: run after the rest of the tests (scripts/test.sh runs suites
/// named …FaultTests alone).
@Suite struct SQLiteFaultTests {
    @Test func aWriteLockHeldPastTheBusyTimeoutFailsAsBusyAndWritesNothing() async throws {
        try await withFolder { folder in
            let path = "\(folder)/d.sqlite"
            let database = try SQLiteDatabase(path: path, busyTimeout: 0.3)
            try await database.write { tx in try tx.execute("CREATE TABLE t (x INTEGER)") }
            // Another connection (as another process would) takes the write lock and keeps it.
            let holder = try SQLiteDatabase(path: path)
            let held = await HeldTransaction(on: holder, "INSERT INTO t (x) VALUES (1)")
            let started = ContinuousClock.now
            let error = await #expect(throws: StorageError.self) {
                try await database.write { tx in try tx.execute("INSERT INTO t (x) VALUES (2)") }
            }
            #expect(ContinuousClock.now - started < .seconds(5))
            #expect(error?.code == .busy)
            #expect(error?.description.hasPrefix("the database is busy") == true, "\(String(describing: error))")
            try await held.finish()
            #expect(try await database.read { tx in try tx.queryInt64("SELECT count(*) FROM t WHERE x = 2") } == 0)
            // Once the lock is free, writes go through.
            try await database.write { tx in try tx.execute("INSERT INTO t (x) VALUES (3)") }
            try await holder.close()
            try await database.close()
        }
    }

    @Test func aFileThatIsNotADatabaseIsRefusedWithAClearLine() async throws {
        try await withFolder { folder in
            let path = "\(folder)/notes.txt"
            try Data("these are not the pages you are looking for\n".utf8).write(to: URL(fileURLWithPath: path))
            let error = #expect(throws: StorageError.self) { try SQLiteDatabase(path: path) }
            #expect(error?.code == .unavailable)
            #expect(error?.description == "\(path) is not a SQLite database")
        }
    }

    @Test func aReadOnlyFilesystemRefusesWritesWithAClearLineAndKeepsTheData() async throws {
        let filesystem = try SmallFilesystem(kilobytes: 4_096)
        defer { filesystem.remove() }
        let path = "\(filesystem.path)/d.sqlite"
        let database = try SQLiteDatabase(path: path)
        try await database.write { tx in try tx.execute("CREATE TABLE t (x INTEGER)") }
        try await database.write { tx in try tx.execute("INSERT INTO t (x) VALUES (1)") }
        try await database.close()
        try filesystem.remount(readOnly: true)
        // Opening for writing on a read-only mount fails, or the first write does: either way a clear line.
        do {
            let readOnly = try SQLiteDatabase(path: path)
            let error = await #expect(throws: StorageError.self) {
                try await readOnly.write { tx in try tx.execute("INSERT INTO t (x) VALUES (2)") }
            }
            #expect(error?.code == .readOnly || error?.code == .unavailable)
            #expect(error?.description.contains(path) == true, "\(String(describing: error))")
            try? await readOnly.close()
        } catch let error as StorageError {
            #expect(error.code == .readOnly || error.code == .unavailable)
            #expect(error.description.contains(path), "\(error)")
            #expect(!error.description.contains("SQLITE") && !error.description.contains("Error("), "\(error)")
        }
        try filesystem.remount(readOnly: false)
        let reopened = try SQLiteDatabase(path: path)
        #expect(try await reopened.read { tx in try tx.queryInt64("SELECT count(*) FROM t") } == 1)
        try await reopened.close()
    }

    @Test func aFullDiskFailsTheWriteWholeAndTheFileRecoversOnceSpaceIsFreed() async throws {
        let filesystem = try SmallFilesystem(kilobytes: 1_024)
        defer { filesystem.remove() }
        let path = "\(filesystem.path)/d.sqlite"
        let database = try SQLiteDatabase(path: path)
        try await database.write { tx in
            try tx.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, payload BLOB NOT NULL)")
            try tx.execute("CREATE TABLE audit (t_id INTEGER NOT NULL)")
        }
        // Leave little room: a filler file takes most of what is free.
        let filler = "\(filesystem.path)/filler"
        try Data(repeating: 7, count: 640 * 1_024).write(to: URL(fileURLWithPath: filler))
        var written = 0
        var failure: StorageError?
        while failure == nil && written < 10_000 {
            do {
                try await database.write { tx in
                    let id = try tx.insertReturningID("INSERT INTO t (payload) VALUES (\(SQLValue.blob([UInt8](repeating: 1, count: 8_000))))")
                    try tx.execute("INSERT INTO audit (t_id) VALUES (\(id))")
                }
                written += 1
            } catch let error as StorageError {
                failure = error
            }
        }
        let error = try #require(failure)
        #expect(error.code == .diskFull, "\(error.debugDescription)")
        #expect(error.description == "the disk holding the SQLite database at \(path) is full: the transaction was rolled back")
        #expect(written > 0)
        // Free the space: the same process writes again, and every committed row has its audit row.
        try FileManager.default.removeItem(atPath: filler)
        try await database.write { tx in
            let id = try tx.insertReturningID("INSERT INTO t (payload) VALUES (\(SQLValue.blob([1])))")
            try tx.execute("INSERT INTO audit (t_id) VALUES (\(id))")
        }
        try await database.close()
        let reopened = try SQLiteDatabase(path: path)
        let (rows, audited, check) = try await reopened.read { tx in
            (try tx.queryInt64("SELECT count(*) FROM t"), try tx.queryInt64("SELECT count(*) FROM audit"),
             try tx.queryFirst("PRAGMA integrity_check")?.string("integrity_check"))
        }
        #expect(rows == Int64(written + 1) && audited == rows)
        #expect(check == "ok")
        try await reopened.close()
    }
}

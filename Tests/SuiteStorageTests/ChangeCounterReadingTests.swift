import Foundation
import SuiteSQLite
import SuiteStorage
import Testing

/// `ChangeCounterReading`: one counter reading per unit of work, dropped by the unit's own write.
@Suite struct ChangeCounterReadingTests {
    @Test func aUnitOfWorkReadsTheCounterOnceAndAgainAfterItsOwnWrite() async throws {
        try await withFolder { folder in
            let database = try SQLiteDatabase(path: "\(folder)/d.sqlite"), other = try SQLiteDatabase(path: "\(folder)/d.sqlite")
            try await database.write { tx in try tx.execute("CREATE TABLE t (x INTEGER)") }
            try await ChangeCounterReading.sharing {
                let first = try #require(try database.changeCounter())
                // A commit elsewhere (another connection, outside this unit of work) is not seen
                // inside the unit of work…
                try await Task.detached { try await other.write { tx in try tx.execute("INSERT INTO t (x) VALUES (1)") } }.value
                #expect(try database.changeCounter() == first)
                // …but its own write is: the reading is dropped and the next call reads again.
                try await database.write { tx in try tx.execute("INSERT INTO t (x) VALUES (2)") }
                let afterOwnWrite = try #require(try database.changeCounter())
                #expect(afterOwnWrite != first)
                #expect(try database.changeCounter() == afterOwnWrite)
            }
            // Outside a unit of work every call reads: another connection's commit shows at once.
            let before = try database.changeCounter()
            try await other.write { tx in try tx.execute("INSERT INTO t (x) VALUES (3)") }
            #expect(try database.changeCounter() != before)
            // Each unit of work takes its own reading.
            let seen = try await ChangeCounterReading.sharing { try database.changeCounter() }
            try await other.write { tx in try tx.execute("INSERT INTO t (x) VALUES (4)") }
            #expect(try await ChangeCounterReading.sharing { try database.changeCounter() } != seen)
            try await other.close()
            try await database.close()
        }
    }

    @Test func aReadingIsKeptForOneDatabaseOnly() async throws {
        try await withFolder { folder in
            let one = try SQLiteDatabase(path: "\(folder)/one.sqlite"), two = try SQLiteDatabase(path: "\(folder)/two.sqlite")
            try await two.write { tx in try tx.execute("CREATE TABLE t (x INTEGER)") }
            try await ChangeCounterReading.sharing {
                let kept = try one.changeCounter()
                // The second database is read on every call, never given the first one's reading:
                // a commit there (outside this unit of work) shows on the next call.
                let before = try two.changeCounter()
                try await Task.detached { try await two.write { tx in try tx.execute("INSERT INTO t (x) VALUES (1)") } }.value
                #expect(try two.changeCounter() != before)
                #expect(try one.changeCounter() == kept)
            }
            try await one.close()
            try await two.close()
        }
    }
}

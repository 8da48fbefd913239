import Foundation
import SuiteCore
import SuiteStorage
import SuiteTestSupport
import Synchronization
import Testing

@Suite struct SQLRenderingTests {
    @Test func interpolatedValuesBecomeNumberedPlaceholdersOnPostgresAndQuestionMarksOnSQLite() {
        let name = "O'Brien; DROP TABLE x"
        let sql: SQL = "SELECT * FROM t WHERE name = \(name) AND n > \(3) AND \(raw: "flag") = \(true)"
        let postgres = sql.rendered(for: .postgres)
        let sqlite = sql.rendered(for: .sqlite)
        #expect(postgres.text == "SELECT * FROM t WHERE name = $1 AND n > $2 AND flag = $3")
        #expect(sqlite.text == "SELECT * FROM t WHERE name = ? AND n > ? AND flag = ?")
        #expect(postgres.bindings == [.text(name), .int(3), .int(1)])
        #expect(!postgres.text.contains("O'Brien"))
    }

    @Test func nestedFragmentsKeepTheirParametersInOrder() {
        let conditions: [SQL] = ["a = \(1)", "b = \("x")"]
        let sql: SQL = "SELECT 1 WHERE \(SQL.joined(conditions, separator: " AND ")) LIMIT \(5)"
        let rendered = sql.rendered(for: .postgres)
        #expect(rendered.text == "SELECT 1 WHERE a = $1 AND b = $2 LIMIT $3")
        #expect(rendered.bindings == [.int(1), .text("x"), .int(5)])
    }
}

@Suite struct DatabaseTests {
    static let scratch = ModuleSchema(module: "scratch", migrations: [
        Migration(version: 1, name: "items") { dialect in
            ["CREATE TABLE scratch_items (id \(raw: dialect.autoIncrementPrimaryKey), name TEXT NOT NULL UNIQUE, n BIGINT NOT NULL)"]
        },
        Migration(version: 2, name: "blob column") { dialect in
            ["ALTER TABLE scratch_items ADD COLUMN payload \(raw: dialect.blobType)"]
        },
    ])

    @Test(arguments: Engine.allCases)
    func installingTwiceAppliesEachMigrationOnceAndRecordsTheVersion(engine: Engine) async throws {
        try await engine.withDatabase { db in
            let first = try await SchemaInstaller.install([Self.scratch], on: db)
            let second = try await SchemaInstaller.install([Self.scratch], on: db)
            #expect(first[0].appliedVersions == [1, 2])
            #expect(second[0].appliedVersions == [])
            #expect(second[0].version == 2)
            let installed = try await SchemaInstaller.installedModules(on: db)
            #expect(installed.map(\.module) == ["scratch"])
            #expect(installed.first?.version == 2)
        }
    }

    @Test(arguments: Engine.allCases)
    func concurrentInstallersDoNotCollide(engine: Engine) async throws {
        try await engine.withDatabase(inMemory: false) { db in
            let reports = try await withThrowingTaskGroup(of: [InstallReport].self) { group in
                for _ in 0..<4 { group.addTask { try await SchemaInstaller.install([Self.scratch], on: db) } }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            #expect(reports.flatMap(\.appliedVersions).sorted() == [1, 2])
        }
    }

    /// Point reads run on the calling thread; async reads hold a pool reader until a Swift
    /// concurrency thread resumes them. If point reads waited for the pool's readers, a burst of
    /// both could block every such thread and deadlock (16 HTTP requests on 2 cores did). Many
    /// of both at once, over and over, all finish.
    @Test(.timeLimit(.minutes(1)), arguments: Engine.allCases)
    func pointReadsAndAsyncReadsTogetherNeverDeadlock(engine: Engine) async throws {
        // A deadlock leaves no thread to run Swift Testing's time limit: a plain thread ends the
        // process with a message instead of letting the run hang.
        let finished = Atomic<Bool>(false)
        Thread.detachNewThread {
            Thread.sleep(forTimeInterval: 60)
            if !finished.load(ordering: .relaxed) {
                FileHandle.standardError.write(Data("point reads and async reads deadlocked (\(engine))\n".utf8))
                exit(1)
            }
        }
        defer { finished.store(true, ordering: .relaxed) }
        try await engine.withDatabase(inMemory: false) { db in
            try await SchemaInstaller.install([Self.scratch], on: db)
            try await db.write { tx in try tx.execute("INSERT INTO scratch_items (name, n) VALUES (\("a"), \(1))") }
            for _ in 0..<20 {
                let total = try await withThrowingTaskGroup(of: Int64.self) { group in
                    for index in 0..<64 {
                        group.addTask {
                            let read: @Sendable (any Transaction) throws -> Int64 = { tx in
                                try tx.queryInt64("SELECT n FROM scratch_items WHERE name = \("a")") ?? 0
                            }
                            return index.isMultiple(of: 2) ? try await db.read(read) : try await db.pointRead(read)
                        }
                    }
                    return try await group.reduce(0, +)
                }
                #expect(total == 64)
            }
        }
    }

    /// PostgreSQL cannot store U+0000 in text, so no engine does: the same typed error on both,
    /// before the statement runs, in a read or a write, and the transaction writes nothing.
    @Test(arguments: Engine.allCases)
    func textWithTheNULCharacterIsRefusedAlikeOnEveryEngine(engine: Engine) async throws {
        try await engine.withDatabase { db in
            try await SchemaInstaller.install([Self.scratch], on: db)
            let refused = await #expect(throws: StorageError.self) {
                try await db.write { tx in
                    try tx.execute("INSERT INTO scratch_items (name, n) VALUES (\("fine"), \(1))")
                    try tx.execute("INSERT INTO scratch_items (name, n) VALUES (\("a\u{0}b"), \(2))")
                }
            }
            #expect(refused?.code == .invalidText && refused?.description.contains("NUL") == true)
            let lookup = await #expect(throws: StorageError.self) {
                try await db.read { tx in try tx.queryInt64("SELECT count(*) FROM scratch_items WHERE name = \("\u{0}")") }
            }
            #expect(lookup?.code == .invalidText)
            #expect(try await db.read { tx in try tx.queryInt64("SELECT count(*) FROM scratch_items") } == 0)
        }
    }

    @Test(arguments: Engine.allCases)
    func aThrowingWriteRollsBackEverythingAndSkipsCommitActions(engine: Engine) async throws {
        struct Boom: Error {}
        try await engine.withDatabase { db in
            try await SchemaInstaller.install([Self.scratch], on: db)
            let fired = Flag()
            await #expect(throws: Boom.self) {
                try await db.write { tx in
                    try tx.execute("INSERT INTO scratch_items (name, n) VALUES (\("a"), \(1))")
                    tx.afterCommit { fired.set() }
                    throw Boom()
                }
            }
            let count = try await db.read { tx in try tx.queryInt64("SELECT count(*) FROM scratch_items") }
            #expect(count == 0)
            #expect(!fired.isSet)
            try await db.write { tx in
                try tx.execute("INSERT INTO scratch_items (name, n) VALUES (\("a"), \(1))")
                tx.afterCommit { fired.set() }
            }
            #expect(fired.isSet)
        }
    }

    @Test(arguments: Engine.allCases)
    func pipelinedQueriesRunInOrderAndReturnEachOnesRows(engine: Engine) async throws {
        try await engine.withDatabase { db in
            try await SchemaInstaller.install([Self.scratch], on: db)
            let results = try await db.write { tx in
                try tx.queryPipelined([
                    "INSERT INTO scratch_items (name, n) VALUES (\("a"), \(1)) RETURNING n",
                    "UPDATE scratch_items SET n = n + \(10) WHERE name = \("a") RETURNING n",
                    "UPDATE scratch_items SET n = n + \(10) WHERE name = \("missing") RETURNING n",
                    "SELECT name, n FROM scratch_items ORDER BY name",
                ])
            }
            #expect(results.count == 4)
            #expect(try results[0].first?.int64("n") == 1)
            #expect(try results[1].first?.int64("n") == 11)  // it saw the insert before it
            #expect(results[2].isEmpty)
            #expect(try results[3].map { try $0.string("name") } == ["a"])
        }
    }

    @Test(arguments: Engine.allCases)
    func aFailingPipelinedQueryFailsTheTransactionAndWritesNothing(engine: Engine) async throws {
        try await engine.withDatabase { db in
            try await SchemaInstaller.install([Self.scratch], on: db)
            let error = await #expect(throws: StorageError.self) {
                try await db.write { tx in
                    _ = try tx.queryPipelined([
                        "INSERT INTO scratch_items (name, n) VALUES (\("a"), \(1)) RETURNING n",
                        "INSERT INTO scratch_items (name, n) VALUES (\("a"), \(2)) RETURNING n",
                        "INSERT INTO scratch_items (name, n) VALUES (\("b"), \(3)) RETURNING n",
                    ])
                }
            }
            #expect(error?.code == .uniqueViolation)
            #expect(try await db.read { tx in try tx.queryInt64("SELECT count(*) FROM scratch_items") } == 0)
        }
    }

    /// A deferred statement's error comes back from the next statement waited for — the real
    /// error, not "the transaction is aborted" — or from the commit, and nothing is written.
    @Test(arguments: Engine.allCases)
    func aDeferredStatementsErrorFailsTheTransactionAtTheNextStatementOrTheCommit(engine: Engine) async throws {
        try await engine.withDatabase { db in
            try await SchemaInstaller.install([Self.scratch], on: db)
            try await db.write { tx in try tx.execute("INSERT INTO scratch_items (name, n) VALUES (\("taken"), \(0))") }

            let atNext = await #expect(throws: StorageError.self) {
                try await db.write { tx in
                    try tx.executeDeferred("INSERT INTO scratch_items (name, n) VALUES (\("x"), \(1))")
                    try tx.executeDeferred("INSERT INTO scratch_items (name, n) VALUES (\("taken"), \(2))")
                    _ = try tx.query("SELECT n FROM scratch_items")
                    Issue.record("the statement after a failed deferred one returned")
                }
            }
            #expect(atNext?.code == .uniqueViolation)

            let fired = Flag()
            let atCommit = await #expect(throws: StorageError.self) {
                try await db.write { tx in
                    try tx.executeDeferred("INSERT INTO scratch_items (name, n) VALUES (\("y"), \(1))")
                    try tx.executeDeferred("INSERT INTO scratch_items (name, n) VALUES (\("taken"), \(2))")
                    tx.afterCommit { fired.set() }
                }
            }
            #expect(atCommit?.code == .uniqueViolation)
            #expect(!fired.isSet)
            let names = try await db.read { tx in try tx.query("SELECT name FROM scratch_items ORDER BY name").map { try $0.string("name") } }
            #expect(names == ["taken"])

            // And a deferred statement that succeeds is committed with the rest.
            try await db.write { tx in
                try tx.executeDeferred("INSERT INTO scratch_items (name, n) VALUES (\("z"), \(1))")
                try tx.execute("UPDATE scratch_items SET n = n + 1 WHERE name = \("z")")
            }
            #expect(try await db.read { tx in try tx.queryInt64("SELECT n FROM scratch_items WHERE name = \("z")") } == 2)
        }
    }

    @Test(arguments: Engine.allCases)
    func valuesRoundTripWithTheirTypes(engine: Engine) async throws {
        try await engine.withDatabase { db in
            try await SchemaInstaller.install([Self.scratch], on: db)
            let bytes: [UInt8] = [0, 1, 2, 254, 255]
            let name = "üñíçødé \u{1F600} ' \" \\"
            let row = try await db.write { tx in
                try tx.queryFirst("""
                    INSERT INTO scratch_items (name, n, payload) VALUES (\(name), \(Int64.max), \(SQLValue.blob(bytes)))
                    RETURNING name, n, payload
                    """)
            }
            #expect(try row?.string("name") == name)
            #expect(try row?.int64("n") == Int64.max)
            #expect(try row?.blob("payload") == bytes)
        }
    }

    @Test(arguments: Engine.allCases)
    func insertReturningIDGivesEachNewRowsOwnID(engine: Engine) async throws {
        try await engine.withDatabase { db in
            try await SchemaInstaller.install([Self.scratch], on: db)
            let ids = try await db.write { tx in
                try (0..<3).map { try tx.insertReturningID("INSERT INTO scratch_items (name, n) VALUES (\("r\($0)"), \($0))") }
            }
            #expect(Set(ids).count == 3)
            for (index, id) in ids.enumerated() {
                let name = try await db.read { tx in try tx.queryFirst("SELECT name FROM scratch_items WHERE id = \(id)")?.string("name") }
                #expect(name == "r\(index)")
            }
        }
    }

    /// An insert that meets its conflict gives nil, not the id of an earlier insert (which is
    /// what SQLite's last inserted row id would still say).
    @Test(arguments: Engine.allCases)
    func anInsertThatMayInsertNothingGivesItsNewRowsIDOrNil(engine: Engine) async throws {
        try await engine.withDatabase { db in
            try await SchemaInstaller.install([Self.scratch], on: db)
            let (first, repeated, second) = try await db.write { tx in
                let insert: (String, Int) throws -> Int64? = { name, n in
                    try tx.insertReturningIDIfInserted("INSERT INTO scratch_items (name, n) VALUES (\(name), \(n)) ON CONFLICT (name) DO NOTHING")
                }
                return (try insert("a", 1), try insert("a", 2), try insert("b", 3))
            }
            #expect(first != nil && second != nil && first != second)
            #expect(repeated == nil)
            let rows = try await db.read { tx in try tx.query("SELECT id, name, n FROM scratch_items ORDER BY name") }
            #expect(try rows.map { try $0.string("name") } == ["a", "b"])
            #expect(try rows.map { try $0.int64("n") } == [1, 3])
            #expect(try rows.map { try $0.int64("id") } == [first, second].compactMap { $0 })
        }
    }

    @Test(arguments: Engine.allCases)
    func aUniqueViolationIsATypedErrorNamingTheColumnOrConstraint(engine: Engine) async throws {
        try await engine.withDatabase { db in
            try await SchemaInstaller.install([Self.scratch], on: db)
            try await db.write { tx in try tx.execute("INSERT INTO scratch_items (name, n) VALUES (\("dup"), \(1))") }
            do {
                try await db.write { tx in try tx.execute("INSERT INTO scratch_items (name, n) VALUES (\("dup"), \(2))") }
                Issue.record("expected a unique violation")
            } catch let error as StorageError {
                #expect(error.code == .uniqueViolation)
                #expect(error.isUniqueViolation(mentioning: "name"))
                #expect(!error.description.contains("INSERT"))
            }
        }
    }

    @Test(arguments: Engine.allCases)
    func aModuleThatIsNotInstalledIsRefusedWithAnInstructiveMessage(engine: Engine) async throws {
        try await engine.withDatabase { db in
            do {
                try await db.write { tx in try SchemaInstaller.requireInstalled(Self.scratch, in: tx) }
                Issue.record("expected an error")
            } catch let error as StorageError {
                #expect(error.description.contains("dock install scratch"))
            }
        }
    }
}

/// A thread-safe one-shot flag for commit-action tests.
final class Flag: Sendable {
    private let state = Mutex(false)
    func set() { state.withLock { $0 = true } }
    var isSet: Bool { state.withLock { $0 } }
}

@Suite struct CivilDateTests {
    @Test func dayNumbersRoundTripAcrossCenturiesAndLeapYears() {
        for day in stride(from: Int64(-800_000), through: 800_000, by: 997) {
            #expect(CivilDate(dayNumber: day).dayNumber == day)
        }
        #expect(CivilDate(year: 1970, month: 1, day: 1).dayNumber == 0)
        #expect(CivilDate(year: 2000, month: 2, day: 29).description == "2000-02-29")
        #expect(CivilDate(parsing: "2023-02-29") == nil)
        #expect(CivilDate(parsing: "2024-02-29")?.dayNumber == CivilDate(year: 2024, month: 3, day: 1).dayNumber - 1)
    }

    @Test func bucketLabelsCoverTheRangeWithoutGaps() {
        let start = CivilDate(year: 2023, month: 11, day: 30), end = CivilDate(year: 2024, month: 2, day: 2)
        #expect(CivilDate.bucketLabels(from: start, to: end, interval: .monthly) == ["2023-11", "2023-12", "2024-01", "2024-02"])
        #expect(CivilDate.bucketLabels(from: start, to: end, interval: .yearly) == ["2023", "2024"])
        #expect(CivilDate.bucketLabels(from: start, to: end, interval: .daily).count == 65)
    }

    @Test func refidsHaveTheirPrefixAtLeast128RandomBitsAndAreWellFormed() {
        var seen = Set<String>()
        for _ in 0..<2_000 {
            let refid = Refid.generate(prefix: "CL-")
            #expect(Refid.isWellFormed(refid.rawValue, prefix: "CL-"))
            seen.insert(refid.rawValue)
        }
        #expect(seen.count == 2_000)
        #expect(Refid.randomLength * 5 >= 128)
        #expect(!Refid.isWellFormed("CL-123", prefix: "CL-"))
    }
}

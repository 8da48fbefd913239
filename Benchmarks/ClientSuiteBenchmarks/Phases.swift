import Ally
import Client
import Forge
import Foundation
import GRDB
import GRDBSQLite
import Suite
import Synchronization
import SuiteCore
import SuiteSQLite
import SuiteStorage
import Wave

/// The phases the PHP packages were measured on (issue 15), in the order they run: each one uses
/// what the phases before it made.
enum Phase: String, CaseIterable, Sendable {
    case clientCreate = "client create"
    case clientActivate = "client activate"
    case licenceMint = "licence mint"
    case licenceVerify = "licence verify, each key once"
    case licenceActivate = "licence activate"
    case resellerProvision = "reseller provision"
    case invoiceCreate = "invoice create"
    case invoicePay = "invoice pay from wallet"

    /// The PHP packages' operations per second (PHP 8.2 CLI, the same system SQLite, WAL, a file;
    /// N = 10,000, one operation per transaction, sequential, median of 3 interleaved runs), at
    /// synchronous NORMAL and FULL, as issue 15 gives them.
    func php(_ durability: SQLiteDatabase.Durability) -> Double {
        switch (self, durability) {
        case (.clientCreate, .normal): 4_742
        case (.clientActivate, .normal): 6_384
        case (.licenceMint, .normal): 4_814
        case (.licenceVerify, .normal): 12_504
        case (.licenceActivate, .normal): 2_891
        case (.resellerProvision, .normal): 1_173
        case (.invoiceCreate, .normal): 626
        case (.invoicePay, .normal): 866
        case (.clientCreate, .full): 3_334
        case (.clientActivate, .full): 3_792
        case (.licenceMint, .full): 3_147
        case (.licenceVerify, .full): 12_015
        case (.licenceActivate, .full): 2_103
        case (.resellerProvision, .full): 1_078
        case (.invoiceCreate, .full): 569
        case (.invoicePay, .full): 761
        }
    }

    /// The target: 2× PHP at NORMAL, 1.5× at FULL; verification reading each key once also needs 60,000/s.
    func target(_ durability: SQLiteDatabase.Durability) -> Double {
        let times = durability == .normal ? 2.0 : 1.5
        let target = php(durability) * times
        return self == .licenceVerify ? max(target, 60_000) : target
    }
}

/// A suite with every module on a new SQLite file at `path`, committing with `durability` (read
/// back from the writing connection), with the product `pro` (100 USD, 365 days) the phases sell.
func suiteOnNewFile(path: String, durability: SQLiteDatabase.Durability) async throws -> (ClientSuite, SQLiteDatabase) {
    let database = try SQLiteDatabase(path: path, durability: durability)
    let inForce = try await database.write { tx in try tx.queryInt64("PRAGMA synchronous").map(Int.init) }
    guard inForce == durability.pragmaValue else {
        throw BenchmarkError(message: "synchronous=\(durability.rawValue) is not in force on \(path)")
    }
    _ = try await SchemaInstaller.install(SuiteModule.closure(of: SuiteModule.allCases).map(\.schema), on: database)
    let suite = ClientSuite(database: database)
    _ = try await suite.products.create(name: "Pro", slug: "pro", price: 100, currency: "USD", licenceDays: 365)
    return (suite, database)
}

/// One round of the phases on a fresh SQLite file through the suite's public API, one operation
/// per transaction, sequential awaits: `count` operations per phase.
struct PhaseRound {
    let suite: ClientSuite
    let database: SQLiteDatabase
    let count: Int

    /// A suite with every module on a new file at `path`, committing with `durability` (read back).
    static func open(path: String, durability: SQLiteDatabase.Durability, count: Int) async throws -> PhaseRound {
        let (suite, database) = try await suiteOnNewFile(path: path, durability: durability)
        return PhaseRound(suite: suite, database: database, count: count)
    }

    /// Runs every phase in order; returns operations per second by phase.
    func run() async throws -> [Phase: Double] {
        let suite = suite, count = count
        let clients = try suite.clients, licences = try suite.licences, allies = try suite.allies
        let invoices = try suite.invoices
        let reseller = try await allies.make().user("bench-reseller").company("Bench").create()
        _ = try await allies.addCredits(reseller.refid, 1_000_000_000_000)
        var rates: [Phase: Double] = [:]

        var created: [Refid] = []
        created.reserveCapacity(count)
        rates[.clientCreate] = try await flushedRate(count) {
            for index in 0..<count {
                created.append(try await clients.make().name("Client \(index)").email("client-\(index)@bench.example").create().refid)
            }
        }
        rates[.clientActivate] = try await flushedRate(count) {
            for refid in created { _ = try await clients.activate(refid) }
        }
        var minted: [MintedLicence] = []
        minted.reserveCapacity(count)
        rates[.licenceMint] = try await flushedRate(count) {
            for _ in 0..<count { minted.append(try await licences.make().product("pro").mint()) }
        }
        var pending = 0
        rates[.licenceVerify] = try await flushedRate(count) {
            for licence in minted where try await licences.verify(licence.key).code == .pending { pending += 1 }
        }
        guard pending == count else { throw BenchmarkError(message: "\(count - pending) of \(count) fresh licences did not verify as pending") }
        rates[.licenceActivate] = try await flushedRate(count) {
            for (licence, client) in zip(minted, created) { _ = try await licences.activate(licence.licence.refid, for: client) }
        }
        rates[.resellerProvision] = try await flushedRate(count) {
            for index in 0..<count {
                _ = try await allies.provision(reseller.refid, cost: 1, action: "seat", idempotencyKey: "provision-\(index)")
            }
        }
        // Invoices for the first 1,000 clients in turn; their wallets are topped up untimed first.
        let payers = Array(created.prefix(1_000))
        var billed: [Refid] = []
        billed.reserveCapacity(count)
        rates[.invoiceCreate] = try await flushedRate(count) {
            for index in 0..<count {
                billed.append(try await invoices.make().for(payers[index % payers.count]).currency("USD").amount(100).create().refid)
            }
        }
        for payer in payers { _ = try await invoices.topUp(payer, amount: 1_000_000_000, currency: "USD") }
        var paid = 0
        rates[.invoicePay] = try await flushedRate(count) {
            for refid in billed {
                if case .paid = try await invoices.attemptPayment(refid) { paid += 1 }
            }
        }
        guard paid == count else { throw BenchmarkError(message: "\(count - paid) of \(count) invoices were not paid from the wallet") }
        return rates
    }

    func close() async throws { try await database.close() }
}

/// The engine's floor for the phases: a single-row insert transaction (`BEGIN`, one `INSERT`,
/// `COMMIT`, prepared once) through SQLite's C API on the same file, with no GRDB, at the
/// durability of the phases (set and read back on this connection).
struct InsertFloor {
    private let connection: OpaquePointer
    private let begin: OpaquePointer, insert: OpaquePointer, commit: OpaquePointer

    init(path: String, durability: SQLiteDatabase.Durability) throws {
        var handle: OpaquePointer?
        guard sqlite3_open_v2(path, &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nil) == SQLITE_OK,
              let handle
        else { throw BenchmarkError(message: "cannot open \(path) for the floor") }
        connection = handle
        sqlite3_busy_timeout(handle, 30_000)
        func run(_ sql: String) throws {
            guard sqlite3_exec(handle, sql, nil, nil, nil) == SQLITE_OK else {
                throw BenchmarkError(message: "floor: \(sql): \(String(cString: sqlite3_errmsg(handle)))")
            }
        }
        try run("PRAGMA journal_mode = WAL")
        try run("PRAGMA synchronous = \(durability.pragmaName)")
        try run("CREATE TABLE IF NOT EXISTS bench_floor (id INTEGER PRIMARY KEY, a INTEGER NOT NULL, b TEXT NOT NULL, c INTEGER NOT NULL)")
        func prepare(_ sql: String) throws -> OpaquePointer {
            var statement: OpaquePointer?
            guard sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil) == SQLITE_OK, let statement else {
                throw BenchmarkError(message: "floor: cannot prepare \(sql)")
            }
            return statement
        }
        var check: OpaquePointer?
        sqlite3_prepare_v2(handle, "PRAGMA synchronous", -1, &check, nil)
        defer { sqlite3_finalize(check) }
        guard sqlite3_step(check) == SQLITE_ROW, Int(sqlite3_column_int64(check, 0)) == durability.pragmaValue else {
            throw BenchmarkError(message: "floor: synchronous=\(durability.rawValue) is not in force")
        }
        begin = try prepare("BEGIN IMMEDIATE")
        insert = try prepare("INSERT INTO bench_floor (a, b, c) VALUES (?, ?, ?)")
        commit = try prepare("COMMIT")
    }

    /// `count` transactions; returns them per second.
    func run(_ count: Int) throws -> Double {
        sync()
        let start = ContinuousClock.now
        for index in 0..<count {
            try step(begin)
            sqlite3_bind_int64(insert, 1, Int64(index))
            sqlite3_bind_text(insert, 2, "floor row", -1, nil)
            sqlite3_bind_int64(insert, 3, Int64(index) &* 31)
            try step(insert)
            try step(commit)
        }
        return Double(count) / (ContinuousClock.now - start).seconds
    }

    private func step(_ statement: OpaquePointer) throws {
        defer { sqlite3_reset(statement) }
        guard sqlite3_step(statement) == SQLITE_DONE else {
            throw BenchmarkError(message: "floor: \(String(cString: sqlite3_errmsg(connection)))")
        }
    }

    func close() {
        for statement in [begin, insert, commit] { sqlite3_finalize(statement) }
        sqlite3_close_v2(connection)
    }
}

/// Verification while the same file takes writes (figure 19): one task verifies `keys` licence keys
/// once each while another activates licences at `activationsPerSecond` through the public API,
/// each activation its own committed transaction. Then the same with a few keys repeated, which the
/// verification cache serves between commits (19c, labelled cached).
struct VerifyUnderWrites {
    struct Result {
        /// Verifications per second, each key read once (the cold path).
        var coldRate: Double
        /// Verifications per second, 100 keys repeated (served by the cache between commits).
        var cachedRate: Double
        /// Activations per second the other task achieved during each of the two.
        var activationRates: (cold: Double, cached: Double)
    }

    let suite: ClientSuite
    let database: SQLiteDatabase

    /// A suite with every module on a new file at `path` (FULL, the default).
    static func open(path: String) async throws -> VerifyUnderWrites {
        let (suite, database) = try await suiteOnNewFile(path: path, durability: .full)
        return VerifyUnderWrites(suite: suite, database: database)
    }

    /// Mints `keys` licences to verify and, for the writer, enough pending licences and active
    /// clients for `seconds` of activations; then measures.
    func run(keys count: Int, activationsPerSecond: Int, cachedCalls: Int) async throws -> Result {
        let clients = try suite.clients, licences = try suite.licences
        // Set up in batches of 1,000 per transaction: untimed.
        var keys: [LicenceKey] = []
        keys.reserveCapacity(count)
        while keys.count < count {
            let batch = min(1_000, count - keys.count)
            keys += try await database.write { tx in try (0..<batch).map { _ in try licences.make().product("pro").mint(in: tx).key } }
        }
        let writes = activationsPerSecond * 20  // more than both timed parts use
        var pairs: [(licence: Refid, client: Refid)] = []
        while pairs.count < writes {
            let batch = min(1_000, writes - pairs.count), offset = pairs.count
            pairs += try await database.write { tx in
                try (0..<batch).map { index in
                    let client = try clients.make().name("Writer \(offset + index)").email("writer-\(offset + index)@bench.example")
                        .create(in: tx).refid
                    _ = try clients.transition(.activate, client, in: tx)
                    return (try licences.make().product("pro").mint(in: tx).licence.refid, client)
                }
            }
        }
        let writer = Writer(licences: licences, pairs: pairs, perSecond: activationsPerSecond)
        let cold = try await writer.during {
            var pending = 0
            let seconds = try await measure {
                for key in keys where try await licences.verify(key).code == .pending { pending += 1 }
            }
            guard pending == count else { throw BenchmarkError(message: "\(count - pending) of \(count) keys did not verify as pending") }
            return Double(count) / seconds
        }
        let hot = Array(keys.prefix(100))
        let cached = try await writer.during {
            Double(cachedCalls) / (try await measure {
                for index in 0..<cachedCalls { _ = try await licences.verify(hot[index % hot.count]) }
            })
        }
        return Result(coldRate: cold.value, cachedRate: cached.value, activationRates: (cold.writes, cached.writes))
    }

    /// Activates `pairs` in order at `perSecond`, each in its own transaction, while a body runs.
    final class Writer: @unchecked Sendable {
        let licences: Licences
        let pairs: [(licence: Refid, client: Refid)]
        let perSecond: Int
        private var next = 0

        init(licences: Licences, pairs: [(licence: Refid, client: Refid)], perSecond: Int) {
            (self.licences, self.pairs, self.perSecond) = (licences, pairs, perSecond)
        }

        /// Runs `body` while activating on schedule; returns its value and the activations per second achieved.
        /// The writer stops at a flag, not by cancellation, so that no activation is cut off half way.
        func during<T: Sendable>(_ body: () async throws -> T) async throws -> (value: T, writes: Double) {
            let start = ContinuousClock.now, stop = Atomic<Bool>(false)
            let writing = Task { [self] in
                var done = 0
                while !stop.load(ordering: .relaxed) && next < pairs.count {
                    let due = start + .microseconds(1_000_000 * (done + 1) / perSecond)
                    if ContinuousClock.now < due { try? await Task.sleep(until: due, clock: .continuous) }
                    if stop.load(ordering: .relaxed) { break }
                    _ = try await licences.activate(pairs[next].licence, for: pairs[next].client)
                    next += 1
                    done += 1
                }
                return done
            }
            let value: T
            do { value = try await body() } catch {
                stop.store(true, ordering: .relaxed)
                _ = try? await writing.value
                throw error
            }
            let elapsed = (ContinuousClock.now - start).seconds
            stop.store(true, ordering: .relaxed)
            return (value, Double(try await writing.value) / elapsed)
        }
    }

    func close() async throws { try await database.close() }
}

/// Diagnostics beside the floor (17w/17s, 18w/18s): the floor's insert transaction through GRDB on
/// the same file, awaited through GRDB's async `write` (a hop to the writer's dispatch queue and
/// back, as every suite write took before group commit) and through its blocking `write` on the
/// calling thread (as a lone suite write runs now). They
/// split a phase's cost between SQLite's work and the way a write reaches the writer connection.
struct GRDBFloors {
    private let pool: DatabasePool

    init(path: String, durability: SQLiteDatabase.Durability) throws {
        pool = try rawPool(path: path, durability: durability)
        try pool.write { db in
            try db.execute(sql: "CREATE TABLE IF NOT EXISTS bench_grdb_floor (id INTEGER PRIMARY KEY, a INTEGER NOT NULL, b TEXT NOT NULL, c INTEGER NOT NULL)")
        }
    }

    /// `count` transactions awaited through GRDB's async write; returns them per second.
    func async(_ count: Int) async throws -> Double {
        let pool = pool
        return try await flushedRate(count) {
            for index in 0..<count {
                try await pool.write { db in
                    try db.cachedStatement(sql: "INSERT INTO bench_grdb_floor (a, b, c) VALUES (?, ?, ?)")
                        .execute(arguments: [index, "floor row", index &* 31])
                }
            }
        }
    }

    /// `count` transactions through GRDB's blocking write, on this thread; returns them per second.
    func blocking(_ count: Int) throws -> Double {
        sync()
        let start = ContinuousClock.now
        for index in 0..<count {
            try pool.write { db in
                try db.cachedStatement(sql: "INSERT INTO bench_grdb_floor (a, b, c) VALUES (?, ?, ?)")
                    .execute(arguments: [index, "floor row", index &* 31])
            }
        }
        return Double(count) / (ContinuousClock.now - start).seconds
    }

    func close() throws { try pool.close() }
}

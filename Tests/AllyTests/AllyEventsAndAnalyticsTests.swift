import Ally
import Client
import Foundation
import SuiteCore
import SuiteStorage
import SuiteTestSupport
import Testing
import Wallet

/// Marks the end of a test's events, so a collector knows it has seen everything before it.
private struct EndOfTest: DomainEvent { var name: String { "test.end" } }

/// Collects every event published on `bus` until `body` returns.
private func collectEvents(on bus: DomainEventBus, during body: () async throws -> Void) async throws -> [any DomainEvent] {
    let stream = bus.subscribe()
    let collector = Task {
        var seen: [any DomainEvent] = []
        for await event in stream {
            if event is EndOfTest { break }
            seen.append(event)
        }
        return seen
    }
    try await body()
    bus.publish(EndOfTest())
    return await collector.value
}

private let day1 = Date(timeIntervalSince1970: 1_767_225_600)  // 2026-01-01T00:00:00Z

@Suite struct AllyEventsAndAnalyticsTests {
    @Test(arguments: Engine.allCases)
    func lowCreditIsPublishedOncePerCrossingAndOnlyAfterCommit(engine: Engine) async throws {
        try await engine.withDatabase { database in
            try await Allies.install(on: database)
            let bus = DomainEventBus()
            let allies = Allies(database: database, lowCreditThreshold: 100, events: bus)
            let ally = try await allies.make().user("u-1").company("Northwind").create()
            let events = try await collectEvents(on: bus) {
                try await allies.addCredits(ally.refid, 500)
                try await allies.provision(ally.refid, cost: 300, action: "A", idempotencyKey: "k1")  // 200: above
                try await allies.provision(ally.refid, cost: 100, action: "B", idempotencyKey: "k2")  // 100: crosses
                try await allies.provision(ally.refid, cost: 50, action: "C", idempotencyKey: "k3")   // 50: still below
                try await allies.provision(ally.refid, cost: 100, action: "B", idempotencyKey: "k2")  // replay: nothing
                // A provision inside a transaction that rolls back publishes nothing.
                struct Abort: Error {}
                await #expect(throws: Abort.self) {
                    try await database.write { tx in
                        try allies.provision(ally.refid, cost: 50, action: "D", idempotencyKey: "k4", in: tx)
                        throw Abort()
                    }
                }
                try await allies.addCredits(ally.refid, 1_000)                                           // 1050: re-armed
                try await allies.provision(ally.refid, cost: 1_000, action: "E", idempotencyKey: "k5") // 50: crosses again
            }
            let low = events.compactMap { $0 as? LowCreditEvent }
            #expect(low.map(\.balance) == [100, 50])
            #expect(low.allSatisfy { $0.reseller == ally.refid && $0.threshold == 100 })
            let provisioned = events.compactMap { $0 as? CreditsProvisioned }
            #expect(provisioned.map(\.action) == ["A", "B", "C", "E"])
            #expect(events.compactMap { $0 as? CreditsAdded }.map(\.amount) == [500, 1_000])
            #expect(try await allies.balance(ally.refid) == 50)
        }
    }

    @Test(arguments: Engine.allCases)
    func concurrentDebitsAcrossTheThresholdPublishExactlyOneLowCreditEvent(engine: Engine) async throws {
        try await engine.withDatabase(inMemory: false) { database in
            try await Allies.install(on: database)
            let bus = DomainEventBus()
            let allies = Allies(database: database, lowCreditThreshold: 200, events: bus)
            let ally = try await allies.make().user("u-1").company("Northwind").create()
            try await allies.addCredits(ally.refid, 1_000)
            let events = try await collectEvents(on: bus) {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for task in 0..<8 {
                        group.addTask {
                            for round in 0..<10 {
                                _ = try? await allies.provision(ally.refid, cost: 10, action: "seat", idempotencyKey: "t\(task)-\(round)")
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            }
            #expect(try await allies.balance(ally.refid) == 200)
            #expect(events.compactMap { $0 as? LowCreditEvent }.map(\.balance) == [200])
            #expect(events.compactMap { $0 as? CreditsProvisioned }.count == 80)
        }
    }

    @Test(arguments: Engine.allCases)
    func analyticsRankResellersAndTrendCreditsFromTheRollup(engine: Engine) async throws {
        try await engine.withDatabase { database in
            try await Allies.install(on: database)
            try await Clients.install(on: database)
            let clock = ManualWallClock(now: day1)
            let clients = Clients(database: database, resellers: Allies(database: database), clock: clock)
            let allies = Allies(database: database, acquisitions: clients, clock: clock)
            let north = try await allies.make().user("u-1").company("Northwind").gold().create()
            let contoso = try await allies.make().user("u-2").company("Contoso").create()
            let idle = try await allies.make().user("u-3").company("Idle Ltd").platinum().create()
            try await allies.suspend(idle.refid)
            try await allies.addCredits(north.refid, 1_000)
            try await allies.addCredits(contoso.refid, 2_000)
            try await allies.provision(north.refid, cost: 100, action: "a", idempotencyKey: "n1")
            try await allies.provision(contoso.refid, cost: 900, action: "b", idempotencyKey: "c1")
            for i in 0..<3 { _ = try await clients.make().name("N\(i)").email("n\(i)@x.example").reseller(north.refid).create() }
            _ = try await clients.make().name("Solo").email("solo@x.example").create()
            clock.advance(by: 86_400 * 40)  // 2026-02-10
            try await allies.provision(north.refid, cost: 250, action: "c", idempotencyKey: "n2")
            _ = try await clients.make().name("C0").email("c0@x.example").reseller(contoso.refid).create()

            let analytics = allies.analytics()
            let top = try await analytics.topResellers(limit: 10)
            #expect(top.map(\.reseller) == [north.refid, contoso.refid])
            #expect(top.map(\.clientsAcquired) == [3, 1] && top.map(\.creditsSpent) == [350, 900] && top.map(\.provisions) == [2, 1])
            #expect(try await analytics.topResellers(limit: 1, by: .creditsSpent).map(\.reseller) == [contoso.refid])
            let january = try await analytics.topResellers(from: CivilDate(year: 2026, month: 1, day: 1),
                                                           to: CivilDate(year: 2026, month: 1, day: 31))
            #expect(january.map(\.clientsAcquired) == [3, 0] && january.map(\.creditsSpent) == [100, 900])
            let february = try await analytics.topResellers(from: CivilDate(year: 2026, month: 2, day: 1), to: nil, by: .creditsSpent)
            #expect(february.map(\.reseller) == [north.refid, contoso.refid] && february.map(\.creditsSpent) == [250, 0])

            let tiers = try await analytics.tierSnapshot()
            #expect(tiers.totalResellers == 3)
            #expect(tiers.tiers[.gold]?.outstandingCredits == 650 && tiers.tiers[.standard]?.outstandingCredits == 1_100)
            #expect(tiers.tiers[.platinum]?.suspended == 1 && tiers.tiers[.platinum]?.active == 0)
            #expect(tiers.tiers[.gold]?.percentage == 33.33 && tiers.tiers[.platinum]?.discountBasisPoints == 3_000)

            #expect(try await analytics.totalCreditsDistributed() == 1_750)

            let monthly = try await analytics.creditTrends(from: CivilDate(year: 2025, month: 12, day: 1),
                                                           to: CivilDate(year: 2026, month: 3, day: 31))
            #expect(monthly.map(\.bucket) == ["2025-12", "2026-01", "2026-02", "2026-03"])
            #expect(monthly.map(\.added) == [0, 3_000, 0, 0] && monthly.map(\.spent) == [0, 1_000, 250, 0])
            let northDaily = try await analytics.forReseller(north.refid).daily()
                .creditTrends(from: CivilDate(year: 2026, month: 2, day: 9), to: CivilDate(year: 2026, month: 2, day: 11))
            #expect(northDaily.map(\.spent) == [0, 250, 0] && northDaily.map(\.provisions) == [0, 1, 0])

            let stats = try await analytics.resellerStats(north.refid)
            #expect(stats.balance == 650 && stats.creditsAdded == 1_000 && stats.creditsSpent == 350 && stats.provisions == 2)
            #expect(stats.clientsAcquired == 3)
            #expect(stats.firstActivity == CivilDate(year: 2026, month: 1, day: 1))
            #expect(stats.lastActivity == CivilDate(year: 2026, month: 2, day: 10))

            await _ = expectAllyError(.notFound) { try await analytics.resellerStats(Refid(rawValue: "RS-NOBODY")) }
            await _ = expectAllyError(.validation) { try await analytics.topResellers(limit: 0) }
            await _ = expectAllyError(.validation) {
                try await analytics.creditTrends(from: CivilDate(year: 2026, month: 2, day: 1), to: CivilDate(year: 2026, month: 1, day: 1))
            }
            await _ = expectAllyError(.validation) {
                try await analytics.daily().creditTrends(from: CivilDate(year: 2000, month: 1, day: 1), to: CivilDate(year: 2026, month: 1, day: 1))
            }
        }
    }

    /// The ledger folds its transfers into its daily activity; analytics add what is not folded
    /// yet, so they give the same figures before a fold, after it, and after a fold with nothing to do.
    @Test(arguments: Engine.allCases)
    func analyticsAreTheSameBeforeAndAfterTheLedgerIsFoldedIntoTheRollup(engine: Engine) async throws {
        try await engine.withDatabase { database in
            try await Allies.install(on: database)
            let clock = ManualWallClock(now: day1)
            let allies = Allies(database: database, clock: clock)
            let north = try await allies.make().user("u-1").company("Northwind").create()
            let contoso = try await allies.make().user("u-2").company("Contoso").create()
            try await allies.addCredits(north.refid, 1_000)
            try await allies.addCredits(contoso.refid, 500)
            try await allies.provision(north.refid, cost: 100, action: "a", idempotencyKey: "n1")
            clock.advance(by: 86_400)
            try await allies.provision(north.refid, cost: 40, action: "b", idempotencyKey: "n2")
            try await allies.provision(contoso.refid, cost: 60, action: "c", idempotencyKey: "c1")
            // A retry is the same transfer: folded once.
            try await allies.provision(contoso.refid, cost: 60, action: "c", idempotencyKey: "c1")

            func figures() async throws -> [String] {
                let analytics = allies.analytics()
                let daily = try await analytics.daily().creditTrends(from: CivilDate(year: 2026, month: 1, day: 1),
                                                                     to: CivilDate(year: 2026, month: 1, day: 2))
                let stats = try await analytics.resellerStats(north.refid)
                let top = try await analytics.topResellers(limit: 5, by: .creditsSpent)
                return daily.map { "\($0.bucket) +\($0.added) -\($0.spent) ×\($0.provisions)" }
                    + ["north +\(stats.creditsAdded) -\(stats.creditsSpent) ×\(stats.provisions) \(String(describing: stats.lastActivity))"]
                    + top.map { "\($0.company) -\($0.creditsSpent) ×\($0.provisions)" }
            }
            let expected = ["2026-01-01 +1500 -100 ×1", "2026-01-02 +0 -100 ×2",
                            "north +1000 -140 ×2 Optional(2026-01-02)", "Northwind -140 ×2", "Contoso -60 ×1"]
            #expect(try await figures() == expected)  // nothing folded yet
            let rollupRows = { try await database.read { tx in try tx.queryInt64("""
                SELECT count(*) FROM wallet_activity s JOIN wallet_accounts a ON a.id = s.account_id
                WHERE a.unit = 'credits' AND a.is_system = 0
                """) } }
            #expect(try await rollupRows() == 0)

            #expect(try await allies.ledger.foldActivity() > 0)
            #expect(try await rollupRows() == 4)  // each reseller on each of the two days
            #expect(try await figures() == expected)
            #expect(try await allies.ledger.foldActivity() == 0)

            try await allies.provision(contoso.refid, cost: 5, action: "d", idempotencyKey: "c2")
            let after = try await allies.analytics().resellerStats(contoso.refid)
            #expect(after.creditsSpent == 65 && after.provisions == 2 && after.creditsAdded == 500)
        }
    }

    /// Folds racing provisions never lose or double a transfer — on PostgreSQL ids commit out of
    /// order, and the fold waits out the writers in flight before it moves its mark.
    @Test(arguments: Engine.allCases)
    func foldsRacingConcurrentProvisionsCountEveryTransferExactlyOnce(engine: Engine) async throws {
        try await engine.withDatabase(inMemory: false) { database in
            try await Allies.install(on: database)
            let allies = Allies(database: database)
            var resellers: [Refid] = []
            for index in 0..<4 {
                let ally = try await allies.make().user("u-\(index)").company("Reseller \(index)").create()
                try await allies.addCredits(ally.refid, 1_000_000)
                resellers.append(ally.refid)
            }
            let perTask = 40
            let targets = resellers
            let folds = try await withThrowingTaskGroup(of: Int64.self) { group in
                for task in 0..<8 {
                    group.addTask {
                        for index in 0..<perTask {
                            try await allies.provision(targets[task % 4], cost: Int64(task + 1), action: "race",
                                                       idempotencyKey: "t\(task)-\(index)")
                        }
                        return 0
                    }
                }
                group.addTask {
                    var moved: Int64 = 0
                    for _ in 0..<30 { moved += try await allies.ledger.foldActivity() }
                    return moved
                }
                return try await group.reduce(0, +)
            }
            #expect(folds > 0)
            _ = try await allies.ledger.foldActivity()
            // The rollup alone, with nothing left unfolded, against the ledger's own sums.
            let (spent, provisions, added) = try await database.read { tx in
                let row = try tx.queryFirst("""
                    SELECT CAST(sum(debited) AS BIGINT) AS spent, CAST(sum(debits) AS BIGINT) AS provisions,
                           CAST(sum(credited) AS BIGINT) AS added FROM \(Self.resellerActivity)
                    """)
                return (try row?.int64("spent"), try row?.int64("provisions"), try row?.int64("added"))
            }
            let expectedSpent = (0..<8).reduce(Int64(0)) { $0 + Int64($1 + 1) * Int64(perTask) }
            #expect(spent == expectedSpent)
            #expect(provisions == Int64(8 * perTask))
            #expect(added == 4_000_000)
            let top = try await allies.analytics().topResellers(limit: 4, by: .creditsSpent)
            #expect(top.reduce(0) { $0 + $1.creditsSpent } == expectedSpent)
        }
    }

    /// The race the fold's lock is for, made certain: a provision has its transfer id but has not
    /// committed; a later provision commits a higher id; a fold starts. Without waiting, the fold
    /// would move its mark past the first provision, which would then be counted nowhere. The fold
    /// waits for it instead. (PostgreSQL only: SQLite has one writer, so ids commit in order.)
    @Test(arguments: [Engine.postgres])
    func aFoldWaitsForATransferThatHasItsIdButHasNotCommitted(engine: Engine) async throws {
        try await engine.withDatabase(inMemory: false) { database in
            try await Allies.install(on: database)
            let allies = Allies(database: database)
            let ally = try await allies.make().user("u-1").company("Northwind").create()
            let other = try await allies.make().user("u-2").company("Contoso").create()
            try await allies.addCredits(ally.refid, 1_000)
            _ = try await allies.ledger.foldActivity()

            let (open, release) = await Self.provisionHeldOpen(by: allies, on: database, for: ally.refid, cost: 7)
            // Another reseller's top-up: no row the open transaction holds.
            try await allies.addCredits(other.refid, 5)
            let fold = Task { try await allies.ledger.foldActivity() }

            // The fold is waiting for the open transaction's lock on the transfers table.
            var waiting = false
            for _ in 0..<500 where !waiting {
                waiting = try await database.read { tx in
                    try tx.queryInt64("""
                        SELECT count(*) FROM pg_stat_activity
                        WHERE wait_event_type = 'Lock' AND query LIKE 'LOCK TABLE wallet_transfers%'
                        """) ?? 0
                } > 0
                if !waiting { try await Task.sleep(for: .milliseconds(2)) }
            }
            #expect(waiting, "the fold did not wait for the uncommitted transfer")
            release.signal()
            _ = try await open.value
            #expect(try await fold.value > 0)

            #expect(try await allies.ledger.foldActivity() == 0)
            let (spent, added) = try await database.read { tx in
                let row = try tx.queryFirst("SELECT CAST(sum(debited) AS BIGINT) AS spent, CAST(sum(credited) AS BIGINT) AS added FROM \(Self.resellerActivity)")
                return (try row?.int64("spent"), try row?.int64("added"))
            }
            #expect(spent == 7 && added == 1_005)  // in the rollup itself, nothing left unfolded
            #expect(try await allies.analytics().resellerStats(ally.refid).creditsSpent == 7)
        }
    }

    /// A fold that cannot get its lock within the timeout (2 s) throws and moves nothing, and
    /// analytics meanwhile answer at once, from what is committed. (PostgreSQL only, as above.)
    @Test(arguments: [Engine.postgres])
    func aFoldThatCannotGetItsLockInTimeThrowsAndChangesNothing(engine: Engine) async throws {
        try await engine.withDatabase(inMemory: false) { database in
            try await Allies.install(on: database)
            let allies = Allies(database: database)
            let ally = try await allies.make().user("u-1").company("Northwind").create()
            try await allies.addCredits(ally.refid, 1_000)
            try await allies.provision(ally.refid, cost: 10, action: "committed", idempotencyKey: "a")
            let mark = { try await database.read { tx in try tx.queryInt64("SELECT last_transfer FROM wallet_activity_fold") } }
            let before = try await mark()

            let (open, release) = await Self.provisionHeldOpen(by: allies, on: database, for: ally.refid, cost: 7)
            #expect(try await allies.analytics().resellerStats(ally.refid).creditsSpent == 10)
            await #expect(throws: StorageError.self) { try await allies.ledger.foldActivity() }
            #expect(try await mark() == before)
            release.signal()
            _ = try await open.value
            #expect(try await allies.analytics().resellerStats(ally.refid).creditsSpent == 17)
            #expect(try await allies.ledger.foldActivity() > 0)
        }
    }

    /// Upgrading backfills the ledger's activity from every transfer so far and marks all of it
    /// folded, so nothing is counted twice, and what follows is counted from the transfers.
    @Test(arguments: Engine.allCases)
    func upgradingFromVersionTwoCountsNoTransferTwice(engine: Engine) async throws {
        try await engine.withDatabase { database in
            let (allies, ally) = try await Self.versionOneActivity(on: database, daysApart: 0)
            let versionTwo = ModuleSchema(module: "ally", migrations: Array(Allies.schema.migrations.prefix(2)))
            _ = try await SchemaInstaller.install([Self.ledgerBeforeActivity, versionTwo], on: database)

            try await Allies.install(on: database)
            try await allies.provision(ally.refid, cost: 50, action: "after the upgrade", idempotencyKey: "k")
            let stats = try await allies.analytics().resellerStats(ally.refid)
            #expect(stats.creditsAdded == 700 && stats.creditsSpent == 250 && stats.provisions == 2 && stats.balance == 450)
            _ = try await allies.ledger.foldActivity()
            #expect(try await allies.analytics().resellerStats(ally.refid) == stats)
        }
    }

    @Test(arguments: Engine.allCases)
    func upgradingFromVersionOneBackfillsTheActivityFromTheLedger(engine: Engine) async throws {
        try await engine.withDatabase { database in
            let (allies, ally) = try await Self.versionOneActivity(on: database, daysApart: 1)

            try await Allies.install(on: database)
            let stats = try await allies.analytics().resellerStats(ally.refid)
            #expect(stats.creditsAdded == 700 && stats.creditsSpent == 200 && stats.provisions == 1 && stats.balance == 500)
            let daily = try await allies.analytics().daily().creditTrends(from: CivilDate(year: 2026, month: 1, day: 1),
                                                                          to: CivilDate(year: 2026, month: 1, day: 2))
            #expect(daily.map(\.added) == [700, 0] && daily.map(\.spent) == [0, 200])
        }
    }

    /// The credit-unit user accounts' rows of the ledger's activity rollup: a `FROM` subquery.
    static let resellerActivity: SQL = """
        (SELECT s.* FROM wallet_activity s JOIN wallet_accounts a ON a.id = s.account_id
         WHERE a.unit = 'credits' AND a.is_system = 0) r
        """

    /// The ledger's schema before it kept a daily activity rollup (version 3).
    static let ledgerBeforeActivity = ModuleSchema(module: "wallet", migrations: Array(Ledger.schema.migrations.prefix(3)))

    /// A database with Ally at version 1, the ledger at version 3, and what they wrote for a
    /// top-up of 700 and a provision of 200 (`daysApart` days later): ledger transfers only.
    static func versionOneActivity(on database: any Database, daysApart: Int) async throws -> (Allies, Reseller) {
        let versionOne = ModuleSchema(module: "ally", migrations: [Allies.schema.migrations[0]])
        _ = try await SchemaInstaller.install([Self.ledgerBeforeActivity, versionOne], on: database)
        let clock = ManualWallClock(now: day1)
        let allies = Allies(database: database, clock: clock)
        let ally = try await allies.make().user("u-1").company("Northwind").create()
        let ledger = Ledger(database: database, clock: clock)
        try await ledger.issue(700, to: ally.wallet, description: "Credits added by admin")
        clock.advance(by: TimeInterval(86_400 * daysApart))
        let revenue = try await ledger.system(.revenue, unit: .credits)
        try await ledger.transfer(from: ally.wallet, to: revenue.refid, amount: 200, description: "Pro")
        return (allies, ally)
    }

    /// A provision of `cost` inside a write transaction that stays open — its transfer inserted,
    /// not committed — until `release` is signalled; returns once the transfer is in. PostgreSQL
    /// only: it blocks a pool thread of the driver, which is allowed there.
    static func provisionHeldOpen(by allies: Allies, on database: any Database, for reseller: Refid,
                                  cost: Int64) async -> (open: Task<Void, any Error>, release: DispatchSemaphore) {
        let inserted = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0)
        let open = Task {
            try await database.write { tx in
                try allies.provision(reseller, cost: cost, action: "held open", idempotencyKey: "held-open", in: tx)
                inserted.signal()
                release.wait()
            }
        }
        await Task.detached { inserted.wait() }.value
        return (open, release)
    }
}

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

    @Test(arguments: Engine.allCases)
    func upgradingFromVersionOneBackfillsTheCreditRollupFromTheLedger(engine: Engine) async throws {
        try await engine.withDatabase { database in
            let versionOne = ModuleSchema(module: "ally", migrations: [Allies.schema.migrations[0]])
            _ = try await SchemaInstaller.install([Ledger.schema, versionOne], on: database)
            let clock = ManualWallClock(now: day1)
            let allies = Allies(database: database, clock: clock)
            let ally = try await allies.make().user("u-1").company("Northwind").create()
            // What version 1 wrote for a top-up and a provision: ledger transfers only.
            let ledger = Ledger(database: database, clock: clock)
            try await ledger.issue(700, to: ally.wallet, description: "Credits added by admin")
            clock.advance(by: 86_400)
            let revenue = try await ledger.system(.revenue, unit: .credits)
            try await ledger.transfer(from: ally.wallet, to: revenue.refid, amount: 200, description: "Pro")

            try await Allies.install(on: database)
            let stats = try await allies.analytics().resellerStats(ally.refid)
            #expect(stats.creditsAdded == 700 && stats.creditsSpent == 200 && stats.provisions == 1 && stats.balance == 500)
            let daily = try await allies.analytics().daily().creditTrends(from: CivilDate(year: 2026, month: 1, day: 1),
                                                                          to: CivilDate(year: 2026, month: 1, day: 2))
            #expect(daily.map(\.added) == [700, 0] && daily.map(\.spent) == [0, 200])
        }
    }
}

import Client
import Forge
import Foundation
import Logging
import ServiceLifecycle
import Suite
import SuiteCore
import SuiteStorage
import SuiteTestSupport
import Testing

private let start = Date(timeIntervalSince1970: 1_767_225_600)  // 2026-01-01T00:00:00Z
private let catalog = FixedProductCatalog([
    ProductSummary(code: "PRO", name: "Pro", licenceDays: 365),
    ProductSummary(code: "LIFE", name: "Lifetime"),
    ProductSummary(code: "OLD", name: "Retired", isActive: false),
])

/// A Forge wired to a real Client module on one database, with a clock the test moves.
struct ForgeFixture: Sendable {
    let database: any Database
    let clock: ManualWallClock
    let clients: Clients
    let licences: Licences

    func client(_ name: String, reseller: Refid? = nil) async throws -> Client {
        try await clients.make().name(name).email("\(name.lowercased())@example.com").create()
    }
}

extension Engine {
    func withForge<T: Sendable>(inMemory: Bool = true, _ body: @Sendable (ForgeFixture) async throws -> T) async throws -> T {
        try await withDatabase(inMemory: inMemory) { database in
            try await Clients.install(on: database)
            try await Licences.install(on: database)
            let clock = ManualWallClock(now: start)
            let clients = Clients(database: database, configuration: try ClientConfiguration(defaultStatus: .active), clock: clock)
            let licences = Licences(database: database, products: catalog, clients: clients, clock: clock)
            return try await body(ForgeFixture(database: database, clock: clock, clients: clients, licences: licences))
        }
    }
}

func expectForgeError<T>(_ code: ForgeError.Code, _ body: () async throws -> T,
                         sourceLocation: SourceLocation = #_sourceLocation) async {
    await expectError(code, as: ForgeError.self, body, sourceLocation: sourceLocation)
}

@Suite struct LicenceTests {
    @Test func keysAreLongRandomGroupedAndParsedTheWayPeopleTypeThem() throws {
        let keys = (0..<2_000).map { _ in LicenceKey.generate() }
        #expect(Set(keys).count == keys.count)
        let key = keys[0]
        #expect(key.rawValue.count == 35 && key.rawValue.split(separator: "-").map(\.count) == [5, 5, 5, 5, 5, 5])
        #expect(try LicenceKey(parsing: key.rawValue.lowercased().replacingOccurrences(of: "-", with: " ")) == key)
        #expect(!key.description.contains(key.rawValue.prefix(5)))  // logging a key does not leak it
        let lookalikes = try LicenceKey(parsing: "IIIII-LLLLL-OOOOO-00000-11111-22222")
        #expect(lookalikes.rawValue == "11111-11111-00000-00000-11111-22222")
        #expect(try LicenceKey(parsing: "iiiii\tlllll ooooo-00000 11111 22222") == lookalikes)
        let alphabet = Set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
        #expect(keys.allSatisfy { $0.rawValue.replacingOccurrences(of: "-", with: "").allSatisfy(alphabet.contains) })
        for bad in ["", "ABCDE", String(repeating: "A", count: 31), "UUUUU-AAAAA-AAAAA-AAAAA-AAAAA-AAAAA", "ÄAAAA-AAAAA-AAAAA-AAAAA-AAAAA-AAAAA",
                    String(repeating: "A", count: 100_000)] {
            #expect(throws: ForgeError.self) { try LicenceKey(parsing: bad) }
        }
    }

    @Test(arguments: Engine.allCases)
    func aLicenceIsFoundByItsKeyAsTypedOrByItsRefid(engine: Engine) async throws {
        try await engine.withForge { forge in
            let minted = try await forge.licences.make().product("PRO").mint()
            let typed = minted.key.rawValue.lowercased()
            #expect(try await forge.licences.findByKey(typed)?.refid == minted.licence.refid)
            #expect(try await forge.licences.find(refidOrKey: minted.licence.refid.rawValue).refid == minted.licence.refid)
            #expect(try await forge.licences.find(refidOrKey: typed).refid == minted.licence.refid)
            #expect(try await forge.licences.findByKey("not a key") == nil)
            #expect(try await forge.licences.findByKey("AAAAA-AAAAA-AAAAA-AAAAA-AAAAA-AAAAA") == nil)
            await #expect(throws: ForgeError.self) { try await forge.licences.find(refidOrKey: "AAAAA-AAAAA-AAAAA-AAAAA-AAAAA-AAAAA") }
        }
    }

    @Test(arguments: Engine.allCases)
    func aLicenceIsMintedPendingThenActivatedForAClientWithItsTerm(engine: Engine) async throws {
        try await engine.withForge { forge in
            let acme = try await forge.client("Acme")
            let minted = try await forge.licences.make().product("PRO").metadata(["seats": 5]).mint(actor: "sales")
            #expect(Refid.isWellFormed(minted.licence.refid.rawValue, prefix: "LC-"))
            #expect(minted.licence.status == .pending && minted.licence.durationDays == 365 && minted.licence.client == nil)
            #expect(try await forge.licences.verify(minted.key.rawValue).code == .pending)
            forge.clock.advance(by: 3_600)
            let active = try await forge.licences.activate(minted.licence.refid, for: acme.refid, actor: "portal")
            #expect(active.status == .active && active.client == acme.refid)
            #expect(active.activatedAt == start.addingTimeInterval(3_600))
            #expect(active.expiresAt == start.addingTimeInterval(3_600 + 365 * 86_400))
            let check = try await forge.licences.verify(minted.key.rawValue)
            #expect(check.code == .valid && check.licence?.refid == minted.licence.refid)
            #expect(try await forge.licences.find(minted.licence.refid) == check.licence)
            let trail = try await forge.licences.auditTrail(of: minted.licence.refid)
            #expect(trail.map(\.event) == ["minted", "activated"] && trail.map(\.actor) == ["sales", "portal"])
            #expect(trail[1].detail == acme.refid.rawValue)
            #expect(try await forge.licences.getByClient(acme.refid).items.map(\.refid) == [minted.licence.refid])
            // A lifetime licence never expires.
            let life = try await forge.licences.make().product("LIFE").mint()
            #expect(try await forge.licences.activate(key: life.key.rawValue.lowercased(), for: acme.refid).expiresAt == nil)
            forge.clock.advance(by: 86_400 * 365 * 50)
            #expect(try await forge.licences.verify(life.key).code == .valid)
        }
    }

    /// Verification may reuse what it read while nothing committed; a change made through another
    /// connection (another process, in production) must still be seen by the very next call.
    @Test(arguments: Engine.allCases)
    func verificationSeesChangesMadeThroughAnotherConnectionAtOnce(engine: Engine) async throws {
        let (location, cleanUp) = try await engine.freshLocation()
        defer { Task { await cleanUp() } }
        let first = try SuiteDatabase.open(location, drivers: Engine.drivers), second = try SuiteDatabase.open(location, drivers: Engine.drivers)
        try await Clients.install(on: first)
        try await Licences.install(on: first)
        let clientsA = Clients(database: first, configuration: try ClientConfiguration(defaultStatus: .active))
        let licencesA = Licences(database: first, products: catalog, clients: clientsA)
        let clientsB = Clients(database: second, configuration: try ClientConfiguration(defaultStatus: .active))
        let licencesB = Licences(database: second, products: catalog, clients: clientsB)
        let acme = try await clientsA.make().name("Acme").email("a@acme.example").create()
        let minted = try await licencesA.make().product("PRO").mintActivated(for: acme.refid)
        for _ in 0..<3 { #expect(try await licencesA.verify(minted.key).code == .valid) }
        try await clientsB.suspend(acme.refid)
        #expect(try await licencesA.verify(minted.key).code == .clientSuspended)
        try await clientsB.reinstate(acme.refid)
        #expect(try await licencesA.verify(minted.key).code == .valid)
        try await licencesB.revoke(minted.licence.refid)
        #expect(try await licencesA.verify(minted.key).code == .revoked)
        let later = try await licencesB.make().product("PRO").mintActivated(for: acme.refid)
        #expect(try await licencesA.verify(later.key).code == .valid)
        try await first.close()
        try await second.close()
    }

    @Test(arguments: Engine.allCases)
    func mintActivatedIsMintPlusActivateInOneStep(engine: Engine) async throws {
        try await engine.withForge { forge in
            let acme = try await forge.client("Acme")
            let other = try await forge.client("Other")
            let minted = try await forge.licences.make().product("PRO").days(30).mintActivated(for: acme.refid, actor: "sale")
            #expect(minted.licence.status == .active && minted.licence.client == acme.refid)
            #expect(minted.licence.expiresAt == start.addingTimeInterval(30 * 86_400))
            #expect(try await forge.licences.find(minted.licence.refid) == minted.licence)
            #expect(try await forge.licences.verify(minted.key).code == .valid)
            let trail = try await forge.licences.auditTrail(of: minted.licence.refid)
            #expect(trail.map(\.event) == ["minted", "activated"] && trail.map(\.toStatus) == [.pending, .active])
            await expectForgeError(.statusConflict) { try await forge.licences.activate(minted.licence.refid, for: acme.refid) }
            await expectForgeError(.clientMismatch) {
                try await forge.licences.make().product("PRO").client(acme.refid).mintActivated(for: other.refid)
            }
            try await forge.clients.suspend(other.refid)
            await expectForgeError(.invalidClient) { try await forge.licences.make().product("PRO").mintActivated(for: other.refid) }
            #expect(try await forge.licences.query().fetch().items.count == 1)
        }
    }

    @Test(arguments: Engine.allCases)
    func expiryIsDecidedAtTheMomentOfVerificationBeforeAnySweep(engine: Engine) async throws {
        try await engine.withForge { forge in
            let acme = try await forge.client("Acme")
            let minted = try await forge.licences.make().product("PRO").days(10).mint()
            try await forge.licences.activate(minted.licence.refid, for: acme.refid)
            forge.clock.advance(by: 10 * 86_400 - 1)
            #expect(try await forge.licences.verify(minted.key).code == .valid)
            forge.clock.advance(by: 1)
            let check = try await forge.licences.verify(minted.key)
            #expect(check.code == .expired)
            #expect(check.licence?.status == .active)  // stored status untouched: no sweep has run
            #expect(try await forge.licences.query().expired().fetch().items.count == 1)
            #expect(try await forge.licences.query().active().fetch().items.isEmpty)
            #expect(try await forge.licences.markExpired() == 1)
            #expect(try await forge.licences.find(minted.licence.refid).status == .expired)
            #expect(try await forge.licences.markExpired() == 0)
            #expect(try await forge.licences.auditTrail(of: minted.licence.refid).last?.actor == "expiry-sweep")
            // Renewal restarts the term from now when it has passed.
            let renewed = try await forge.licences.renew(minted.licence.refid, days: 30, actor: "billing")
            #expect(renewed.status == .active && renewed.expiresAt == forge.clock.now().addingTimeInterval(30 * 86_400))
            #expect(try await forge.licences.verify(minted.key).code == .valid)
            let extended = try await forge.licences.renew(minted.licence.refid, days: 5)
            #expect(extended.expiresAt == renewed.expiresAt?.addingTimeInterval(5 * 86_400))
            #expect(try await forge.licences.auditTrail(of: minted.licence.refid).suffix(2).map(\.detail) == ["+30 days", "+5 days"])
        }
    }

    @Test(arguments: Engine.allCases)
    func revokedPendingAndSuspendedClientsAreNotValid(engine: Engine) async throws {
        try await engine.withForge { forge in
            let acme = try await forge.client("Acme")
            let minted = try await forge.licences.make().product("PRO").mint()
            try await forge.licences.activate(minted.licence.refid, for: acme.refid)
            try await forge.clients.suspend(acme.refid)
            #expect(try await forge.licences.verify(minted.key).code == .clientSuspended)
            try await forge.clients.reinstate(acme.refid)
            #expect(try await forge.licences.verify(minted.key).code == .valid)
            let revoked = try await forge.licences.revoke(minted.licence.refid, actor: "fraud", reason: "chargeback")
            #expect(revoked.status == .revoked)
            #expect(try await forge.licences.verify(minted.key).code == .revoked)
            await expectForgeError(.statusConflict) { try await forge.licences.revoke(minted.licence.refid) }
            await expectForgeError(.statusConflict) { try await forge.licences.renew(minted.licence.refid, days: 5) }
            await expectForgeError(.statusConflict) { try await forge.licences.activate(minted.licence.refid, for: acme.refid) }
            #expect(try await forge.licences.verify(LicenceKey.generate()).code == .notFound)
            #expect(try await forge.licences.verify("not a key").code == .malformed)
            #expect(try await forge.licences.auditTrail(of: minted.licence.refid).last?.reason == "chargeback")
        }
    }

    @Test(arguments: Engine.allCases)
    func badInputGetsATypedErrorAndWritesNothing(engine: Engine) async throws {
        try await engine.withForge { forge in
            let acme = try await forge.client("Acme")
            let gone = try await forge.client("Gone")
            try await forge.clients.deactivate(gone.refid)
            let licences = forge.licences
            await expectForgeError(.invalidProduct) { try await licences.make().product("NOPE").mint() }
            await expectForgeError(.invalidProduct) { try await licences.make().product("OLD").mint() }
            await expectForgeError(.validation) { try await licences.make().mint() }
            await expectForgeError(.validation) { try await licences.make().product("PRO").days(0).mint() }
            await expectForgeError(.validation) { try await licences.make().product("PRO").days(-3).mint() }
            await expectForgeError(.validation) { try await licences.make().product("PRO").days(Int.max).mint() }
            await expectForgeError(.validation) { try await licences.make().product("PRO").mint(actor: "  ") }
            await expectForgeError(.validation) {
                try await licences.make().product("PRO").metadata(["blob": .string(String(repeating: "x", count: 20_000))]).mint()
            }
            await expectForgeError(.invalidClient) { try await licences.make().product("PRO").client(Refid(rawValue: "CL-NOBODY")).mint() }
            await expectForgeError(.invalidClient) { try await licences.make().product("PRO").client(gone.refid).mint() }
            #expect(try await licences.query().fetch().items.isEmpty)

            let minted = try await licences.make().product("PRO").client(acme.refid).mint()
            let other = try await forge.client("Other")
            await expectForgeError(.clientMismatch) { try await licences.activate(minted.licence.refid, for: other.refid) }
            await expectForgeError(.malformedKey) { try await licences.activate(key: "12345", for: acme.refid) }
            await expectForgeError(.notFound) { try await licences.activate(key: LicenceKey.generate().rawValue, for: acme.refid) }
            await expectForgeError(.notFound) { try await licences.activate(Refid(rawValue: "LC-NOBODY"), for: acme.refid) }
            await expectForgeError(.validation) { try await licences.renew(minted.licence.refid, days: 0) }
            await expectForgeError(.validation) { try await licences.query().limit(0).fetch() }
            await expectForgeError(.validation) { try await licences.query().after("LC-NOBODY").fetch() }
            let unchanged = try await licences.find(minted.licence.refid)
            #expect(unchanged.status == .pending && unchanged.client == acme.refid)
            #expect(try await licences.auditTrail(of: minted.licence.refid).count == 1)
        }
    }

    @Test(arguments: Engine.allCases)
    func ofManyConcurrentActivationsOfOneLicenceExactlyOneWins(engine: Engine) async throws {
        try await engine.withForge(inMemory: false) { forge in
            let acme = try await forge.client("Acme")
            for _ in 0..<10 {
                let minted = try await forge.licences.make().product("PRO").mint()
                let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
                    for _ in 0..<8 {
                        group.addTask {
                            do {
                                try await forge.licences.activate(minted.licence.refid, for: acme.refid)
                                return true
                            } catch let error as ForgeError where error.code == .statusConflict {
                                return false
                            }
                        }
                    }
                    return try await group.reduce(into: [Bool]()) { $0.append($1) }
                }
                #expect(outcomes.filter { $0 }.count == 1)
                #expect(try await forge.licences.auditTrail(of: minted.licence.refid).filter { $0.event == "activated" }.count == 1)
            }
        }
    }

    @Test(arguments: Engine.allCases)
    func scopesPageThroughLicencesAndDecideStatusNow(engine: Engine) async throws {
        try await engine.withForge { forge in
            let acme = try await forge.client("Acme")
            var refids: [Refid] = []
            for days in [5, 20, 40] {
                let minted = try await forge.licences.make().product("PRO").days(days).mint()
                try await forge.licences.activate(minted.licence.refid, for: acme.refid)
                refids.append(minted.licence.refid)
            }
            let pending = try await forge.licences.make().product("LIFE").mint()
            let expiring = try await forge.licences.query().expiringIn(days: 30).fetch()
            #expect(expiring.items.map(\.refid) == [refids[0], refids[1]])
            #expect(try await forge.licences.query().pending().fetch().items.map(\.refid) == [pending.licence.refid])
            #expect(try await forge.licences.query().product("LIFE").fetch().items.count == 1)
            var seen: [Refid] = [], cursor: Cursor?
            repeat {
                let page = try await forge.licences.query().limit(2).after(cursor).fetch()
                seen += page.items.map(\.refid)
                cursor = page.nextCursor
            } while cursor != nil
            #expect(seen == refids + [pending.licence.refid])
            forge.clock.advance(by: 6 * 86_400)
            #expect(try await forge.licences.query().active().fetch().items.map(\.refid) == [refids[1], refids[2]])
            #expect(try await forge.licences.query().expired().fetch().items.map(\.refid) == [refids[0]])
        }
    }

    @Test(arguments: Engine.allCases)
    func analyticsCountMintsActivationsProductsAndForecastExpiry(engine: Engine) async throws {
        try await engine.withDatabase { database in
            try await Clients.install(on: database)
            try await Licences.install(on: database)
            let clock = ManualWallClock(now: start)
            let clients = Clients(database: database, configuration: try ClientConfiguration(defaultStatus: .active),
                                  resellers: FixedResellers(["RS-NORTH"]), clock: clock)
            let licences = Licences(database: database, products: catalog, clients: clients, clock: clock)
            let acme = try await clients.make().name("Acme").email("a@acme.example").reseller("RS-NORTH").create()
            let solo = try await clients.make().name("Solo").email("s@solo.example").create()
            for days in [3, 3, 10] {
                let minted = try await licences.make().product("PRO").days(days).mint()
                try await licences.activate(minted.licence.refid, for: acme.refid)
            }
            clock.advance(by: 86_400 * 31)  // 2026-02-01
            let life = try await licences.make().product("LIFE").mint()
            try await licences.activate(life.licence.refid, for: solo.refid)
            _ = try await licences.make().product("PRO").mint()

            let analytics = licences.analytics()
            let stats = try await analytics.mintingStats()
            #expect(stats.total == 5 && stats[.expired] == 3 && stats[.active] == 1 && stats[.pending] == 1)
            let january = try await analytics.mintingStats(from: CivilDate(year: 2026, month: 1, day: 1),
                                                           to: CivilDate(year: 2026, month: 1, day: 31))
            #expect(january.total == 3)
            #expect(try await analytics.forReseller(Refid(rawValue: "RS-NORTH")).mintingStats().total == 3)
            #expect(try await analytics.forClient(solo.refid).mintingStats()[.active] == 1)
            let products = try await analytics.productPopularity()
            #expect(products.map(\.product) == ["PRO", "LIFE"] && products.map(\.minted) == [4, 1] && products.map(\.activated) == [3, 1])
            let trend = try await analytics.monthly().mintingTrends(from: CivilDate(year: 2026, month: 1, day: 1),
                                                                     to: CivilDate(year: 2026, month: 3, day: 31))
            #expect(trend.map(\.count) == [3, 2, 0])
            let activations = try await analytics.monthly().activationTrends(from: CivilDate(year: 2026, month: 1, day: 1),
                                                                              to: CivilDate(year: 2026, month: 2, day: 28))
            #expect(activations.map(\.count) == [3, 1])
            // Forecast: a fresh active licence expiring in 2 days.
            let soon = try await licences.make().product("PRO").days(2).mint()
            try await licences.activate(soon.licence.refid, for: solo.refid)
            let forecast = try await analytics.expirationForecast(days: 4)
            #expect(forecast.map(\.bucket) == ["2026-02-01", "2026-02-02", "2026-02-03", "2026-02-04"])
            #expect(forecast.map(\.count) == [0, 0, 1, 0])
            await expectForgeError(.validation) { try await analytics.expirationForecast(days: 0) }
            await expectForgeError(.validation) {
                try await analytics.mintingStats(from: CivilDate(year: 2026, month: 2, day: 1), to: CivilDate(year: 2026, month: 1, day: 1))
            }
        }
    }

    @Test(arguments: Engine.allCases)
    func theExpirySweeperRunsAsAServiceAndStopsOnShutdown(engine: Engine) async throws {
        try await engine.withForge(inMemory: false) { forge in
            let acme = try await forge.client("Acme")
            let minted = try await forge.licences.make().product("PRO").days(1).mint()
            try await forge.licences.activate(minted.licence.refid, for: acme.refid)
            forge.clock.advance(by: 2 * 86_400)
            let logger = Logger(label: "test.sweeper")
            let sweeper = LicenceExpirySweeper(licences: forge.licences, interval: .milliseconds(20), logger: logger)
            let group = ServiceGroup(services: [sweeper], gracefulShutdownSignals: [], logger: logger)
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                var status = LicenceStatus.active
                for _ in 0..<500 where status != .expired {
                    try await Task.sleep(for: .milliseconds(10))
                    status = try await forge.licences.find(minted.licence.refid).status
                }
                #expect(status == .expired)
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
        }
    }
}

/// A reseller directory over a fixed list, for Forge tests that need reselled clients without Ally.
struct FixedResellers: ResellerDirectory {
    let refids: Set<String>
    init(_ refids: [String]) { self.refids = Set(refids) }
    func reseller(_ refid: Refid, in transaction: any Transaction) throws -> ResellerSummary? {
        refids.contains(refid.rawValue) ? ResellerSummary(refid: refid, isActive: true) : nil
    }
}

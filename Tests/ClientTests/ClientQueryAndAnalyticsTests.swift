import Client
import Foundation
import SuiteCore
import SuiteStorage
import SuiteTestSupport
import Testing

@Suite struct ClientQueryTests {
    @Test(arguments: Engine.allCases)
    func scopesComposeAndPagesCoverEveryMatchOnceInOrder(engine: Engine) async throws {
        try await engine.withClients { clients in
            var created: [Client] = []
            for index in 0..<9 {
                let reseller: Refid? = index % 3 == 0 ? nil : (index % 3 == 1 ? reseller1 : reseller2)
                var client = try await clients.make().name("C\(index)").email("c\(index)@t.example").reseller(reseller).create()
                if index % 2 == 0 { client = try await clients.activate(client.refid) }
                created.append(client)
            }
            #expect(try await clients.query().active().fetch().items.count == 5)
            #expect(try await clients.query().pending().fetch().items.count == 4)
            #expect(try await clients.query().standalone().fetch().items.map(\.name) == ["C0", "C3", "C6"])
            #expect(try await clients.query().reselled().active().fetch().items.map(\.name) == ["C2", "C4", "C8"])
            #expect(try await clients.query().forReseller(reseller1).fetch().items.map(\.name) == ["C1", "C4", "C7"])
            #expect(try await clients.query().active().pending().fetch().items.isEmpty)
            #expect(try await clients.query().standalone().reselled().fetch().items.isEmpty)

            var seen: [String] = []
            var cursor: Cursor?
            repeat {
                let page = try await clients.query().limit(2).after(cursor).fetch()
                #expect(page.items.count <= 2)
                seen += page.items.map(\.name)
                cursor = page.nextCursor
            } while cursor != nil
            #expect(seen == created.map(\.name))

            let newest = try await clients.query().newestFirst().limit(3).fetch()
            #expect(newest.items.map(\.name) == ["C8", "C7", "C6"])
            let next = try await clients.query().newestFirst().limit(3).after(newest.nextCursor).fetch()
            #expect(next.items.map(\.name) == ["C5", "C4", "C3"])

            await _ = expectClientError(.invalidQuery) { try await clients.query().limit(0).fetch() }
            await _ = expectClientError(.invalidQuery) { try await clients.query().limit(501).fetch() }
            await _ = expectClientError(.invalidQuery) { try await clients.query().after("CL-NOT-A-CURSOR").fetch() }
        }
    }
}

@Suite struct ClientAnalyticsTests {
    /// Signups on known UTC days, some at the edges of days, months and years.
    static func seed(_ clients: Clients, clock: ManualWallClock) async throws -> [Client] {
        let plan: [(String, Refid?)] = [
            ("2025-12-31T23:59:59Z", nil), ("2026-01-01T00:00:00Z", reseller1), ("2026-01-01T12:00:00Z", nil),
            ("2026-01-03T08:00:00Z", reseller2), ("2026-02-10T08:00:00Z", reseller1), ("2026-02-28T23:00:00Z", nil),
        ]
        var created: [Client] = []
        for (index, (instant, reseller)) in plan.enumerated() {
            clock.set(try Date(instant, strategy: .iso8601))
            created.append(try await clients.make().name("S\(index)").email("s\(index)@t.example").reseller(reseller).create())
        }
        clock.set(try Date("2026-03-01T00:00:00Z", strategy: .iso8601))
        try await clients.activate(created[1].refid)
        try await clients.activate(created[2].refid)
        try await clients.suspend(created[2].refid)
        try await clients.deactivate(created[5].refid)
        return created
    }

    struct Snapshot: Equatable, Sendable {
        var daily: [TrendPoint], monthly: [TrendPoint], yearly: [TrendPoint], resellerDaily: [TrendPoint]
        var breakdown: StatusBreakdown, januaryBreakdown: StatusBreakdown
        var segmentation: Segmentation, resellerSegmentation: Segmentation
        var growth: Growth
    }

    static func snapshot(_ engine: Engine) async throws -> Snapshot {
        let clock = ManualWallClock(now: referenceDate)
        return try await engine.withClients(clock: clock) { clients in
            _ = try await seed(clients, clock: clock)
            let analytics = clients.analytics()
            let jan1 = CivilDate(year: 2026, month: 1, day: 1), jan5 = CivilDate(year: 2026, month: 1, day: 5)
            return Snapshot(
                daily: try await analytics.daily().signupTrends(from: CivilDate(year: 2025, month: 12, day: 30), to: jan5),
                monthly: try await analytics.monthly().signupTrends(from: CivilDate(year: 2025, month: 11, day: 15),
                                                                    to: CivilDate(year: 2026, month: 3, day: 2)),
                yearly: try await analytics.yearly().signupTrends(from: CivilDate(year: 2024, month: 6, day: 1),
                                                                  to: CivilDate(year: 2026, month: 6, day: 1)),
                resellerDaily: try await analytics.forReseller(reseller1).daily().signupTrends(from: jan1, to: CivilDate(year: 2026, month: 1, day: 2)),
                breakdown: try await analytics.statusBreakdown(),
                januaryBreakdown: try await analytics.statusBreakdown(from: jan1, to: CivilDate(year: 2026, month: 1, day: 31)),
                segmentation: try await analytics.segmentation(),
                resellerSegmentation: try await analytics.forReseller(reseller1).segmentation(),
                growth: try await analytics.growth(from: CivilDate(year: 2026, month: 1, day: 1), to: CivilDate(year: 2026, month: 2, day: 28)))
        }
    }

    @Test(arguments: Engine.allCases)
    func trendsBucketByUTCDayMonthAndYearAndFillEmptyBuckets(engine: Engine) async throws {
        let s = try await Self.snapshot(engine)
        #expect(s.daily.map(\.bucket) == ["2025-12-30", "2025-12-31", "2026-01-01", "2026-01-02", "2026-01-03", "2026-01-04", "2026-01-05"])
        #expect(s.daily.map(\.count) == [0, 1, 2, 0, 1, 0, 0])
        #expect(s.monthly.map(\.bucket) == ["2025-11", "2025-12", "2026-01", "2026-02", "2026-03"])
        #expect(s.monthly.map(\.count) == [0, 1, 3, 2, 0])
        #expect(s.yearly.map(\.bucket) == ["2024", "2025", "2026"])
        #expect(s.yearly.map(\.count) == [0, 1, 5])
        #expect(s.resellerDaily.map(\.count) == [1, 0])
    }

    @Test(arguments: Engine.allCases)
    func breakdownSegmentationAndGrowthFollowStatusChanges(engine: Engine) async throws {
        let s = try await Self.snapshot(engine)
        #expect(s.breakdown[.pending] == 3)
        #expect(s.breakdown[.active] == 1)
        #expect(s.breakdown[.suspended] == 1)
        #expect(s.breakdown[.inactive] == 1)
        #expect(s.breakdown.total == 6)
        #expect(s.januaryBreakdown.total == 3)
        #expect(s.januaryBreakdown[.active] == 1 && s.januaryBreakdown[.suspended] == 1 && s.januaryBreakdown[.pending] == 1)
        #expect(s.segmentation.standalone.count == 3 && s.segmentation.resold.count == 3)
        #expect(s.segmentation.standalone.percentage == 50)
        #expect(s.resellerSegmentation.standalone.count == 0 && s.resellerSegmentation.resold.count == 2)
        #expect(s.resellerSegmentation.resold.percentage == 100)
        #expect(s.growth.newClients == 5)
        #expect(s.growth.previousPeriod == 1)
        #expect(s.growth.changePercentage == 400)
    }

    @Test func segmentationPercentagesRoundToTwoDecimals() async throws {
        try await Engine.sqlite.withClients { clients in
            _ = try await clients.make().name("S").email("s@t.example").create()
            _ = try await clients.make().name("R1").email("r1@t.example").reseller(reseller1).create()
            _ = try await clients.make().name("R2").email("r2@t.example").reseller(reseller2).create()
            let segments = try await clients.analytics().segmentation()
            #expect(segments.standalone.percentage == 33.33)
            #expect(segments.resold.percentage == 66.67)
        }
    }

    @Test func bothEnginesReturnIdenticalAnalytics() async throws {
        let sqlite = try await Self.snapshot(.sqlite)
        let postgres = try await Self.snapshot(.postgres)
        #expect(sqlite == postgres)
    }

    @Test func invalidRangesAreRejected() async throws {
        try await Engine.sqlite.withClients { clients in
            let end = CivilDate(year: 2026, month: 1, day: 1), start = CivilDate(year: 2026, month: 2, day: 1)
            await _ = expectClientError(.invalidQuery) { try await clients.analytics().signupTrends(from: start, to: end) }
            await _ = expectClientError(.invalidQuery) {
                try await clients.analytics().daily().signupTrends(from: CivilDate(year: 1900, month: 1, day: 1), to: end)
            }
        }
    }

    @Test func scopesAreValuesThatDoNotAffectEachOther() async throws {
        try await Engine.sqlite.withClients { clients in
            let base = clients.analytics()
            let scoped = base.forReseller(reseller1).daily()
            #expect(base.reseller == nil && base.interval == .monthly)
            #expect(scoped.reseller == reseller1 && scoped.interval == .daily)
        }
    }
}

extension StatusBreakdown: CustomTestStringConvertible {
    public var testDescription: String { ClientStatus.allCases.map { "\($0)=\(self[$0])" }.joined(separator: " ") }
}

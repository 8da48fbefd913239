import Ally
import Client
import Forge
import Foundation
import HTTPTypes
import Suite
import SuiteCore
import SuiteHTTP
import SuiteStorage
import SuiteTestSupport
import Testing
import Wave

/// Every analytics call over HTTP, on both engines, against data seeded through the library;
/// every answer checked against openapi.yaml.
@Suite struct AnalyticsRouteTests {
    @Test(arguments: Engine.allCases)
    func anAdminKeyReadsEveryFigureThatWasSeeded(engine: Engine) async throws {
        try await engine.withAPI { api, suite in
            let seeded = try await Self.seed(suite)
            let window = seeded.window

            // Clients: north's two, south's one, a buyer and a prospect, created today.
            let signups = try await api.call(.get, "/v1/analytics/clients/signups?\(window)&interval=daily")
            #expect(signups.status == 200 && Self.buckets(signups) == seeded.days)
            #expect(Self.sum(signups, "count") == 5)
            let yearly = try await api.call(.get, "/v1/analytics/clients/signups?\(window)&interval=yearly")
            #expect(Self.sum(yearly, "count") == 5 && Self.items(yearly).count == Set(seeded.days.map { $0.prefix(4) }).count)
            let southSignups = try await api.call(.get, "/v1/analytics/clients/signups?\(window)&reseller=\(seeded.south)")
            #expect(Self.sum(southSignups, "count") == 1)

            let status = try await api.call(.get, "/v1/analytics/clients/status")
            #expect(status["counts"] as? [String: Int] == ["pending": 1, "active": 2, "suspended": 1, "inactive": 1])
            #expect(status["total"] as? Int == 5)
            let northStatus = try await api.call(.get, "/v1/analytics/clients/status?reseller=\(seeded.north)&\(window)")
            #expect(northStatus["counts"] as? [String: Int] == ["pending": 1, "active": 1, "suspended": 0, "inactive": 0])
            let before = try await api.call(.get, "/v1/analytics/clients/status?to=\(seeded.before)")
            #expect(before["total"] as? Int == 0)

            let growth = try await api.call(.get, "/v1/analytics/clients/growth?\(window)")
            #expect(growth["new_clients"] as? Int == 5 && growth["previous_period"] as? Int == 0 && growth["change_percentage"] is NSNull)
            let after = try await api.call(.get, "/v1/analytics/clients/growth?from=\(seeded.after)&to=\(seeded.afterEnd)")
            #expect(after["new_clients"] as? Int == 0 && after["previous_period"] as? Int == 5 && after["change_percentage"] as? Double == -100)

            let segments = try await api.call(.get, "/v1/analytics/clients/segmentation")
            #expect(Self.segment(segments, "standalone") == Segment(count: 2, percentage: 40))
            #expect(Self.segment(segments, "resold") == Segment(count: 3, percentage: 60))

            // Licences: north's two 30-day ones, south's, the buyer's (all active) and the prospect's (pending).
            let stats = try await api.call(.get, "/v1/analytics/licences/stats?\(window)")
            #expect(stats["counts"] as? [String: Int] == ["pending": 1, "active": 4, "expired": 0, "revoked": 0])
            #expect(stats["total"] as? Int == 5)
            let buyerStats = try await api.call(.get, "/v1/analytics/licences/stats?client=\(seeded.buyer)")
            #expect(buyerStats["total"] as? Int == 1)

            let forecast = try await api.call(.get, "/v1/analytics/licences/forecast?days=31")
            let expiring = Self.items(forecast)
            #expect(expiring.count == 31 && expiring.first?["bucket"] as? String == seeded.today)
            #expect(expiring.last?["count"] as? Int == 2 && Self.sum(forecast, "count") == 2)  // the 30-day licences, 30 days on
            let southForecast = try await api.call(.get, "/v1/analytics/licences/forecast?days=31&reseller=\(seeded.south)")
            #expect(Self.sum(southForecast, "count") == 0)
            #expect(Self.items(try await api.call(.get, "/v1/analytics/licences/forecast")).count == 30)

            let popularity = try await api.call(.get, "/v1/analytics/licences/popularity")
            #expect(Self.items(popularity).map { Popularity($0) } == [Popularity("pro-1y", 3, 2), Popularity("std-30", 2, 2)])

            let minted = try await api.call(.get, "/v1/analytics/licences/trends?\(window)&interval=daily")
            #expect(Self.buckets(minted) == seeded.days && Self.sum(minted, "count") == 5)
            let activated = try await api.call(.get, "/v1/analytics/licences/trends?\(window)&interval=daily&kind=activated")
            #expect(Self.sum(activated, "count") == 4)

            // Resellers: north (gold, 15% off) spent 340 on two clients; south 500 on one.
            let top = try await api.call(.get, "/v1/analytics/resellers/top")
            #expect(Self.items(top).map { Ranking($0) } == [Ranking(seeded.north, "gold", 2, 340, 1), Ranking(seeded.south, "standard", 1, 500, 1)])
            let bySpend = try await api.call(.get, "/v1/analytics/resellers/top?by=credits_spent&\(window)")
            #expect(Self.items(bySpend).map { $0["reseller"] as? String } == [seeded.south, seeded.north])
            let first = try await api.call(.get, "/v1/analytics/resellers/top?limit=1")
            #expect(Self.items(first).map { $0["company"] as? String } == ["Northwind"])
            #expect(Self.items(try await api.call(.get, "/v1/analytics/resellers/top?to=\(seeded.before)")).isEmpty)

            let tiers = try await api.call(.get, "/v1/analytics/resellers/tiers")
            let figures = try #require(tiers["tiers"] as? [String: [String: Any]])
            #expect(figures["gold"].map { Tier($0) } == Tier(resellers: 1, active: 1, percentage: 50, outstanding: 660, discount: 1_500))
            #expect(figures["standard"].map { Tier($0) } == Tier(resellers: 1, active: 1, percentage: 50, outstanding: 100, discount: 0))
            #expect(figures["platinum"].map { Tier($0) } == Tier(resellers: 0, active: 0, percentage: 0, outstanding: 0, discount: 3_000))
            #expect(tiers["total_resellers"] as? Int == 2)

            let credits = try await api.call(.get, "/v1/analytics/resellers/credits?\(window)&interval=daily")
            #expect(Self.buckets(credits) == seeded.days)
            #expect(Self.sum(credits, "added") == 1_600 && Self.sum(credits, "spent") == 840 && Self.sum(credits, "provisions") == 2)
            let northCredits = try await api.call(.get, "/v1/analytics/resellers/credits?\(window)&reseller=\(seeded.north)")
            #expect(Self.sum(northCredits, "added") == 1_000 && Self.sum(northCredits, "spent") == 340)

            let outstanding = try await api.call(.get, "/v1/analytics/resellers/outstanding")
            #expect(outstanding["total_credits_distributed"] as? Int == 760)

            // Revenue: the buyer paid 500 (purchase) and 1,000 (subscription) from its wallet; 4,000 is still open.
            let revenue = try await api.call(.get, "/v1/analytics/revenue/trends?\(window)&interval=daily&currency=USD")
            #expect(Self.buckets(revenue) == seeded.days)
            #expect(Self.sum(revenue, "amount") == 1_500 && Self.sum(revenue, "payments") == 2)
            let euros = try await api.call(.get, "/v1/analytics/revenue/trends?\(window)&currency=EUR")
            #expect(euros.status == 200 && Self.sum(euros, "amount") == 0)
            let prospectRevenue = try await api.call(.get, "/v1/analytics/revenue/trends?\(window)&currency=USD&client=\(seeded.prospect)")
            #expect(Self.sum(prospectRevenue, "amount") == 0)

            let totals = try await api.call(.get, "/v1/analytics/revenue/totals")
            #expect(totals["revenue"] as? [String: Int] == ["USD": 1_500] && totals["outstanding"] as? [String: Int] == ["USD": 4_000])
            #expect(totals["paid_invoices"] as? Int == 2 && totals["open_invoices"] as? Int == 1)
            let prospectTotals = try await api.call(.get, "/v1/analytics/revenue/totals?client=\(seeded.prospect)&\(window)")
            #expect(prospectTotals["revenue"] as? [String: Int] == [:] && prospectTotals["paid_invoices"] as? Int == 0)

            let mrr = try await api.call(.get, "/v1/analytics/revenue/mrr")
            let recurring = Self.items(mrr)
            #expect(recurring.count == 1 && recurring.first?["currency"] as? String == "USD" && recurring.first?["amount"] as? Int == 1_000)
            #expect(recurring.first?["active_subscriptions"] as? Int == 1 && recurring.first?["past_due_amount"] as? Int == 0)
            #expect(Self.items(try await api.call(.get, "/v1/analytics/revenue/mrr?client=\(seeded.prospect)")).isEmpty)
        }
    }

    /// A reseller key reads the client and licence analytics and the credit trends of its own
    /// reseller only, is refused another reseller's, and finds no route for the rest.
    @Test(arguments: Engine.allCases)
    func aResellerKeySeesOnlyItsOwnResellersFigures(engine: Engine) async throws {
        try await engine.withAPI { api, suite in
            let seeded = try await Self.seed(suite)
            let window = seeded.window
            let key = try await api.keys.create(.reseller(Refid(rawValue: seeded.north))).secret

            let signups = try await api.call(.get, "/v1/analytics/clients/signups?\(window)&interval=daily", key: key)
            #expect(signups.status == 200 && Self.sum(signups, "count") == 2)
            let status = try await api.call(.get, "/v1/analytics/clients/status", key: key)
            #expect(status["counts"] as? [String: Int] == ["pending": 1, "active": 1, "suspended": 0, "inactive": 0])
            let growth = try await api.call(.get, "/v1/analytics/clients/growth?\(window)", key: key)
            #expect(growth["new_clients"] as? Int == 2)
            let segments = try await api.call(.get, "/v1/analytics/clients/segmentation", key: key)
            #expect(Self.segment(segments, "standalone") == Segment(count: 0, percentage: 0))
            #expect(Self.segment(segments, "resold") == Segment(count: 2, percentage: 100))
            let named = try await api.call(.get, "/v1/analytics/clients/status?reseller=\(seeded.north)", key: key)
            #expect(named["total"] as? Int == 2)

            let stats = try await api.call(.get, "/v1/analytics/licences/stats", key: key)
            #expect(stats["counts"] as? [String: Int] == ["pending": 0, "active": 2, "expired": 0, "revoked": 0])
            let forecast = try await api.call(.get, "/v1/analytics/licences/forecast?days=31", key: key)
            #expect(Self.items(forecast).last?["count"] as? Int == 2)
            let popularity = try await api.call(.get, "/v1/analytics/licences/popularity", key: key)
            #expect(Self.items(popularity).map { Popularity($0) } == [Popularity("std-30", 2, 2)])
            let trends = try await api.call(.get, "/v1/analytics/licences/trends?\(window)&kind=activated", key: key)
            #expect(Self.sum(trends, "count") == 2)
            // Another reseller's client, named as `client`, is outside the key's scope: nothing.
            let theirs = try await api.call(.get, "/v1/analytics/licences/stats?client=\(seeded.southClient)", key: key)
            #expect(theirs.status == 200 && theirs["total"] as? Int == 0)

            let credits = try await api.call(.get, "/v1/analytics/resellers/credits?\(window)", key: key)
            #expect(Self.sum(credits, "added") == 1_000 && Self.sum(credits, "spent") == 340 && Self.sum(credits, "provisions") == 1)

            for path in ["clients/status", "clients/signups?\(window)", "licences/stats", "licences/forecast", "resellers/credits?\(window)"] {
                let separator = path.contains("?") ? "&" : "?"
                let other = try await api.call(.get, "/v1/analytics/\(path)\(separator)reseller=\(seeded.south)", key: key)
                #expect(other.status == 422, "\(path) answered \(other.status) for another reseller")
                #expect((other["detail"] as? String)?.hasPrefix("Invalid") == true)
            }
            for path in ["resellers/top", "resellers/tiers", "resellers/outstanding", "revenue/trends?\(window)&currency=USD",
                         "revenue/totals", "revenue/mrr"] {
                let refused = try await api.call(.get, "/v1/analytics/\(path)", key: key)
                #expect(refused.status == 404 && refused["code"] as? String == "route_not_found", "\(path) answered \(refused.status)")
            }
        }
    }

    /// A verify key finds no analytics route, no key is a 401, and every bad query value is a
    /// 4xx problem with a one-line detail — never a 5xx.
    @Test(arguments: Engine.allCases)
    func aVerifyKeyFindsNoRouteAndBadQueriesAreProblems(engine: Engine) async throws {
        try await engine.withAPI { api, suite in
            let verify = try await api.keys.create(.verify).secret
            let endpoints = AnalyticsRoutes<SuiteAPI.Context>(suite: suite).endpoints
            #expect(endpoints.count == 15)
            for endpoint in endpoints {
                let refused = try await api.call(.get, endpoint.path + "?from=2026-01-01&to=2026-01-31&currency=USD", key: verify)
                #expect(refused.status == 404 && refused["code"] as? String == "route_not_found", "\(endpoint) answered \(refused.status)")
                #expect(try await api.call(.get, endpoint.path, key: .some(nil)).status == 401)
            }

            let cases: [(query: String, status: Int, detail: String)] = [
                ("clients/signups?from=2026-02-30&to=2026-03-01", 422, "Invalid from: use a date like 2026-01-31"),
                ("clients/signups?from=2026-01-01", 422, "Missing to: give a date like 2026-01-31"),
                ("clients/signups?from=yesterday&to=2026-01-01", 422, "Invalid from: use a date like 2026-01-31"),
                ("clients/signups?from=2026-01-01&to=2026-12-31&interval=weekly", 422, "Invalid interval: use daily, monthly or yearly"),
                ("clients/signups?from=2026-03-01&to=2026-01-01", 422, "Invalid range: the start is after the end"),
                ("clients/signups?from=2000-01-01&to=2026-01-01&interval=daily", 422, "Invalid range: 9498 daily buckets; the limit is 3700"),
                ("clients/status?from=2026-03-01&to=2026-01-01", 422, "Invalid range: the start is after the end"),
                ("clients/growth?to=2026-01-01", 422, "Missing from: give a date like 2026-01-31"),
                ("clients/growth?from=2026-03-01&to=2026-01-01", 422, "Invalid range: the start is after the end"),
                ("clients/segmentation?to=2026-13-01", 422, "Invalid to: use a date like 2026-01-31"),
                ("licences/stats?from=2026-03-01&to=2026-01-01", 422, "Invalid range: the start is after the end"),
                ("licences/forecast?days=0", 422, "Invalid days: use 1…3700"),
                ("licences/forecast?days=9999999999999999999999", 422, "Invalid days: use a whole number"),
                ("licences/popularity?from=01-01-2026", 422, "Invalid from: use a date like 2026-01-31"),
                ("licences/trends?from=2026-01-01&to=2026-01-31&kind=renewed", 422, "Invalid kind: use minted or activated"),
                ("licences/trends?from=1990-01-01&to=2026-01-01&interval=daily", 422, "Invalid range: 13150 daily buckets; the limit is 3700"),
                ("resellers/top?limit=0", 422, "Invalid limit: use 1…500"),
                ("resellers/top?limit=ten", 422, "Invalid limit: use a whole number"),
                ("resellers/top?by=revenue", 422, "Invalid by: use clients_acquired or credits_spent"),
                ("resellers/top?from=2026-03-01&to=2026-01-01", 422, "Invalid range: the start is after the end"),
                ("resellers/credits?from=2026-01-01&to=2026-01-31&reseller=RS-NOPE", 404, "Reseller Not Found: no reseller with refid RS-NOPE"),
                ("resellers/credits?from=2026-01-01&to=2036-03-31&interval=daily", 422, "Invalid range: 3743 daily buckets; the limit is 3700"),
                ("revenue/trends?from=2026-01-01&to=2026-01-31", 422, "Missing currency: give an ISO 4217 code such as USD"),
                ("revenue/trends?from=2026-01-01&to=2026-01-31&currency=dollars", 422, ""),
                ("revenue/trends?from=2026-03-01&to=2026-01-01&currency=USD", 422, "Invalid range: the start is after the end"),
                ("revenue/totals?from=2026-03-01&to=2026-01-01", 422, "Invalid range: the start is after the end"),
            ]
            for (query, status, detail) in cases {
                let answer = try await api.call(.get, "/v1/analytics/\(query)")
                #expect(answer.status == status, "\(query) answered \(answer.status): \(answer.text)")
                let text = answer["detail"] as? String ?? ""
                #expect(!text.isEmpty && !text.contains("\n") && (detail.isEmpty || text == detail), "\(query): \(text)")
            }
        }
    }

    // MARK: Seed

    /// What ``seed(_:)`` made, and the days the figures fall on.
    struct Seeded {
        var north, south, southClient, buyer, prospect: String
        /// Today (UTC), and the three days around it that every trend here covers.
        var today: String
        var days: [String]
        var window: String { "from=\(days[0])&to=\(days[2])" }
        /// A day before anything was made, and a three-day period starting after the window.
        var before, after, afterEnd: String
    }

    /// Two resellers with credits (north gold, south standard), their clients provisioned, a
    /// standalone buyer who paid a purchase and a subscription from its wallet and has an open
    /// invoice, and a prospect with a pending licence who was then deactivated.
    static func seed(_ suite: ClientSuite) async throws -> Seeded {
        let today = CivilDate(suite.clock.now())
        _ = try await suite.products.create(name: "Pro", slug: "pro-1y", price: 500, currency: "USD", licenceDays: 365)
        _ = try await suite.products.create(name: "Starter", slug: "std-30", price: 200, currency: "USD", licenceDays: 30)
        let north = try await suite.allies.make().user("u-north").company("Northwind").gold().create()
        let south = try await suite.allies.make().user("u-south").company("Southwind").create()
        try await suite.allies.addCredits(north.refid, 1_000)
        try await suite.allies.addCredits(south.refid, 600)
        let acme = try await suite.clients.make().name("Acme").email("it@acme.example").reseller(north.refid).create()
        let bolt = try await suite.clients.make().name("Bolt").email("it@bolt.example").reseller(north.refid).create()
        let cove = try await suite.clients.make().name("Cove").email("it@cove.example").reseller(south.refid).create()
        _ = try await suite.clients.activate(acme.refid)
        _ = try await suite.clients.activate(cove.refid)
        _ = try await suite.workflows.provision(reseller: north.refid, clients: [acme.refid, bolt.refid], product: "std-30",
                                                idempotencyKey: "north-1")
        _ = try await suite.workflows.provision(reseller: south.refid, client: cove.refid, product: "pro-1y", idempotencyKey: "south-1")
        _ = try await suite.clients.suspend(cove.refid)

        let buyer = try await suite.clients.make().name("Buyer").email("buyer@example.com").create()
        try await suite.invoices.topUp(buyer.refid, amount: 10_000, currency: "USD")
        let purchase = try await suite.workflows.purchase(.existing(buyer.refid), product: "pro-1y", idempotencyKey: "buy-1")
        #expect(purchase.outcome.isPaid)
        let plan = try await suite.subscriptions.plans.create(name: "Support", slug: "support", price: 1_000, currency: "USD",
                                                              interval: .monthly)
        #expect(try await suite.subscriptions.start(client: buyer.refid, plan: plan.refid).subscription.status == .active)
        _ = try await suite.invoices.make().for(buyer.refid).currency("USD").amount(4_000).create()

        let prospect = try await suite.clients.make().name("Prospect").email("prospect@example.com").create()
        _ = try await suite.licences.make().product("pro-1y").client(prospect.refid).mint()
        _ = try await suite.clients.transition(.deactivate, prospect.refid)

        func day(_ offset: Int64) -> String { CivilDate(dayNumber: today.dayNumber + offset).description }
        return Seeded(north: north.refid.rawValue, south: south.refid.rawValue, southClient: cove.refid.rawValue,
                      buyer: buyer.refid.rawValue, prospect: prospect.refid.rawValue, today: today.description,
                      days: [day(-1), day(0), day(1)], before: day(-2), after: day(2), afterEnd: day(4))
    }

    // MARK: Reading answers

    static func items(_ answer: Answer) -> [[String: Any]] { answer["items"] as? [[String: Any]] ?? [] }
    static func buckets(_ answer: Answer) -> [String] { items(answer).compactMap { $0["bucket"] as? String } }
    static func sum(_ answer: Answer, _ field: String) -> Int { items(answer).reduce(0) { $0 + ($1[field] as? Int ?? 0) } }

    struct Segment: Equatable {
        var count: Int?
        var percentage: Double?
    }

    static func segment(_ answer: Answer, _ name: String) -> Segment? {
        (answer[name] as? [String: Any]).map { Segment(count: $0["count"] as? Int, percentage: $0["percentage"] as? Double) }
    }

    struct Popularity: Equatable {
        var product: String?, minted: Int?, activated: Int?
        init(_ product: String, _ minted: Int, _ activated: Int) { (self.product, self.minted, self.activated) = (product, minted, activated) }
        init(_ json: [String: Any]) {
            (product, minted, activated) = (json["product"] as? String, json["minted"] as? Int, json["activated"] as? Int)
        }
    }

    struct Ranking: Equatable {
        var reseller: String?, tier: String?, clients: Int?, spent: Int?, provisions: Int?
        init(_ reseller: String, _ tier: String, _ clients: Int, _ spent: Int, _ provisions: Int) {
            (self.reseller, self.tier, self.clients, self.spent, self.provisions) = (reseller, tier, clients, spent, provisions)
        }
        init(_ json: [String: Any]) {
            (reseller, tier, clients, spent, provisions) = (json["reseller"] as? String, json["tier"] as? String,
                                                           json["clients_acquired"] as? Int, json["credits_spent"] as? Int,
                                                           json["provisions"] as? Int)
        }
    }

    struct Tier: Equatable {
        var resellers: Int?, active: Int?, percentage: Double?, outstanding: Int?, discount: Int?
        init(resellers: Int, active: Int, percentage: Double, outstanding: Int, discount: Int) {
            (self.resellers, self.active, self.percentage, self.outstanding, self.discount) = (resellers, active, percentage, outstanding, discount)
        }
        init(_ json: [String: Any]) {
            (resellers, active, percentage, outstanding, discount) = (json["resellers"] as? Int, json["active"] as? Int,
                                                                     json["percentage"] as? Double, json["outstanding_credits"] as? Int,
                                                                     json["discount_basis_points"] as? Int)
        }
    }
}

import Ally
import Client
import Forge
public import Hummingbird
public import HummingbirdAuth
public import Suite
import SuiteCore
import Wave

/// Every analytics call of the suite's modules over HTTP, under `/v1/analytics`: what
/// `dock client|forge|ally|wave analytics` print, with the same options as query parameters and
/// the same JSON (a list as `{"items": […]}`). Days are `from` and `to` as `YYYY-MM-DD` (UTC,
/// inclusive), trends take `interval` (`daily`, `monthly`, `yearly`; monthly by default), and a
/// bad value is a 422 problem naming the parameter. Only the groups of the modules the suite has
/// are served.
/// - An admin key reaches every route.
/// - A reseller key reaches the client and licence analytics and the credit trends, always
///   scoped to its own reseller; a `reseller` parameter naming another is refused (422). The
///   figures across resellers (rankings, tiers, credits outstanding) and revenue answer 404, as
///   for no route.
/// - A verify key reaches none.
///
/// ```swift
/// router.addRoutes(AnalyticsRoutes<BasicAuthRequestContext<APIKey>>(suite: suite).collection, atPath: "/v1/analytics")
/// // GET /v1/analytics/clients/signups?from=2026-01-01&to=2026-12-31&interval=monthly
/// ```
public struct AnalyticsRoutes<Context: AuthRequestContext>: Sendable where Context.Identity == APIKey {
    let suite: ClientSuite

    /// Routes over the analytics of `suite`'s modules.
    public init(suite: ClientSuite) { self.suite = suite }

    /// The endpoints, as openapi.yaml lists them (those of the modules the suite has).
    public var endpoints: [Endpoint] {
        var paths: [String] = []
        if suite.modules.contains(.client) { paths += ["clients/signups", "clients/status", "clients/growth", "clients/segmentation"] }
        if suite.modules.contains(.forge) { paths += ["licences/stats", "licences/forecast", "licences/popularity", "licences/trends"] }
        if suite.modules.contains(.ally) { paths += ["resellers/top", "resellers/tiers", "resellers/credits", "resellers/outstanding"] }
        if suite.modules.contains(.wave) { paths += ["revenue/trends", "revenue/totals", "revenue/mrr"] }
        return paths.map { Endpoint(.get, "/v1/analytics/\($0)") }
    }

    /// The routes, relative to `/v1/analytics`.
    public var collection: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        if suite.modules.contains(.client) { addClientRoutes(to: routes) }
        if suite.modules.contains(.forge) { addLicenceRoutes(to: routes) }
        if suite.modules.contains(.ally) { addResellerRoutes(to: routes) }
        if suite.modules.contains(.wave) { addRevenueRoutes(to: routes) }
        return routes
    }

    // MARK: Clients

    /// `dock client analytics`: signups, status, growth, segmentation; `reseller` narrows to one reseller's clients.
    private func addClientRoutes(to routes: RouteCollection<Context>) {
        let suite = suite
        routes.get("clients/signups") { request, context in
            let query = AnalyticsQuery(request)
            let analytics = try Self.clientAnalytics(suite, query, key: try context.apiKey())
            let (start, end) = try query.requiredDays()
            let points = try await analytics.interval(try query.interval()).signupTrends(from: start, to: end)
            return try Response.json(Items(items: points))
        }
        routes.get("clients/status") { request, context in
            let query = AnalyticsQuery(request)
            let analytics = try Self.clientAnalytics(suite, query, key: try context.apiKey())
            let (start, end) = try query.optionalDays()
            return try Response.json(try await analytics.statusBreakdown(from: start, to: end))
        }
        routes.get("clients/growth") { request, context in
            let query = AnalyticsQuery(request)
            let analytics = try Self.clientAnalytics(suite, query, key: try context.apiKey())
            let (start, end) = try query.requiredDays()
            return try Response.json(try await analytics.growth(from: start, to: end))
        }
        routes.get("clients/segmentation") { request, context in
            let query = AnalyticsQuery(request)
            let analytics = try Self.clientAnalytics(suite, query, key: try context.apiKey())
            let (start, end) = try query.optionalDays()
            return try Response.json(try await analytics.segmentation(from: start, to: end))
        }
    }

    /// All clients (or `reseller`'s) for an admin key; the key's reseller portfolio for a reseller
    /// key, which itself refuses a `reseller` naming another (`invalid_query`).
    private static func clientAnalytics(_ suite: ClientSuite, _ query: AnalyticsQuery, key: APIKey) throws -> ClientAnalytics {
        let clients = try suite.clients
        let reseller = query.refid("reseller")
        switch key.role {
        case .admin: return clients.analytics().forReseller(reseller)
        case .reseller(let own):
            let portfolio = clients.portfolio(of: own).analytics()
            return reseller.map { portfolio.forReseller($0) } ?? portfolio
        case .verify: throw Problem.noRoute
        }
    }

    // MARK: Licences

    /// `dock forge analytics`: stats, forecast, popularity (`products` in dock), trends (`kind`
    /// minted or activated); `client` and `reseller` narrow to one client's or one reseller's clients' licences.
    private func addLicenceRoutes(to routes: RouteCollection<Context>) {
        let suite = suite
        routes.get("licences/stats") { request, context in
            let query = AnalyticsQuery(request)
            let analytics = try Self.licenceAnalytics(suite, query, key: try context.apiKey())
            let (start, end) = try query.optionalDays()
            return try Response.json(try await analytics.mintingStats(from: start, to: end))
        }
        routes.get("licences/forecast") { request, context in
            let query = AnalyticsQuery(request)
            let analytics = try Self.licenceAnalytics(suite, query, key: try context.apiKey())
            let days = try query.integer("days", default: 30)
            return try Response.json(Items(items: try await analytics.expirationForecast(days: days)))
        }
        routes.get("licences/popularity") { request, context in
            let query = AnalyticsQuery(request)
            let analytics = try Self.licenceAnalytics(suite, query, key: try context.apiKey())
            let (start, end) = try query.optionalDays()
            return try Response.json(Items(items: try await analytics.productPopularity(from: start, to: end)))
        }
        routes.get("licences/trends") { request, context in
            let query = AnalyticsQuery(request)
            let analytics = try Self.licenceAnalytics(suite, query, key: try context.apiKey())
            let (start, end) = try query.requiredDays()
            let kind = try query.choice("kind", default: LicenceTrendKind.minted)
            let bucketed = analytics.interval(try query.interval())
            let points = switch kind {
            case .minted: try await bucketed.mintingTrends(from: start, to: end)
            case .activated: try await bucketed.activationTrends(from: start, to: end)
            }
            return try Response.json(Items(items: points))
        }
    }

    /// All licences (or `client`'s, `reseller`'s) for an admin key; a reseller key's own
    /// reseller's clients', which `client` may narrow further.
    private static func licenceAnalytics(_ suite: ClientSuite, _ query: AnalyticsQuery, key: APIKey) throws -> ForgeAnalytics {
        let reseller = try ownScope(query.refid("reseller"), for: key)
        return try suite.licences.analytics().forClient(query.refid("client")).forReseller(reseller)
    }

    // MARK: Resellers

    /// `dock ally analytics`: top (`by` clients_acquired or credits_spent), tiers, credits,
    /// outstanding. Its `stats` is `GET /v1/resellers/{refid}/stats`.
    private func addResellerRoutes(to routes: RouteCollection<Context>) {
        let suite = suite
        routes.get("resellers/top") { request, context in
            _ = try context.adminKey()
            let query = AnalyticsQuery(request)
            let limit = try query.integer("limit", default: 10)
            let (start, end) = try query.optionalDays()
            let order = try query.choice("by", default: RankingOrder.clientsAcquired).order
            let ranking = try await suite.allies.analytics().topResellers(limit: limit, from: start, to: end, by: order)
            return try Response.json(Items(items: ranking))
        }
        routes.get("resellers/tiers") { _, context in
            _ = try context.adminKey()
            return try Response.json(try await suite.allies.analytics().tierSnapshot())
        }
        routes.get("resellers/credits") { request, context in
            let query = AnalyticsQuery(request)
            let reseller = try Self.ownScope(query.refid("reseller"), for: try context.apiKey())
            let (start, end) = try query.requiredDays()
            let analytics = try suite.allies.analytics().interval(try query.interval()).forReseller(reseller)
            return try Response.json(Items(items: try await analytics.creditTrends(from: start, to: end)))
        }
        routes.get("resellers/outstanding") { _, context in
            _ = try context.adminKey()
            let total = try await suite.allies.analytics().totalCreditsDistributed()
            return try Response.json(CreditsDistributed(totalCreditsDistributed: total))
        }
    }

    // MARK: Revenue

    /// `dock wave analytics`: revenue (trends, `currency` required), totals, mrr; `client`
    /// narrows to one client. Admin keys only: revenue is not a reseller's.
    private func addRevenueRoutes(to routes: RouteCollection<Context>) {
        let suite = suite
        routes.get("revenue/trends") { request, context in
            _ = try context.adminKey()
            let query = AnalyticsQuery(request)
            let (start, end) = try query.requiredDays()
            guard let currency = request.query("currency") else {
                throw Problem(.unprocessableContent, code: "validation", detail: "Missing currency: give an ISO 4217 code such as USD")
            }
            let analytics = try suite.invoices.analytics().forClient(query.refid("client")).interval(try query.interval())
            return try Response.json(Items(items: try await analytics.revenueTrends(from: start, to: end, currency: currency)))
        }
        routes.get("revenue/totals") { request, context in
            _ = try context.adminKey()
            let query = AnalyticsQuery(request)
            let (start, end) = try query.optionalDays()
            return try Response.json(try await suite.invoices.analytics().forClient(query.refid("client")).totals(from: start, to: end))
        }
        routes.get("revenue/mrr") { request, context in
            _ = try context.adminKey()
            let analytics = try suite.invoices.analytics().forClient(AnalyticsQuery(request).refid("client"))
            return try Response.json(Items(items: try await analytics.mrr()))
        }
    }

    // MARK: Scope

    /// The reseller a scoped call reports on: `asked` (one, or all when nil) for an admin key; a
    /// reseller key's own, the only one it may ask for. A verify key reaches no analytics.
    private static func ownScope(_ asked: Refid?, for key: APIKey) throws -> Refid? {
        switch key.role {
        case .admin: return asked
        case .reseller(let own):
            if let asked, asked != own {
                throw Problem(.unprocessableContent, code: "validation",
                              detail: "Invalid reseller: a reseller key reports on its own reseller only")
            }
            return own
        case .verify: throw Problem.noRoute
        }
    }
}

/// `GET /v1/analytics/resellers/outstanding`: the shape `dock ally analytics outstanding --json` prints.
private struct CreditsDistributed: Encodable {
    var totalCreditsDistributed: Int64
}

/// The query parameters the analytics routes share, read and checked: a bad value is a 422
/// problem that names the parameter. Ranges, limits and currencies are checked by the library.
private struct AnalyticsQuery {
    let request: Request

    init(_ request: Request) { self.request = request }

    /// `from` and `to`, both required.
    func requiredDays() throws -> (start: CivilDate, end: CivilDate) {
        let (start, end) = try optionalDays()
        guard let start else { throw Self.missing("from") }
        guard let end else { throw Self.missing("to") }
        return (start, end)
    }

    /// `from` and `to`, each optional (all time without them).
    func optionalDays() throws -> (start: CivilDate?, end: CivilDate?) {
        (try day("from"), try day("to"))
    }

    /// `interval`: daily, monthly (the default) or yearly.
    func interval() throws -> Interval { try choice("interval", default: .monthly) }

    /// The parameter `name` as a refid; an unknown one reports zeros, as in dock.
    func refid(_ name: String) -> Refid? { request.query(name).map { Refid(rawValue: $0) } }

    /// The parameter `name` as a whole number (`fallback` when absent).
    func integer(_ name: String, default fallback: Int) throws -> Int {
        guard let text = request.query(name) else { return fallback }
        guard let number = Int(text) else {
            throw Problem(.unprocessableContent, code: "validation", detail: "Invalid \(name): use a whole number")
        }
        return number
    }

    /// The parameter `name` as one of `Choice`'s cases (`fallback` when absent).
    func choice<Choice: CaseIterable & RawRepresentable>(_ name: String, default fallback: Choice) throws -> Choice
        where Choice.RawValue == String {
        guard let text = request.query(name) else { return fallback }
        guard let value = Choice(rawValue: text) else {
            let names = Choice.allCases.map(\.rawValue)
            throw Problem(.unprocessableContent, code: "validation",
                          detail: "Invalid \(name): use \(names.dropLast().joined(separator: ", ")) or \(names.last ?? "")")
        }
        return value
    }

    private func day(_ name: String) throws -> CivilDate? {
        guard let text = request.query(name) else { return nil }
        guard let date = CivilDate(parsing: text) else {
            throw Problem(.unprocessableContent, code: "validation", detail: "Invalid \(name): use a date like 2026-01-31")
        }
        return date
    }

    private static func missing(_ name: String) -> Problem {
        Problem(.unprocessableContent, code: "validation", detail: "Missing \(name): give a date like 2026-01-31")
    }
}

/// `kind` of `GET /v1/analytics/licences/trends`: what is counted per bucket.
private enum LicenceTrendKind: String, CaseIterable {
    case minted, activated
}

/// `by` of `GET /v1/analytics/resellers/top`: what ranks first.
private enum RankingOrder: String, CaseIterable {
    case clientsAcquired = "clients_acquired", creditsSpent = "credits_spent"

    var order: ResellerRanking.Order { self == .creditsSpent ? .creditsSpent : .clientsAcquired }
}

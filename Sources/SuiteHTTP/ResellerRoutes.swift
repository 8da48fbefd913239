public import Ally
import Foundation
public import Hummingbird
public import HummingbirdAuth
import SuiteCore
import SuiteStorage
import Wallet

/// The Ally module over HTTP, under `/v1/resellers`: register, read, list, add credits, suspend,
/// reinstate, credit history and statistics.
/// - An admin key reaches every route.
/// - A reseller key reads its own reseller (with its balance), its credit history and its
///   statistics; any other reseller is "Reseller Not Found", word for word as for a refid that
///   does not exist. It changes nothing here: it spends its credits through provisioning.
/// - A verify key reaches none.
public struct ResellerRoutes<Context: AuthRequestContext>: Sendable where Context.Identity == APIKey {
    let allies: Allies

    /// Routes over `allies`.
    public init(allies: Allies) { self.allies = allies }

    /// The endpoints, as openapi.yaml lists them.
    public static var endpoints: [Endpoint] {
        [Endpoint(.post, "/v1/resellers"), Endpoint(.get, "/v1/resellers"), Endpoint(.get, "/v1/resellers/{refid}"),
         Endpoint(.get, "/v1/resellers/{refid}/history"), Endpoint(.get, "/v1/resellers/{refid}/stats"),
         Endpoint(.post, "/v1/resellers/{refid}/credits"), Endpoint(.post, "/v1/resellers/{refid}/suspend"),
         Endpoint(.post, "/v1/resellers/{refid}/reinstate")]
    }

    /// The routes, relative to `/v1/resellers`.
    public var collection: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        let allies = allies
        routes.post { request, context in
            let key = try context.adminKey()
            let body = try await request.decode(NewReseller.self)
            var builder = allies.make().user(body.userID).company(body.company).metadata(body.metadata ?? [:])
            if let tier = body.tier {
                guard let parsed = ResellerTier(rawValue: tier) else {
                    throw Problem(.unprocessableContent, code: "validation", detail: "Invalid tier: use standard, gold or platinum")
                }
                builder = builder.tier(parsed)
            }
            let reseller = try await builder.create(actor: key.actor)
            return try Response.json(Self.withBalance(reseller, 0), status: .created)
        }
        routes.get { request, context in
            _ = try context.adminKey()
            let (limit, after) = try request.page()
            return try Response.json(try await allies.list(limit: limit, after: after))
        }
        routes.get(":refid") { _, context in
            let reseller = try await Self.visible(context.parameters.refid("refid"), to: try context.apiKey(), in: allies)
            return try Response.json(Self.withBalance(reseller, try await allies.balance(reseller.refid)))
        }
        routes.get(":refid/history") { request, context in
            let reseller = try await Self.visible(context.parameters.refid("refid"), to: try context.apiKey(), in: allies)
            let (limit, after) = try request.page()
            return try Response.json(try await allies.ledger.history(of: reseller.wallet, limit: limit, after: after))
        }
        routes.get(":refid/stats") { _, context in
            let reseller = try await Self.visible(context.parameters.refid("refid"), to: try context.apiKey(), in: allies)
            return try Response.json(try await allies.analytics().resellerStats(reseller.refid))
        }
        routes.post(":refid/credits") { request, context in
            let key = try context.adminKey()
            let body = try await request.decode(Credits.self)
            let refid = context.parameters.refid("refid")
            try await allies.addCredits(refid, body.amount, actor: key.actor)
            return try Response.json(Self.withBalance(try await allies.find(refid), try await allies.balance(refid)))
        }
        routes.post(":refid/suspend") { request, context in
            let key = try context.adminKey()
            let body = try await request.decode(Reason.self)
            return try Response.json(try await allies.suspend(context.parameters.refid("refid"), actor: key.actor, reason: body.reason))
        }
        routes.post(":refid/reinstate") { request, context in
            let key = try context.adminKey()
            let body = try await request.decode(Reason.self)
            return try Response.json(try await allies.reinstate(context.parameters.refid("refid"), actor: key.actor, reason: body.reason))
        }
        return routes
    }

    /// A reseller and its balance in one object, the shape `dock ally show --json` prints.
    static func withBalance(_ reseller: Reseller, _ balance: Int64) -> Merged<Reseller, ResellerBalance> {
        Merged(reseller, ResellerBalance(reseller: reseller.refid, balance: balance))
    }

    /// The reseller if `key` may see it; otherwise the same answer as for a refid that does not exist.
    static func visible(_ refid: Refid, to key: APIKey, in allies: Allies) async throws -> Reseller {
        switch key.role {
        case .admin: return try await allies.find(refid)
        case .verify: throw Problem.noRoute
        case .reseller(let own):
            guard own == refid else {
                throw Problem(.notFound, code: "not_found", detail: "Reseller Not Found: no reseller with refid \(refid.rawValue.prefix(64))")
            }
            return try await allies.find(refid)
        }
    }
}

/// The body of `POST /v1/resellers`.
struct NewReseller: Decodable {
    var userID: String
    var company: String
    var tier: String?
    var metadata: Metadata?

    // The suite's decoder turns `user_id` into `userId`, not `userID`.
    private enum CodingKeys: String, CodingKey { case userID = "userId", company, tier, metadata }
}

/// The body of `POST /v1/resellers/{refid}/credits`.
struct Credits: Decodable {
    var amount: Int64
}

public import Client
public import Hummingbird
import SuiteCore
import SuiteStorage

/// The Client module over HTTP, under `/v1/clients`: create, read, list, update metadata, the
/// four lifecycle moves and the audit trail. Mount it alone in any Hummingbird router:
///
/// ```swift
/// router.addRoutes(ClientRoutes<BasicRequestContext>(clients: clients).collection, atPath: "/v1/clients")
/// ```
public struct ClientRoutes<Context: RequestContext>: Sendable {
    let clients: Clients
    /// Who the audit trail names for changes made here.
    let actor: String

    /// Routes over `clients`; changes are audited as `actor`.
    public init(clients: Clients, actor: String = "api") {
        self.clients = clients
        self.actor = actor
    }

    /// The endpoints, as openapi.yaml lists them.
    public static var endpoints: [Endpoint] {
        [Endpoint(.post, "/v1/clients"), Endpoint(.get, "/v1/clients"), Endpoint(.get, "/v1/clients/{refid}"),
         Endpoint(.patch, "/v1/clients/{refid}"), Endpoint(.get, "/v1/clients/{refid}/history")]
            + ClientTransition.allCases.map { Endpoint(.post, "/v1/clients/{refid}/\($0.rawValue)") }
    }

    /// The routes, relative to `/v1/clients`.
    public var collection: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        let clients = clients, actor = actor
        routes.post { request, _ in
            let body = try await request.decode(NewClient.self)
            let client = try await clients.make().name(body.name).email(body.email).phone(body.phone)
                .reseller(body.reseller).user(body.userID).metadata(body.metadata ?? [:]).create(actor: actor)
            return try Response.json(client, status: .created)
        }
        routes.get { request, _ in
            let (limit, after) = try request.page()
            var query = clients.query().limit(limit).after(after)
            if let text = request.query("status") {
                guard let status = ClientStatus(rawValue: text) else {
                    throw Problem(.unprocessableContent, code: "validation",
                                  detail: "Invalid status: use \(ClientStatus.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                query = query.status(status)
            }
            if let reseller = request.query("reseller") { query = query.forReseller(Refid(rawValue: reseller)) }
            return try Response.json(try await query.fetch())
        }
        routes.get(":refid") { _, context in
            try Response.json(try await clients.find(context.parameters.refid("refid")))
        }
        routes.patch(":refid") { request, context in
            let body = try await request.decode(ClientChanges.self)
            guard let metadata = body.metadata else {
                throw Problem(.unprocessableContent, code: "validation", detail: "Nothing to change: give metadata")
            }
            return try Response.json(try await clients.updateMetadata(context.parameters.refid("refid"), merging: metadata, actor: actor))
        }
        routes.get(":refid/history") { request, context in
            let (limit, _) = try request.page()
            let trail = try await clients.auditTrail(of: context.parameters.refid("refid"), limit: limit)
            return try Response.json(Items(items: trail))
        }
        for move in ClientTransition.allCases {
            routes.post(":refid/\(move.rawValue)") { request, context in
                let body = try await request.decode(Reason.self)
                return try Response.json(try await clients.transition(move, context.parameters.refid("refid"), actor: actor, reason: body.reason))
            }
        }
        return routes
    }
}

/// The body of `POST /v1/clients`.
struct NewClient: Decodable {
    var name: String
    var email: String
    var phone: String?
    var reseller: String?
    var userID: String?
    var metadata: Metadata?
}

/// The body of `PATCH /v1/clients/{refid}`: metadata merged in, a `null` value removes its key.
struct ClientChanges: Decodable {
    var metadata: Metadata?
}

/// The optional body of a lifecycle move.
struct Reason: Decodable {
    var reason: String?
}

/// A list that is not paged (an audit trail): `{"items": […]}`.
struct Items<Item: Encodable>: Encodable {
    var items: [Item]
}

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

/// Properties of every route, taken from the router's own endpoint list, so that a route added
/// later is tried too: tenant isolation for reseller keys, and bad input answered 4xx, never 5xx.
@Suite struct EveryRouteTests {
    /// One reseller's key asks every route that takes a refid about another reseller's (or an
    /// admin's) things: the answer is the one a refid that does not exist gets, and nothing changes.
    @Test(arguments: Engine.allCases)
    func aResellerKeyLearnsNothingOfAnotherResellersThings(engine: Engine) async throws {
        try await engine.withAPI { api, suite in
            let world = try await World.make(suite)
            let north = try await suite.allies.make().user("u-north").company("Northwind").create()
            let key = try await api.keys.create(.reseller(north.refid)).secret
            let before = try await world.snapshot(suite)
            var tried = 0
            for endpoint in api.endpoints where endpoint.path.contains("{") && !endpoint.path.hasPrefix("/checkout") {
                let theirs = world.path(endpoint.path)
                let missing = world.path(endpoint.path, missing: true)
                let body: [String: Any] = [:]
                let asked = try await api.call(endpoint.method, theirs, json: body, headers: keyed("iso-\(tried)"), key: .some(key))
                let control = try await api.call(endpoint.method, missing, json: body, headers: keyed("iso-missing-\(tried)"), key: .some(key))
                #expect(!(200..<300).contains(asked.status), "\(endpoint) answered \(asked.status) to another reseller's key")
                #expect(asked.status == control.status && asked["code"] as? String == control["code"] as? String,
                        "\(endpoint): \(asked.status) \(asked["code"] ?? "") for theirs, \(control.status) \(control["code"] ?? "") for none")
                tried += 1
            }
            #expect(tried >= 35)
            #expect(try await world.snapshot(suite) == before)
        }
    }

    /// Malformed JSON, JSON of the wrong shape, an oversize body and hostile path segments, on
    /// every route, with an admin key: each answers 4xx problem details, never 5xx.
    @Test(arguments: Engine.allCases)
    func badInputOnEveryRouteIsA4xxProblem(engine: Engine) async throws {
        try await engine.withAPI { api, suite in
            let world = try await World.make(suite)
            let oversize = String(repeating: "x", count: maximumRequestBody + 1)
            var lengthHeader = HTTPFields()
            lengthHeader[.contentLength] = String(oversize.utf8.count)
            for endpoint in api.endpoints where !["/health/live", "/health/ready", "/metrics", "/openapi.yaml"].contains(endpoint.path) {
                let path = world.path(endpoint.path)
                if endpoint.method == .post || endpoint.method == .patch {
                    for raw in ["{\"name\": ", "[1, 2, 3]", "\"text\"", "{\"amount\": \"ten\", \"client\": 7, \"product\": []}",
                                #"{"name": "a\u0000b", "email": "x@example.com", "product": "p\u0000", "metadata": {"k": "\u0000"}}"#] {
                        let answer = try await api.call(endpoint.method, path, raw: raw, headers: keyed(UUID().uuidString))
                        #expect(answer.status < 500, "\(endpoint) with \(raw) answered \(answer.status)")
                    }
                    let big = try await api.call(endpoint.method, path, raw: oversize, headers: lengthHeader)
                    #expect(big.status == 413 && big["code"] as? String == "payload_too_large", "\(endpoint): \(big.status)")
                }
                if endpoint.method == .get {
                    let nul = try await api.call(.get, path + "?client=a%00b&reseller=%00&status=%00&from=%00&currency=%00&product=%00")
                    #expect(nul.status < 500, "\(endpoint) with NUL in its query answered \(nul.status)")
                }
                guard endpoint.path.contains("{") else { continue }
                for segment in ["%00", String(repeating: "Z", count: 5_000), "..%2F..%2Fetc", "%E2%80%AE%F0%9F%92%A5", "'%20OR%201=1--"] {
                    let hostile = endpoint.path.replacingOccurrences(of: #"\{[a-z]+\}"#, with: segment, options: .regularExpression)
                    let answer = try await api.call(endpoint.method, hostile, json: [String: Any](), headers: keyed(UUID().uuidString))
                    #expect((400..<500).contains(answer.status) || hostile.hasPrefix("/checkout"),
                            "\(endpoint) with \(segment.prefix(20)) answered \(answer.status)")
                    #expect(answer.status < 500, "\(endpoint) with \(segment.prefix(20)) answered \(answer.status)")
                    if answer.status >= 400, !hostile.hasPrefix("/checkout") {
                        #expect(answer.headers[.contentType] == "application/problem+json" && answer["code"] is String, "\(endpoint)")
                        #expect(!answer.text.contains("SELECT") && !answer.text.contains("Swift."), "\(endpoint): \(answer.text)")
                    }
                }
            }
        }
    }
}

/// One of everything, owned by a reseller ("South") other than the one whose key asks, or by no
/// reseller at all (billing is an admin's).
private struct World {
    var reseller: Refid
    var client: Refid
    var licence: Refid
    var product: String
    var plan: String
    var invoice: Refid
    var subscription: Refid

    static func make(_ suite: ClientSuite) async throws -> World {
        let south = try await suite.allies.make().user("u-south").company("Southwind").create()
        try await suite.allies.addCredits(south.refid, 10_000)
        let product = try await suite.products.create(name: "Pro", slug: "pro", price: 500, currency: "USD", licenceDays: 365)
        let client = try await suite.clients.make().name("Sue").email("sue@south.example").reseller(south.refid).create()
        let provisioned = try await suite.workflows.provision(reseller: south.refid, client: client.refid, product: product.slug,
                                                              idempotencyKey: "south-1")
        let standalone = try await suite.clients.make().name("Al").email("al@example.com").create()
        let plan = try await suite.subscriptions.plans.create(name: "Team", slug: "team", price: 900, currency: "USD", interval: .monthly)
        let subscription = try await suite.subscriptions.start(client: standalone.refid, plan: plan.refid, trialDays: 7)
        let invoice = try await suite.invoices.make().for(standalone.refid).currency("USD").amount(1_000).create()
        return World(reseller: south.refid, client: client.refid, licence: try #require(provisioned.licences.first?.licence.refid),
                     product: product.slug, plan: plan.slug, invoice: invoice.refid, subscription: subscription.subscription.refid)
    }

    /// `template` with each placeholder filled with this world's thing of that kind, or (when
    /// `missing`) with a refid of the same shape that names nothing.
    func path(_ template: String, missing: Bool = false) -> String {
        let kind = template.split(separator: "/").dropFirst().first.map(String.init) ?? ""  // /v1/KIND/…
        let refid: String = switch kind {
        case "clients": missing ? "CL-NOSUCHCLIENT0000000000000" : client.rawValue
        case "licences": missing ? "LC-NOSUCHLICENCE000000000000" : licence.rawValue
        case "resellers": missing ? "RS-NOSUCHRESELLER00000000000" : reseller.rawValue
        case "products": missing ? "no-such-product" : product
        case "plans": missing ? "no-such-plan" : plan
        case "invoices": missing ? "IN-NOSUCHINVOICE000000000000" : invoice.rawValue
        case "subscriptions": missing ? "SB-NOSUCHSUBSCRIPTION0000000" : subscription.rawValue
        default: missing ? "CL-NOSUCHCLIENT0000000000000" : client.rawValue  // wallets and workflow history take a client
        }
        return template.replacingOccurrences(of: "{refid}", with: refid).replacingOccurrences(of: "{client}", with: refid)
            .replacingOccurrences(of: "{currency}", with: "USD").replacingOccurrences(of: "{session}", with: "CS-NOSUCHSESSION")
    }

    /// What the other key must not change: each thing's state, the reseller's balance, and how
    /// many clients, licences, invoices and subscriptions there are.
    func snapshot(_ suite: ClientSuite) async throws -> [String] {
        [
            try await suite.clients.find(client).status.rawValue,
            try await suite.licences.find(licence).status.rawValue,
            String(try await suite.allies.balance(reseller)),
            try await suite.allies.find(reseller).status.rawValue,
            try await suite.invoices.find(invoice).status.rawValue,
            try await suite.subscriptions.find(subscription).status.rawValue,
            String(try await suite.clients.query().limit(500).fetch().items.count),
            String(try await suite.licences.query().limit(500).fetch().items.count),
            String(try await suite.invoices.list(limit: 500).items.count),
        ]
    }
}

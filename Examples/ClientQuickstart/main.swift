// ClientQuickstart — the Client module in one page. Run it with:
//
//     swift run ClientQuickstart
//
// It uses a private in-memory SQLite database, so it leaves nothing behind.

import Client
import Foundation
import Suite
import SuiteCore
import SuiteStorage

// 1. Open a database and install the Client module's tables (idempotent).
//    A path opens a SQLite file; a postgres:// URL opens PostgreSQL; ":memory:" is private and temporary.
let database = try SuiteDatabase.open(":memory:")
try await Clients.install(on: database)

// 2. The service. Configuration comes from CLIENT_* environment variables or a JSON file;
//    a ResellerDirectory (the Ally module) and a UserDirectory (your app) plug in here.
let clients = Clients(database: database, configuration: try await ClientConfiguration.load())

// Domain events arrive after commit.
let events = clients.events.subscribe()

// 3. Register a client with the fluent builder. Nothing is written unless every check passes.
let acme = try await clients.make()
    .name("Acme Corporation")
    .email("billing@acme.example")
    .metadata(["segment": "Enterprise", "seats": 40])
    .create(actor: "quickstart")
print("created \(acme.refid) — \(acme.name), \(acme.status)")

// 4. Errors are typed and use the specification's wording.
do {
    _ = try await clients.make().name("Acme again").email(" BILLING@acme.example ").create()
} catch let error as ClientError {
    print("refused: \(error)")  // Duplicate Email: a client with this email already exists
}

// 5. The lifecycle is a state machine; every move is audited.
try await clients.activate(acme.refid, actor: "quickstart", reason: "contract signed")
try await clients.suspend(acme.refid, actor: "quickstart", reason: "invoice overdue")
do {
    try await clients.activate(acme.refid)  // suspended clients are reinstated, not activated
} catch let error as ClientError where error.code == .statusTransitionDenied {
    print("refused: \(error)")
}
try await clients.reinstate(acme.refid, actor: "quickstart", reason: "paid")
for entry in try await clients.auditTrail(of: acme.refid) {
    print("audit: \(entry.event) \(entry.fromStatus?.rawValue ?? "-") → \(entry.toStatus?.rawValue ?? "-") by \(entry.actor)")
}

// 6. Several operations — even of several modules — can share one transaction.
let initech = try await database.write { tx in
    let client = try clients.make().name("Initech").email("ops@initech.example").create(in: tx)
    return try clients.transition(.activate, client.refid, in: tx)
}
print("created and activated \(initech.refid) atomically")

// 7. Scopes compose, and results come in pages.
let page = try await clients.query().active().standalone().limit(10).fetch()
print("active standalone clients: \(page.items.map(\.name))")

// 8. Analytics come from a rollup, so they cost the same at a hundred clients or a million.
let today = CivilDate(Date())
let trend = try await clients.analytics().daily().signupTrends(from: CivilDate(dayNumber: today.dayNumber - 2), to: today)
print("signups: " + trend.map { "\($0.bucket)=\($0.count)" }.joined(separator: ", "))
print("status: \(try await clients.analytics().statusBreakdown().counts.map { "\($0.key)=\($0.value)" }.sorted())")

var seen: [String] = []
for await event in events {
    seen.append(event.name)
    if seen.count == 6 { break }
}
print("events: \(seen.joined(separator: ", "))")
try await database.close()

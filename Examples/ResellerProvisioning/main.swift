// ResellerProvisioning — a reseller sells a licence to one of its clients, paid with credits.
// Run it with:
//
//     swift run ResellerProvisioning
//
// It uses a private in-memory SQLite database, so it leaves nothing behind. Pass a path or a
// postgres:// URL as the first argument to run it on a database of your own.

import Ally
import Client
import Forge
import Foundation
import Suite
import SuitePostgres
import SuiteSQLite
import SuiteCore
import Wallet
import Wave

// 1. One call opens the database, installs every module (idempotent) and wires the four modules
//    together through their boundary protocols.
let location = CommandLine.arguments.dropFirst().first ?? ":memory:"
let suite = try await ClientSuite.open(location, drivers: [.sqlite, .postgres])   // a file, :memory: or postgres://

// 2. Something to sell. Wave's product catalogue is also Forge's: a licence's product code is the
//    product's slug, and its duration comes from the product (here one year).
let slug = "pro-\(UUID().uuidString.prefix(4).lowercased())"
let product = try await suite.products.create(name: "Pro (1 year)", slug: slug, price: 4_900, currency: "USD", licenceDays: 365)
print("product \(product.slug): \(product.price) \(product.currency), \(product.licenceDays ?? 0) days")

// 3. A reseller (Ally) on the gold tier: 15% off every price. It buys credits up front.
let tag = UUID().uuidString.prefix(6)
let reseller = try await suite.allies.make().user("user-\(tag)").company("Northwind Partners").gold().create()
try await suite.allies.addCredits(reseller.refid, 10_000, idempotencyKey: "invoice-\(tag)")
print("reseller \(reseller.refid) has \(try await suite.allies.balance(reseller.refid)) credits")

// 4. The reseller's client. Client checks the reseller exists through Ally.
let acme = try await suite.clients.make().name("Acme Corporation").email("it-\(tag)@acme.example").reseller(reseller.refid).create()

// 5. Provision: price after tier discount → credits debited → licence minted and activated for
//    the client — one transaction, one idempotency key. One credit buys one minor unit of price.
let result = try await suite.workflows.provision(reseller: reseller.refid, client: acme.refid, product: product.slug,
                                                 idempotencyKey: "order-\(tag)")
let licence = result.licences[0]
print("spent \(result.cost) credits (4900 − 15%); balance \(result.balanceAfter)")
print("licence \(licence.licence.refid) for \(acme.name): \(licence.licence.status), expires \(licence.licence.expiresAt!)")
print("key (shown once; only its SHA-256 digest is stored): \(licence.key!.rawValue)")

// 6. The application verifies the key. The answer is right at the moment it is asked.
print("verify → \(try await suite.licences.verify(licence.key!).code)")

// 7. A retry with the same key (a timeout, a double click) spends nothing and mints nothing.
let retry = try await suite.workflows.provision(reseller: reseller.refid, client: acme.refid, product: product.slug,
                                                idempotencyKey: "order-\(tag)")
print("retried: new? \(retry.isNew); same licence? \(retry.licences[0].licence.refid == licence.licence.refid); balance \(retry.balanceAfter)")

// 8. Bulk provisioning is all or nothing: the whole batch must be affordable, decided inside the
//    transaction. Two more licences cost 8330 credits; the reseller has 5835.
var batch: [Refid] = []
for name in ["Globex", "Initech"] {
    batch.append(try await suite.clients.make().name(name).email("it-\(tag)@\(name.lowercased()).example").reseller(reseller.refid).create().refid)
}
do {
    _ = try await suite.workflows.provision(reseller: reseller.refid, clients: batch, product: product.slug, idempotencyKey: "bulk-\(tag)")
} catch let error as AllyError where error.code == .insufficientCredits {
    print("bulk refused, nothing written: \(error)")   // Insufficient Credits: balance 5835, cost 8330
}

// 9. A reseller reaches only its own clients: someone else's client is "not found".
let stranger = try await suite.clients.make().name("Standalone Ltd").email("hi-\(tag)@standalone.example").create()
do {
    _ = try await suite.workflows.provision(reseller: reseller.refid, client: stranger.refid, product: product.slug, idempotencyKey: "x-\(tag)")
} catch let error as WorkflowError {
    print("refused: \(error)")
}

// 10. The ledger proves every balance equals the sum of its entries.
print("ledger reconciles: \(try await suite.ledger.reconcile().isClean)")
try await suite.close()

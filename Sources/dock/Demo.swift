import Ally
import ArgumentParser
import Client
import Forge
import Foundation
import Suite
import SuiteCore
import SuiteStorage
import Wave

/// The README's main job: both workflows, end to end, on the embedded SQLite file.
struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run both workflows on the embedded SQLite database and show the result (safe to run again).")
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let today = CivilDate(Date())
        let clock = ManualWallClock(now: Date())
        print("== Installing every module into \(database.location)")
        try await withSuite(database, clock: clock, install: true) { suite in
            try await tour(suite, clock: clock, today: today)
        }
    }

    /// Sets the suite's clock to `daysAgo` days before today, at `hour`:`minute` UTC.
    private func at(_ clock: ManualWallClock, _ today: CivilDate, daysAgo: Int64, hour: Double = 10, minute: Double = 0) {
        clock.set(CivilDate(dayNumber: today.dayNumber - daysAgo).startOfDay.addingTimeInterval(hour * 3600 + minute * 60))
    }

    private func tour(_ suite: ClientSuite, clock: ManualWallClock, today: CivilDate) async throws {
        let run = Refid.generate(prefix: "").rawValue.prefix(6).lowercased()
        print("Run \(run): names, emails and idempotency keys carry it, so the demo can run again on the same file.")

        print("\n== The catalogue (Wave products, also Forge's product codes)")
        for (name, slug, price, days) in [("Pro (1 year)", "pro-1y", Int64(4_900), Optional(365)), ("Studio (lifetime)", "studio-life", 19_900, nil)] {
            if try await suite.products.findBySlug(slug) == nil {
                try await suite.products.create(name: name, slug: slug, price: price, currency: "USD", licenceDays: days, actor: "demo")
            }
        }
        var products: [Product] = []
        for slug in ["pro-1y", "studio-life"] { if let product = try await suite.products.findBySlug(slug) { products.append(product) } }
        printTable(["SLUG", "NAME", "PRICE", "LICENCE"], products.map {
            [$0.slug, $0.name, "\($0.price) \($0.currency)", $0.licenceDays.map { "\($0) days" } ?? "lifetime"]
        })

        // ── Workflow 1: a reseller provisions licences for its clients, paid with credits.
        print("\n== Workflow 1: a reseller provisions licences for its clients, paid with credits")
        at(clock, today, daysAgo: 13)
        let northwind = try await suite.allies.make().user("demo-\(run)-northwind").company("Northwind Partners \(run)").gold()
            .create(actor: "demo")
        try await suite.allies.addCredits(northwind.refid, 20_000, actor: "demo", idempotencyKey: "demo-\(run)-topup")
        print("\(northwind.company) (\(northwind.refid)), tier gold (15% off), bought 20000 credits")
        var resold: [Client] = []
        for (index, (name, daysAgo)) in [("Acme Corporation", Int64(12)), ("Globex", 12), ("Initech", 9), ("Umbrella Health", 4)].enumerated() {
            at(clock, today, daysAgo: daysAgo, minute: Double(index))
            resold.append(try await suite.clients.make().name(name).email("it+\(run)@\(slug(name)).example")
                .reseller(northwind.refid).create(actor: "northwind"))
        }
        at(clock, today, daysAgo: 9, hour: 15)
        let batch = try await suite.workflows.provision(reseller: northwind.refid, clients: resold.prefix(3).map(\.refid),
                                                        product: "pro-1y", idempotencyKey: "demo-\(run)-batch", actor: "northwind")
        print("bulk: 3 × pro-1y for \(batch.cost) credits in one transaction (4900 − 15% = 4165 each); balance \(batch.balanceAfter)")
        let again = try await suite.workflows.provision(reseller: northwind.refid, clients: resold.prefix(3).map(\.refid),
                                                        product: "pro-1y", idempotencyKey: "demo-\(run)-batch", actor: "northwind")
        print("the same request retried with its key: \(again.isNew ? "spent again (bug!)" : "nothing spent, same licences"); balance \(again.balanceAfter)")
        at(clock, today, daysAgo: 4, hour: 11)
        do {
            _ = try await suite.workflows.provision(reseller: northwind.refid, client: resold[3].refid, product: "studio-life",
                                                    idempotencyKey: "demo-\(run)-studio", actor: "northwind")
        } catch let error as AllyError where error.code == .insufficientCredits {
            print("studio-life for \(resold[3].name): refused, nothing written — \(error)")
        }
        let single = try await suite.workflows.provision(reseller: northwind.refid, client: resold[3].refid, product: "pro-1y",
                                                         idempotencyKey: "demo-\(run)-umbrella", actor: "northwind")
        print("pro-1y for \(resold[3].name) instead: \(single.cost) credits; balance \(single.balanceAfter)")
        var issued = batch.licences + single.licences
        for client in resold { try await suite.clients.activate(client.refid, actor: "northwind", reason: "licence provisioned") }
        print("Northwind activates its four clients")

        // ── Workflow 2: standalone clients buy through an invoice and a payment.
        print("\n== Workflow 2: standalone clients buy through an invoice and a payment")
        at(clock, today, daysAgo: 7)
        let hooli = try await suite.clients.make().name("Hooli").email("buy+\(run)@hooli.example").create(actor: "demo")
        try await suite.invoices.topUp(hooli.refid, amount: 10_000, currency: "USD", idempotencyKey: "demo-\(run)-hooli", actor: "demo")
        at(clock, today, daysAgo: 5)
        let byWallet = try await suite.workflows.purchase(.existing(hooli.refid), product: "pro-1y", idempotencyKey: "demo-\(run)-hooli")
        print("Hooli pays \(byWallet.invoice.number) from its wallet: \(byWallet.outcome.isPaid ? "paid" : "not paid"), client \(byWallet.client.status), "
              + "\(byWallet.licences.count) licence issued in the same transaction")
        issued += byWallet.licences

        at(clock, today, daysAgo: 2, hour: 9)
        let piper = try await suite.workflows.purchase(.new(name: "Pied Piper", email: "ops+\(run)@piedpiper.example"),
                                                       product: "studio-life", idempotencyKey: "demo-\(run)-piper")
        if case .requiresAction(let session) = piper.outcome {
            print("Pied Piper has no wallet funds: \(piper.invoice.number) requires action at \(session.url.absoluteString); client still \(piper.client.status)")
            at(clock, today, daysAgo: 2, hour: 9, minute: 5)
            let delivery = try await suite.gateway.complete(session.id)
            let webhooks = try await suite.webhooks()
            let first = try await webhooks.receive(delivery)
            let redelivered = try await webhooks.receive(delivery)
            print("the customer pays; the signed webhook arrives: \(describe(first)); delivered again: \(describe(redelivered))")
            issued += try suite.fulfilment.takeIssued(for: piper.invoice.refid) ?? []
        }
        at(clock, today, daysAgo: 0, hour: 8)
        let vandelay = try await suite.workflows.purchase(.new(name: "Vandelay Imports", email: "art+\(run)@vandelay.example"),
                                                          product: "pro-1y", idempotencyKey: "demo-\(run)-vandelay")
        print("Vandelay Imports opens a checkout and has not paid yet: client \(vandelay.client.status), no licence")
        clock.set(Date())

        // ── What the modules now say.
        print("\n== This run's clients")
        var mine: [Client] = []
        for refid in resold.map(\.refid) + [hooli.refid, piper.client.refid, vandelay.client.refid] {
            mine.append(try await suite.clients.find(refid))
        }
        printClients(mine)

        print("\n== Reseller balances")
        printTable(["RESELLER", "COMPANY", "TIER", "CREDITS"], [[northwind.refid.rawValue, northwind.company, northwind.tier.rawValue,
                                                                String(try await suite.allies.balance(northwind.refid))]])

        print("\n== Licences issued this run, verified by key")
        var rows: [[String]] = []
        for licence in issued {
            var code = "-"
            if let key = licence.key { code = try await suite.licences.verify(key).code.rawValue }
            let owner = mine.first { $0.refid == licence.licence.client }?.name ?? "-"
            rows.append([licence.licence.refid.rawValue, owner, licence.licence.product,
                         licence.licence.expiresAt.map { CivilDate($0).description } ?? "never", licence.key?.rawValue ?? "-", code])
        }
        printTable(["LICENCE", "CLIENT", "PRODUCT", "EXPIRES", "KEY", "VERIFY"], rows)
        if let key = issued.first?.key {
            try await suite.licences.revoke(issued[0].licence.refid, actor: "demo", reason: "demo: a revoked key fails verification")
            print("after revoking \(issued[0].licence.refid): verify → \(try await suite.licences.verify(key).code.rawValue)")
        }

        print("\n== Invoices this run")
        var invoices: [Invoice] = []
        for refid in [byWallet.invoice.refid, piper.invoice.refid, vandelay.invoice.refid] {
            invoices.append(try await suite.invoices.find(refid))
        }
        printTable(["NUMBER", "CLIENT", "TOTAL", "STATUS", "PAID BY"], invoices.map { invoice in
            [invoice.number, mine.first { $0.refid == invoice.client }?.name ?? "-", "\(invoice.total) \(invoice.currency)",
             invoice.status.rawValue, invoice.paymentMethod ?? "-"]
        })

        let from = CivilDate(dayNumber: today.dayNumber - 13)
        print("\n== Signups per day, last 14 days (all clients in this database)")
        printBars(try await suite.clients.analytics().daily().signupTrends(from: from, to: today), header: ["DAY", "SIGNUPS", ""])

        print("\n== Revenue per day, last 14 days (USD received, all clients in this database; Wave analytics)")
        let revenue = try await suite.invoices.analytics().daily().revenueTrends(from: from, to: today, currency: "USD")
        let top = revenue.map(\.amount).max() ?? 0
        printTable(["DAY", "REVENUE", ""], revenue.map { [$0.bucket, String($0.amount), bar($0.amount, of: top)] })

        print("\nTry: swift run dock workflow history \(hooli.refid)    |    swift run dock wave checkout complete "
              + "\((try? await suite.gateway.sessions(for: vandelay.invoice.refid).first?.id) ?? "CS-…")")
    }

    private func describe(_ outcome: WebhookOutcome) -> String {
        switch outcome {
        case .paid: "paid, client activated, licence issued"
        case .alreadyPaid: "already paid"
        case .duplicate: "duplicate, nothing changed"
        case .ignored: "ignored"
        }
    }

    private func slug(_ name: String) -> String { name.lowercased().replacingOccurrences(of: " ", with: "-") }
}
